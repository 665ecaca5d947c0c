/**
 * Where one batch's time goes: the benchmark workload as the NATS consumers store it (TrackedEvents
 * decoded from protobuf, then trackEvents), without NATS, on one connection, one transaction at a
 * time, with each statement's wall time summed by its first line. Wall time not spent waiting on
 * Postgres is JavaScript (decoding, validation, attribution, encoding parameters, decoding results).
 *
 *   node --import tsx bench/metrics/ingest-profile.ts [--events 200000] [--messages 5] [--keep]
 *     [--cpu-profile FILE]  (a V8 CPU profile of the timed part only, for Chrome DevTools or speedscope)
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { createClient, createRouterTransport } from "@connectrpc/connect";
import { createMemoryBus } from "@lotty/platform/bus";
import { dropDatabase, ensureDatabase, openPostgres, type Db, type Queryable } from "@lotty/platform/db";
import { createLogger } from "@lotty/platform/log";
import { createMetricsService } from "@lotty/metrics-service/server";
import { TrackedEventsSchema } from "@lotty/proto/events";
import { ExperimentService } from "@lotty/proto/experiment";
import { MetricsService } from "@lotty/proto/metrics";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { startCpuSplit } from "./cpu-split.js";
import { trackEvents } from "../../services/metrics/src/ingest/track.js";
import { decodeTrackedEvents } from "../../services/metrics/src/ingest/tracked-events-decoding.js";
import { EVENTS_PER_SUBJECT, eventBatches, fakeExperimentService, setUpCatalog } from "./workload.js";

const { values: args } = parseArgs({
  options: {
    events: { type: "string", default: "200000" },
    // Leaves the database behind (its name is printed) to look at plans and sizes afterwards.
    keep: { type: "boolean", default: false },
    // Messages (1000 events each) per transaction: the consumers take up to 5 when messages queue up.
    messages: { type: "string", default: "5" },
    "cpu-profile": { type: "string" },
    pg: { type: "string", default: "postgres://postgres@127.0.0.1:5432/postgres" },
  },
});
const name = `lotty_bench_profile_${randomBytes(4).toString("hex")}`;

/** Sums wall time per statement (keyed by its first non-blank line). */
function timed(db: Db, spent: Map<string, number>): Db {
  const wrap = (q: Queryable): Queryable => ({
    async query(sql, params) {
      const label = sql.trim().split("\n")[0].slice(0, 90);
      const t = performance.now();
      try {
        return await q.query(sql, params);
      } finally {
        spent.set(label, (spent.get(label) ?? 0) + performance.now() - t);
      }
    },
  });
  return { ...db, query: wrap(db).query, transaction: (fn) => db.transaction((tx) => fn(wrap(tx))) };
}

await ensureDatabase(args.pg!, name);
const raw = openPostgres(args.pg!.replace(/\/[^/]*$/, `/${name}`), { max: 2 });
try {
  const bus = createMemoryBus();
  const experiment = createClient(ExperimentService, createRouterTransport((r) => r.service(ExperimentService, fakeExperimentService())));
  const module = await createMetricsService({ db: raw, bus, experiment, logger: createLogger("bench-profile", { level: "warn" }) });
  await setUpCatalog(createClient(MetricsService, createRouterTransport((r) => module.register(r))));

  const spent = new Map<string, number>();
  const db = timed(raw, spent);
  const subjects = Math.ceil(Number(args.events) / EVENTS_PER_SUBJECT);
  // Encoded before timing, decoded in the timed loop as the consumers do.
  const messages = [...eventBatches(subjects, Date.now())].map((events) => toBinary(TrackedEventsSchema, create(TrackedEventsSchema, { events })));
  const per = Number(args.messages);
  const batches = Array.from({ length: Math.ceil(messages.length / per) }, (_, i) => messages.slice(i * per, i * per + per));
  let events = 0;
  const lsn = async () => (await raw.query<{ lsn: string }>("SELECT pg_current_wal_lsn()::text AS lsn")).rows[0].lsn;
  const lsn0 = await lsn();
  const backends = async () => (await raw.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")).rows.map((r) => r.pid);
  const cpu = startCpuSplit(200);
  cpu.tag(await backends(), "postgres: this database");
  const inspector = new Session();
  if (args["cpu-profile"]) {
    inspector.connect();
    await inspector.post("Profiler.enable");
    await inspector.post("Profiler.start");
  }
  const node0 = process.cpuUsage();
  const t0 = performance.now();
  for (const group of batches) {
    const batch = group.flatMap((m) => decodeTrackedEvents(m).events);
    const res = await trackEvents(db, batch, new Date());
    if (res.accepted !== batch.length) throw new Error(`accepted ${res.accepted} of ${batch.length}`);
    events += batch.length;
  }
  const wall = performance.now() - t0;
  const nodeCpu = process.cpuUsage(node0);
  if (args["cpu-profile"]) {
    writeFileSync(args["cpu-profile"], JSON.stringify((await inspector.post("Profiler.stop")).profile));
    inspector.disconnect();
  }
  cpu.tag(await backends(), "postgres: this database");
  const pgCpuS = cpu.stop().seconds("postgres: this database");
  const nodeCpuS = (nodeCpu.user + nodeCpu.system) / 1e6;
  const walBytes = Number((await raw.query<{ b: string }>("SELECT pg_wal_lsn_diff($1::pg_lsn, $2::pg_lsn)::text AS b", [await lsn(), lsn0])).rows[0].b);
  const inDb = [...spent.values()].reduce((a, b) => a + b, 0);
  const rows = [...spent.entries()].sort((a, b) => b[1] - a[1]).map(([label, ms]) => `| ${(ms / 1000).toFixed(2)} | ${((100 * ms) / wall).toFixed(1)} % | \`${label.replaceAll("|", "\\|")}\` |`);
  console.log(
    [
      `${events.toLocaleString("en-US")} events on one connection: ${Math.round(events / (wall / 1000)).toLocaleString("en-US")} events/s, ${Math.round(walBytes / events)} bytes of WAL per event, load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`,
      `CPU per event: Postgres backends ${((pgCpuS * 1e6) / events).toFixed(1)} µs, node ${((nodeCpuS * 1e6) / events).toFixed(1)} µs`,
      "",
      "| s | share of wall time | statement |",
      "|---|---|---|",
      ...rows,
      `| ${((wall - inDb) / 1000).toFixed(2)} | ${((100 * (wall - inDb)) / wall).toFixed(1)} % | JavaScript (not waiting on Postgres) |`,
    ].join("\n"),
  );
  await module.close();
  await bus.close();
} finally {
  await raw.close();
  if (args.keep) console.error(`kept database ${name}`);
  else await dropDatabase(args.pg!, name);
}
