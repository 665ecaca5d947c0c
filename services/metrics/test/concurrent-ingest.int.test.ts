import { createMemoryBus, type Bus } from "@lotty/platform/bus";
import { dropDatabase, ensureDatabase, openPostgres, type Db } from "@lotty/platform/db";
import { MetricType } from "@lotty/proto/metrics";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ev, exposure, fakeExperiments, startModule } from "./harness.js";

const ADMIN = process.env.LOTTY_TEST_PG_ADMIN ?? "postgres://postgres@127.0.0.1:5432/postgres";
const NAME = `lotty_metrics_int_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
const url = ADMIN.replace(/\/[^/]*$/, `/${NAME}`);

let dbs: Db[] = [];
let bus: Bus;
const exps = fakeExperiments();
let replicas: Awaited<ReturnType<typeof startModule>>[] = [];

beforeAll(async () => {
  await ensureDatabase(ADMIN, NAME);
  dbs = [openPostgres(url, { max: 4 }), openPostgres(url, { max: 4 })];
  bus = createMemoryBus();
  // Both replicas start (and migrate) at once: the migration lock serialises them.
  replicas = await Promise.all(dbs.map((db) => startModule(db, bus, exps)));
  exps.experiments.set("x-int", [{ name: "a", weight: 1, control: true }, { name: "b", weight: 1 }]);
  await replicas[0].client.createEventType({ eventType: { key: "click", requiresExposure: true } });
  await replicas[0].client.createMetric({ metric: { key: "clicks", name: "Clicks", type: MetricType.COUNT, eventType: "click" } });
}, 60_000);

afterAll(async () => {
  await Promise.all(replicas.map((r) => r.module.close()));
  await Promise.all(dbs.map((db) => db.close()));
  await bus.close();
  await dropDatabase(ADMIN, NAME);
});

describe("two replicas on one Postgres", () => {
  it("count every event once when both ingest the same batches at the same time", async () => {
    const subjects = Array.from({ length: 40 }, (_, i) => `s${i}`);
    const events = subjects.flatMap((s, i) => [
      exposure("x-int", s, i % 2 ? "b" : "a"),
      ...Array.from({ length: (i % 4) + 1 }, () => ev({ type: "click", subjectId: s })),
    ]);
    // Conversions and exposures split across batches in opposite orders on the two replicas,
    // so an event and the exposure it waits for race on different connections.
    const chunks = (list: typeof events, size: number) => Array.from({ length: Math.ceil(list.length / size) }, (_, i) => list.slice(i * size, i * size + size));
    const forward = chunks(events, 7);
    const backward = chunks([...events].reverse(), 5);
    const results = await Promise.all([
      Promise.all(forward.map((c) => replicas[0].client.trackEvents({ events: c }))),
      Promise.all(backward.map((c) => replicas[1].client.trackEvents({ events: c }))),
    ]);
    const totals = results.flat().reduce((t, r) => ({ accepted: t.accepted + r.accepted, duplicates: t.duplicates + r.duplicates }), { accepted: 0, duplicates: 0 });
    expect(totals).toEqual({ accepted: events.length, duplicates: events.length });

    const v = (await replicas[1].client.getMetricValue({ experimentId: "x-int", metricKey: "clicks" })).value!;
    const want = (variant: string) => {
      const counts = subjects.map((_, i) => i).filter((i) => (i % 2 ? "b" : "a") === variant).map((i) => (i % 4) + 1);
      return { n: BigInt(counts.length), mean: counts.reduce((a, b) => a + b, 0) / counts.length };
    };
    for (const s of v.variants) expect({ n: s.n, mean: s.mean }).toEqual(want(s.variant));
    expect(v.exposures).toEqual({ a: 20n, b: 20n });
    const pending = await dbs[0].query<{ n: string }>("SELECT count(*)::text AS n FROM metrics.pending_events");
    expect(pending.rows[0].n).toBe("0");
  });
});
