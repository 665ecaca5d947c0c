/**
 * Metrics ingest and report benchmark (issue 5, "Scale"), on real Postgres and NATS JetStream.
 *
 *   node --import tsx bench/metrics/ingest-and-report.ts [--events N] [--reports 200] [--consumers 3] [--replicas 1] [--max-minutes M]
 *     [--now EPOCH_MS --report-out FILE]  (a fixed clock ingests identical events; the report is written to compare runs)
 *
 * One experiment (3 variants, 5 metrics). N metric events (default 10 M) plus one exposure per
 * subject (N / 9 subjects) are published as TrackedEvents batches of 1000 to lotty.metrics.events.
 * The metrics module's durable consumers exist before publishing but run only afterwards, so the
 * ingest figure is the consumers' drain rate of a backlog, not the publisher's speed (both share
 * the 2 cores otherwise). Then GetReport is called repeatedly. Everything lives in a fresh
 * database and a unique stream/namespace, removed at the end; the run aborts after --max-minutes.
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createClient, createRouterTransport } from "@connectrpc/connect";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { createNatsBus } from "@lotty/platform/bus";
import { dropDatabase, ensureDatabase, openPostgres } from "@lotty/platform/db";
import { Subjects } from "@lotty/platform/events";
import { namespacedBus } from "@lotty/platform/host";
import { createLogger } from "@lotty/platform/log";
import { createMetricsService } from "@lotty/metrics-service/server";
import { TrackedEventsSchema } from "@lotty/proto/events";
import { ExperimentService } from "@lotty/proto/experiment";
import { MetricsService, type Event, type Report } from "@lotty/proto/metrics";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startCpuSplit } from "./cpu-split.js";
import { DAY, EVENTS_PER_SUBJECT, EXPERIMENT, eventBatches, fakeExperimentService, runStart, setUpCatalog } from "./workload.js";

const { values: args } = parseArgs({
  options: {
    events: { type: "string", default: "10000000" },
    reports: { type: "string", default: "200" },
    consumers: { type: "string", default: "3" },
    // Metrics module replicas draining the backlog: this process and N − 1 child processes.
    replicas: { type: "string", default: "1" },
    "max-minutes": { type: "string", default: "20" },
    // A fixed clock (ms since the epoch) makes two runs ingest identical events, for --report-out.
    now: { type: "string" },
    // Writes the whole-run report (without compute_time) as JSON, to compare two runs.
    "report-out": { type: "string" },
    pg: { type: "string", default: "postgres://postgres@127.0.0.1:5432/postgres" },
    nats: { type: "string", default: "nats://127.0.0.1:4222" },
  },
});
const N = Number(args.events);
const REPORTS = Number(args.reports);
const CONSUMERS = Number(args.consumers);
const REPLICAS = Number(args.replicas);
const DEADLINE = Date.now() + Number(args["max-minutes"]) * 60_000;

const PUBLISH_CONCURRENCY = 32;

const tag = randomBytes(4).toString("hex");
const dbName = `lotty_bench_metrics_${tag}`;
const dbUrl = args.pg!.replace(/\/[^/]*$/, `/${dbName}`);
const namespace = `benchm${tag}`;
const stream = `BENCH_METRICS_${tag.toUpperCase()}`;

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
const fmt = (x: number) => x.toLocaleString("en-US", { maximumFractionDigits: 1 });
const load = () => loadavg().map((l) => l.toFixed(2)).join(" ");
const checkDeadline = () => {
  if (Date.now() > DEADLINE) throw new Error(`aborted: over ${args["max-minutes"]} minutes`);
};

/** A report as comparable JSON: compute_time differs on every call. */
const reportJson = (r: Report) => JSON.stringify({ ...r, computeTime: undefined }, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v), 1);

async function main(): Promise<void> {
  const cleanups: (() => Promise<unknown>)[] = [];
  const hardStop = setTimeout(() => {
    console.error(`aborted after ${args["max-minutes"]} minutes`);
    void Promise.allSettled(cleanups.reverse().map((c) => c())).finally(() => process.exit(2));
  }, DEADLINE - Date.now() + 60_000);
  hardStop.unref();
  // Ctrl-C or kill: still drop the database and the stream.
  const onSignal = () => void Promise.allSettled(cleanups.reverse().map((c) => c())).finally(() => process.exit(130));
  process.once("SIGINT", onSignal).once("SIGTERM", onSignal);
  try {
    await ensureDatabase(args.pg!, dbName);
    cleanups.push(() => dropDatabase(args.pg!, dbName));
    const db = openPostgres(dbUrl, { max: CONSUMERS + 3 });
    cleanups.push(() => db.close());
    const nats = await createNatsBus({ servers: args.nats!, stream, subjects: [`${namespace}.>`], name: "bench-metrics" });
    cleanups.push(async () => {
      const nc = await connect({ servers: args.nats! });
      await (await jetstreamManager(nc)).streams.delete(stream);
      await nc.close();
    });
    cleanups.push(() => nats.close());
    const bus = namespacedBus(nats, namespace);
    const logger = createLogger("bench-metrics", { level: "warn" });
    const experiment = createClient(ExperimentService, createRouterTransport((r) => r.service(ExperimentService, fakeExperimentService())));
    const startModule = async () => {
      const module = await createMetricsService({ db, bus, experiment, logger, eventConsumers: CONSUMERS });
      await module.start();
      return module;
    };

    // First start: migrations, catalog, metrics, and the durable consumers (they start at "new").
    let module = await startModule();
    const client = createClient(MetricsService, createRouterTransport((r) => module.register(r)));
    await setUpCatalog(client);
    await module.close();

    // Publish the backlog.
    const subjects = Math.ceil(N / EVENTS_PER_SUBJECT);
    const total = subjects * (EVENTS_PER_SUBJECT + 1);
    const now = args.now ? Number(args.now) : Date.now();
    const batches = eventBatches(subjects, now);
    const t0 = performance.now();
    let published = 0;
    const publisher = async () => {
      for (let b = batches.next(); !b.done; b = batches.next()) {
        checkDeadline();
        const events: Event[] = b.value;
        await bus.publish(Subjects.trackedEvents, toBinary(TrackedEventsSchema, create(TrackedEventsSchema, { events })));
        published += events.length;
      }
    };
    await Promise.all(Array.from({ length: PUBLISH_CONCURRENCY }, publisher));
    const publishS = (performance.now() - t0) / 1000;
    console.error(`published ${fmt(published)} events in ${fmt(publishS)} s`);

    // Drain it.
    const loadBefore = load();
    const cpu = startCpuSplit();
    const t1 = performance.now();
    // Replicas start inside the measured time (their start-up counts against the drain).
    const replicas = Array.from({ length: REPLICAS - 1 }, () =>
      spawn(
        process.execPath,
        ["--import", "tsx", fileURLToPath(new URL("./consumer-replica.ts", import.meta.url)), "--db", dbUrl, "--nats", args.nats!, "--stream", stream, "--namespace", namespace, "--consumers", String(CONSUMERS)],
        { stdio: ["ignore", "ignore", "inherit"] },
      ),
    );
    const stopReplicas = () => Promise.all(replicas.map((r) => (r.exitCode === null ? new Promise((done) => r.once("exit", done).kill("SIGTERM")) : undefined)));
    cleanups.push(stopReplicas);
    cpu.tag(replicas.map((r) => r.pid!), "replica processes");
    module = await startModule();
    // Done when every message is delivered and acked (acks follow commits). Postgres's row counters
    // are no clock for this: an idle backend reports its counts up to 10 s late.
    const monitor = await connect({ servers: args.nats! });
    cleanups.push(() => monitor.close());
    const jsm = await jetstreamManager(monitor);
    const unacked = async () => {
      let n = 0;
      for await (const c of jsm.consumers.list(stream)) n += c.num_pending + c.num_ack_pending;
      return n;
    };
    const inserted = async () => Number((await db.query<{ n: string }>("SELECT n_tup_ins::text AS n FROM pg_stat_user_tables WHERE schemaname = 'metrics' AND relname = 'events'")).rows[0]?.n ?? 0);
    const backends = async () => (await db.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")).rows.map((r) => r.pid);
    for (let last = 0, polls = 0; (await unacked()) > 0; polls++) {
      checkDeadline();
      await new Promise((r) => setTimeout(r, 200));
      if (polls % 5 > 0) continue;
      cpu.tag(await backends(), "postgres: this database");
      const n = await inserted();
      if (n - last >= 1_000_000 || last === 0) {
        console.error(`  stored ~${fmt(n)} / ${fmt(total)} (${fmt(n / ((performance.now() - t1) / 1000))} events/s)`);
        last = n;
      }
    }
    const ingestS = (performance.now() - t1) / 1000;
    const cpuSplit = cpu.stop();
    await stopReplicas();
    const loadAfter = load();
    const stored = Number((await db.query<{ n: string }>("SELECT count(*)::text AS n FROM metrics.events")).rows[0].n);
    if (stored !== total) throw new Error(`stored ${stored} events, sent ${total}`);
    await module.close();

    // Reports: served by the module behind a router transport (Connect serialisation included).
    module = await startModule();
    const reports = createClient(MetricsService, createRouterTransport((r) => module.register(r)));
    const timeReport = async (req: Parameters<typeof reports.getReport>[0]) => {
      const s = performance.now();
      const res = await reports.getReport(req);
      return { ms: performance.now() - s, res };
    };
    for (let i = 0; i < 5; i++) await timeReport({ experimentId: EXPERIMENT }); // warm-up
    const latencies: number[] = [];
    let sample;
    for (let i = 0; i < REPORTS; i++) {
      checkDeadline();
      const r = await timeReport({ experimentId: EXPERIMENT });
      latencies.push(r.ms);
      sample = r.res.report!;
    }
    latencies.sort((a, b) => a - b);
    // A window that cuts the run falls back to per-subject rows: a few calls, for comparison.
    const cut = [];
    let cutSample;
    for (let i = 0; i < 3; i++) {
      const r = await timeReport({ experimentId: EXPERIMENT, window: { start: timestampFromDate(new Date(runStart(now) + DAY)) } });
      cut.push(r.ms);
      cutSample = r.res.report!;
    }
    // The dynamics view: a daily cumulative series per metric (10 days), from one pass over the rollups per metric.
    const series = [];
    let points = 0;
    for (let i = 0; i < 3; i++) {
      const r = await timeReport({ experimentId: EXPERIMENT, includeTimeseries: true });
      series.push(r.ms);
      points = r.res.report!.metrics.reduce((t, m) => t + m.timeseries.length, 0);
    }
    await module.close();
    if (args["report-out"]) writeFileSync(args["report-out"], `${reportJson(sample!)}\n${reportJson(cutSample!)}\n`);

    const perEvent = (g: Parameters<typeof cpuSplit.seconds>[0]) => ((cpuSplit.seconds(g) * 1e6) / total).toFixed(1);
    const subjectsReported = sample!.variants.reduce((t, v) => t + Number(v.subjects), 0);
    if (subjectsReported !== subjects) throw new Error(`report counts ${subjectsReported} subjects, sent ${subjects}`);
    console.log(
      [
        `| figure | value |`,
        `|---|---|`,
        `| events published (metric events + exposures) | ${fmt(total)} (${fmt(N)} + ${fmt(subjects)}) |`,
        `| events stored (count(*) = sent) | ${fmt(stored)} |`,
        `| publish (32 in flight, batches of 1000) | ${fmt(total / publishS)} events/s |`,
        `| ingest through NATS (${REPLICAS} replica${REPLICAS > 1 ? "s" : ""} × ${CONSUMERS} concurrent transactions) | ${fmt(total / ingestS)} events/s (${fmt(ingestS)} s) |`,
        `| GetReport whole run (${REPORTS} calls, 5 metrics, CUPED) | p50 ${fmt(quantile(latencies, 0.5))} ms, p99 ${fmt(quantile(latencies, 0.99))} ms, max ${fmt(latencies.at(-1)!)} ms |`,
        `| GetReport with a window cutting the run (3 calls, per-subject rows) | ${cut.map((ms) => `${fmt(ms)} ms`).join(", ")} |`,
        `| GetReport whole run with daily time series (3 calls, ${points} points) | ${series.map((ms) => `${fmt(ms)} ms`).join(", ")} |`,
        ``,
        `load average (1, 5, 15 min) before the drain: ${loadBefore}; after: ${loadAfter}`,
        ``,
        cpuSplit.table,
        ``,
        `CPU per stored event during the drain: Postgres backends of this database ${perEvent("postgres: this database")} µs, ` +
          `other Postgres processes ${perEvent("postgres: other")} µs, NATS server ${perEvent("nats-server")} µs, this node process ${perEvent("this node process")} µs` +
          (REPLICAS > 1 ? `, replica processes ${perEvent("replica processes")} µs` : ""),
      ].join("\n"),
    );
  } finally {
    for (const c of cleanups.reverse()) await c().catch((err: unknown) => console.error("cleanup:", err));
    clearTimeout(hardStop);
  }
}

await main();
