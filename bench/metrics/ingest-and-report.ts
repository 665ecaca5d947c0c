/**
 * Metrics ingest and report benchmark (issue 5, "Scale"), on real Postgres and NATS JetStream.
 *
 *   node --import tsx bench/metrics/ingest-and-report.ts [--events N] [--reports 200] [--consumers 3]
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
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { createNatsBus } from "@lotty/platform/bus";
import { dropDatabase, ensureDatabase, openPostgres } from "@lotty/platform/db";
import { Subjects } from "@lotty/platform/events";
import { namespacedBus } from "@lotty/platform/host";
import { createLogger } from "@lotty/platform/log";
import { createMetricsService } from "@lotty/metrics-service/server";
import { TrackedEventsSchema } from "@lotty/proto/events";
import { ExperimentSchema, ExperimentService, VariantSchema } from "@lotty/proto/experiment";
import { EventFieldType, EventSchema, MetricRole, MetricsService, MetricType, type Event } from "@lotty/proto/metrics";
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";

const { values: args } = parseArgs({
  options: {
    events: { type: "string", default: "10000000" },
    reports: { type: "string", default: "200" },
    consumers: { type: "string", default: "3" },
    "max-minutes": { type: "string", default: "20" },
    pg: { type: "string", default: "postgres://postgres@127.0.0.1:5432/postgres" },
    nats: { type: "string", default: "nats://127.0.0.1:4222" },
  },
});
const N = Number(args.events);
const REPORTS = Number(args.reports);
const CONSUMERS = Number(args.consumers);
const DEADLINE = Date.now() + Number(args["max-minutes"]) * 60_000;

const EVENTS_PER_SUBJECT = 9;
const SUBJECTS_PER_MESSAGE = 100; // 100 exposures + 900 events = one TrackedEvents of 1000
const PUBLISH_CONCURRENCY = 32;
const EXPERIMENT = "bench-checkout";
const VARIANTS = ["control", "blue", "green"];
const DAY = 86_400_000;

const tag = randomBytes(4).toString("hex");
const dbName = `lotty_bench_metrics_${tag}`;
const dbUrl = args.pg!.replace(/\/[^/]*$/, `/${dbName}`);
const namespace = `benchm${tag}`;
const stream = `BENCH_METRICS_${tag.toUpperCase()}`;

/** Deterministic pseudo-random numbers (mulberry32), so runs are comparable. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * One subject's exposure and 9 events over a 9-day run ending now: pageviews (one of them in the
 * CUPED pre-period), purchases with a value (green converts a little more), a signup linked to
 * the decision (its type requires exposure).
 */
function subjectEvents(i: number, subjects: number, start: number, now: number, rand: () => number): Event[] {
  const variant = VARIANTS[i % 3];
  const exposedAt = start + Math.floor((i / subjects) * 9 * DAY);
  const ts = (t: number) => timestampFromDate(new Date(Math.min(t, now - 60_000)));
  const out: Event[] = [
    create(EventSchema, { eventId: `x${i}`, type: "exposure", subjectId: `u${i}`, decisionId: `d${i}`, experimentId: EXPERIMENT, variant, timestamp: ts(exposedAt) }),
  ];
  for (let j = 0; j < EVENTS_PER_SUBJECT; j++) {
    const r = rand();
    const buyRate = variant === "green" ? 0.27 : 0.25;
    const at = j === 0 ? exposedAt - (1 + Math.floor(rand() * 5)) * DAY : exposedAt + Math.floor(rand() * 12 * 3_600_000);
    const base = { eventId: `e${i}.${j}`, subjectId: `u${i}`, timestamp: ts(at) };
    if (j === 0 || r >= buyRate + 0.1) out.push(create(EventSchema, { ...base, type: "pageview" }));
    else if (r < buyRate) out.push(create(EventSchema, { ...base, type: "purchase", value: Math.round(Math.exp(3 + rand()) * 100) / 100 }));
    else out.push(create(EventSchema, { ...base, type: "signup", decisionId: `d${i}` }));
  }
  return out;
}

function fakeExperimentService() {
  return {
    async getExperiment(req: { id: string }) {
      if (req.id !== EXPERIMENT) throw new ConnectError(`experiment ${req.id} not found`, Code.NotFound);
      return { experiment: create(ExperimentSchema, { id: EXPERIMENT, variants: VARIANTS.map((name, i) => create(VariantSchema, { name, weight: 1, control: i === 0 })) }) };
    },
  };
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
const fmt = (x: number) => x.toLocaleString("en-US", { maximumFractionDigits: 1 });
const checkDeadline = () => {
  if (Date.now() > DEADLINE) throw new Error(`aborted: over ${args["max-minutes"]} minutes`);
};

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
    await client.createEventType({ eventType: { key: "pageview", requiresExposure: false } });
    await client.createEventType({ eventType: { key: "purchase", requiresExposure: false, fields: [{ name: "value", type: EventFieldType.NUMBER, required: true }] } });
    await client.createEventType({ eventType: { key: "signup", requiresExposure: true } });
    const metrics = [
      { key: "purchase_rate", type: MetricType.CONVERSION, eventType: "purchase", role: MetricRole.PRIMARY },
      { key: "revenue", type: MetricType.SUM, eventType: "purchase", role: MetricRole.SECONDARY },
      { key: "basket", type: MetricType.MEAN, eventType: "purchase", role: MetricRole.SECONDARY },
      { key: "pageviews", type: MetricType.COUNT, eventType: "pageview", role: MetricRole.SECONDARY },
      { key: "signup_rate", type: MetricType.CONVERSION, eventType: "signup", role: MetricRole.GUARDRAIL },
    ];
    for (const m of metrics) await client.createMetric({ metric: { key: m.key, name: m.key, type: m.type, eventType: m.eventType } });
    await client.setExperimentMetrics({ experimentId: EXPERIMENT, attachments: metrics.map((m) => ({ metricKey: m.key, role: m.role })) });
    await module.close();

    // Publish the backlog.
    const subjects = Math.ceil(N / EVENTS_PER_SUBJECT);
    const total = subjects * (EVENTS_PER_SUBJECT + 1);
    const now = Date.now();
    const start = now - 9 * DAY - 12 * 3_600_000;
    const rand = rng(42);
    const t0 = performance.now();
    let next = 0;
    let published = 0;
    const publisher = async () => {
      while (next < subjects) {
        checkDeadline();
        const from = next;
        next = Math.min(subjects, next + SUBJECTS_PER_MESSAGE);
        const events: Event[] = [];
        for (let i = from; i < next; i++) events.push(...subjectEvents(i, subjects, start, now, rand));
        await bus.publish(Subjects.trackedEvents, toBinary(TrackedEventsSchema, create(TrackedEventsSchema, { events })));
        published += events.length;
      }
    };
    await Promise.all(Array.from({ length: PUBLISH_CONCURRENCY }, publisher));
    const publishS = (performance.now() - t0) / 1000;
    console.error(`published ${fmt(published)} events in ${fmt(publishS)} s`);

    // Drain it.
    const t1 = performance.now();
    module = await startModule();
    const inserted = async () => Number((await db.query<{ n: string }>("SELECT n_tup_ins::text AS n FROM pg_stat_user_tables WHERE schemaname = 'metrics' AND relname = 'events'")).rows[0]?.n ?? 0);
    for (let last = 0; ; ) {
      checkDeadline();
      await new Promise((r) => setTimeout(r, 500));
      const n = await inserted();
      if (n >= total) break;
      if (n - last >= 1_000_000 || last === 0) {
        console.error(`  stored ~${fmt(n)} / ${fmt(total)} (${fmt(n / ((performance.now() - t1) / 1000))} events/s)`);
        last = n;
      }
    }
    // Stats counters lag commits slightly; the exact count must match what was sent.
    let stored = 0;
    for (;;) {
      stored = Number((await db.query<{ n: string }>("SELECT count(*)::text AS n FROM metrics.events")).rows[0].n);
      if (stored >= total) break;
      checkDeadline();
      await new Promise((r) => setTimeout(r, 200));
    }
    const ingestS = (performance.now() - t1) / 1000;
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
    for (let i = 0; i < 3; i++) cut.push((await timeReport({ experimentId: EXPERIMENT, window: { start: timestampFromDate(new Date(start + DAY)) } })).ms);
    await module.close();

    const subjectsReported = sample!.variants.reduce((t, v) => t + Number(v.subjects), 0);
    if (subjectsReported !== subjects) throw new Error(`report counts ${subjectsReported} subjects, sent ${subjects}`);
    console.log(
      [
        `| figure | value |`,
        `|---|---|`,
        `| events published (metric events + exposures) | ${fmt(total)} (${fmt(N)} + ${fmt(subjects)}) |`,
        `| events stored (count(*) = sent) | ${fmt(stored)} |`,
        `| publish (32 in flight, batches of 1000) | ${fmt(total / publishS)} events/s |`,
        `| ingest through NATS (${CONSUMERS} consumers) | ${fmt(total / ingestS)} events/s (${fmt(ingestS)} s) |`,
        `| GetReport whole run (${REPORTS} calls, 5 metrics, CUPED) | p50 ${fmt(quantile(latencies, 0.5))} ms, p99 ${fmt(quantile(latencies, 0.99))} ms, max ${fmt(latencies.at(-1)!)} ms |`,
        `| GetReport with a window cutting the run (3 calls, per-subject rows) | ${cut.map((ms) => `${fmt(ms)} ms`).join(", ")} |`,
      ].join("\n"),
    );
  } finally {
    for (const c of cleanups.reverse()) await c().catch((err: unknown) => console.error("cleanup:", err));
    clearTimeout(hardStop);
  }
}

await main();
