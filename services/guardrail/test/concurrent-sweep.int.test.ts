// Two guardrail replicas (two CronJob pods) on one real Postgres sweep the same breached
// experiments at the same moment: each experiment is paused exactly once, and every firing is
// recorded exactly once.
import { randomBytes } from "node:crypto";
import { createMemoryBus } from "@lotty/platform/bus";
import { dropDatabase, ensureDatabase, openPostgres, type Db } from "@lotty/platform/db";
import { ExperimentStatus } from "@lotty/proto/experiment";
import { GuardrailAction } from "@lotty/proto/guardrail";
import { MetricDirection } from "@lotty/proto/metrics";
import { afterAll, beforeAll, expect, it } from "vitest";
import { fakeExperimentService, fakeMetricsService, metricValue } from "./fakes.js";
import { harness, HOUR, NOW, recordEvents, window } from "./harness.js";

const ADMIN = process.env.LOTTY_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const NAME = `lotty_test_guardrail_${process.pid}_${randomBytes(4).toString("hex")}`;
const url = ADMIN.replace(/\/[^/]*$/, `/${NAME}`);
const bus = createMemoryBus();
let dbs: Db[] = [];

beforeAll(async () => {
  await ensureDatabase(ADMIN, NAME);
  dbs = [openPostgres(url, { max: 4 }), openPostgres(url, { max: 4 })];
}, 60_000);

afterAll(async () => {
  await Promise.all(dbs.map((db) => db.close()));
  await bus.close();
  await dropDatabase(ADMIN, NAME);
});

/** Holds every caller until `parties` have arrived, so both sweeps read the same versions. */
function barrier(parties: number): () => Promise<void> {
  let arrived = 0;
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return () => {
    if (++arrived >= parties) open();
    return opened;
  };
}

it("two sweeps at once (and a person) never act twice and never lose a trigger", async () => {
  const exp = fakeExperimentService(() => NOW);
  const metrics = fakeMetricsService();
  metrics.metric("error_rate", MetricDirection.LOWER_IS_BETTER);
  metrics.values(() => metricValue({ control: 0.01, treatment: 0.3 }));
  // Both replicas start (and migrate) together: the migration lock serialises them.
  const [a, b] = await Promise.all(dbs.map((db) => harness(db, bus, exp, metrics)));
  const events = await recordEvents(bus);

  const variants = [{ name: "control", control: true, weight: 1 }, { name: "treatment", control: false, weight: 1 }];
  const ids = Array.from({ length: 25 }, (_, i) => exp.put({ id: `exp-${String(i).padStart(2, "0")}`, variants }).id);
  for (const id of ids) {
    await a.client.createGuardrail({
      guardrail: { experimentId: id, metricKey: "error_rate", window: window(HOUR), action: GuardrailAction.PAUSE, active: true, rule: { case: "threshold", value: { threshold: 0.05 } } },
    });
  }

  const list = exp.impl.listExperiments!;
  const wait = barrier(2);
  exp.impl.listExperiments = async (req, ctx) => {
    const res = await list(req, ctx);
    await wait();
    return res;
  };
  // A person pauses experiment 0 in the instant between the sweeps' read and their action.
  exp.onBeforeAct((id) => {
    const e = exp.get(id);
    if (id === ids[0] && e.status === ExperimentStatus.RUNNING) Object.assign(e, { status: ExperimentStatus.PAUSED, version: e.version + 1n });
  });

  const [ra, rb] = await Promise.all([a.client.sweep({}), b.client.sweep({})]);

  // Exactly one change applied to each experiment (every applied change bumps the version).
  for (const id of ids) expect(exp.get(id)).toMatchObject({ status: ExperimentStatus.PAUSED, version: 2n });
  // Of the two sweeps, exactly one acted on each experiment: one pause call per experiment.
  const pauses = exp.calls.filter((c) => c.rpc === "pause");
  expect(pauses.map((c) => c.id).sort()).toEqual(ids);
  expect(pauses.every((c) => c.expectedVersion === 1n)).toBe(true);
  expect(exp.calls.filter((c) => c.rpc !== "pause")).toEqual([]);

  // One trigger per experiment across both sweeps, none lost; the one the person beat is
  // recorded as not applied.
  const returned = [...ra.triggers, ...rb.triggers];
  expect(returned.map((t) => t.experimentId).sort()).toEqual(ids);
  const { triggers } = await a.client.listTriggers({ pageSize: 1000 });
  expect(triggers.map((t) => t.experimentId).sort()).toEqual(ids);
  expect(triggers.filter((t) => !t.applied).map((t) => t.experimentId)).toEqual([ids[0]]);

  await new Promise((r) => setTimeout(r, 20));
  expect(events.triggered.map((t) => t.experimentId).sort()).toEqual(ids);
  // One sweep id per sweep.
  expect(new Set(events.triggered.map((t) => t.sweepId)).size).toBeLessThanOrEqual(2);
  await events.close();
  await Promise.all([a.module.close(), b.module.close()]);
}, 60_000);
