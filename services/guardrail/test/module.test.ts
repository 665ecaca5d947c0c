import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { createMemoryBus } from "@lotty/platform/bus";
import { openPglite, type Db } from "@lotty/platform/db";
import { ExperimentStatus, OutcomeKind, RampPlanSchema, SafetyAction } from "@lotty/proto/experiment";
import { AutopilotAction, GuardrailAction, ThresholdRuleSchema } from "@lotty/proto/guardrail";
import { MetricDirection } from "@lotty/proto/metrics";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metricValue } from "./fakes.js";
import { ago, harness, HOUR, NOW, recordEvents, window } from "./harness.js";

let db: Db;
const bus = createMemoryBus();
let seq = 0;
const uid = (p: string) => `${p}-${++seq}`;
const variants = [
  { name: "control", control: true, weight: 50 },
  { name: "treatment", control: false, weight: 50 },
];
const flush = () => new Promise((r) => setTimeout(r, 10));

beforeAll(async () => {
  db = await openPglite();
});
afterAll(async () => {
  await bus.close();
  await db.close();
});

async function setup() {
  const h = await harness(db, bus);
  h.metrics.metric("error_rate", MetricDirection.LOWER_IS_BETTER);
  h.metrics.metric("latency", MetricDirection.LOWER_IS_BETTER);
  return h;
}

const threshold = (experimentId: string, action: GuardrailAction, t: number, metricKey = "error_rate") => ({
  guardrail: { experimentId, metricKey, window: window(HOUR), action, active: true, rule: { case: "threshold" as const, value: { threshold: t } } },
});

describe("guardrails", () => {
  it("pauses an experiment whose threshold is breached, records the trigger and publishes it", async () => {
    const h = await setup();
    const events = await recordEvents(bus);
    const e = h.exp.put({ id: uid("exp"), name: "checkout", flagKey: "checkout", owner: "team-a", variants });
    const { guardrail } = await h.client.createGuardrail(threshold(e.id, GuardrailAction.PAUSE, 0.05));
    h.metrics.values((q) => (q.experimentId === e.id ? metricValue({ control: 0.01, treatment: 0.12 }) : undefined));

    const res = await h.client.sweep({ experimentIds: [e.id] });
    expect(res.experimentsChecked).toBe(1);
    expect(res.guardrailsChecked).toBe(1);
    expect(res.triggers).toHaveLength(1);
    expect(res.triggers[0]).toMatchObject({ guardrailId: guardrail!.id, variant: "treatment", observedValue: 0.12, threshold: 0.05, applied: true, action: GuardrailAction.PAUSE });
    expect(h.exp.get(e.id).status).toBe(ExperimentStatus.PAUSED);
    expect(h.exp.calls.filter((c) => c.id === e.id)).toEqual([{ rpc: "pause", id: e.id, expectedVersion: 1n }]);

    const { triggers } = await h.client.listTriggers({ experimentId: e.id });
    expect(triggers.map((t) => [t.id, t.applied])).toEqual([[res.triggers[0].id, true]]);
    await flush();
    expect(events.triggered.filter((t) => t.experimentId === e.id)).toMatchObject([{ triggerId: res.triggers[0].id, action: "pause", applied: true, ruleKind: "threshold", owner: "team-a", windowSeconds: 3600n }]);
    await events.close();
  });

  it("rolls back rather than pauses when both fire, and stops there", async () => {
    const h = await setup();
    const e = h.exp.put({ id: uid("exp"), variants });
    await h.client.createGuardrail(threshold(e.id, GuardrailAction.PAUSE, 0.05));
    await h.client.createGuardrail(threshold(e.id, GuardrailAction.ROLLBACK, 0.1, "latency"));
    h.metrics.values((q) => (q.experimentId === e.id ? metricValue({ control: 0.01, treatment: 0.5 }) : undefined));

    const res = await h.client.sweep({ experimentIds: [e.id] });
    expect(res.triggers.map((t) => t.action)).toEqual([GuardrailAction.ROLLBACK]);
    expect(h.exp.calls.filter((c) => c.id === e.id)).toMatchObject([{ rpc: "complete", outcome: OutcomeKind.ROLLBACK }]);
    expect(h.exp.get(e.id).status).toBe(ExperimentStatus.COMPLETED);
  });

  it("dry run evaluates without acting or recording", async () => {
    const h = await setup();
    const e = h.exp.put({ id: uid("exp"), variants });
    await h.client.createGuardrail(threshold(e.id, GuardrailAction.PAUSE, 0.05));
    h.metrics.values(() => metricValue({ control: 0.01, treatment: 0.2 }));

    const res = await h.client.sweep({ experimentIds: [e.id], dryRun: true });
    expect(res.triggers).toHaveLength(1);
    expect(res.triggers[0]).toMatchObject({ id: "", applied: false });
    expect(res.triggers[0].detail).toContain("dry run, would pause");
    expect(h.exp.calls).toEqual([]);
    expect(h.exp.get(e.id).status).toBe(ExperimentStatus.RUNNING);
    expect((await h.client.listTriggers({ experimentId: e.id })).triggers).toEqual([]);
  });

  it("records the trigger unapplied when a person acts first, without failing the sweep", async () => {
    const h = await setup();
    const e = h.exp.put({ id: uid("exp"), variants });
    await h.client.createGuardrail(threshold(e.id, GuardrailAction.PAUSE, 0.05));
    h.metrics.values(() => metricValue({ control: 0.01, treatment: 0.2 }));
    // The person's pause lands between the sweep's read and its own pause.
    h.exp.onBeforeAct((id) => {
      const x = h.exp.get(id);
      if (x.status === ExperimentStatus.RUNNING) Object.assign(x, { status: ExperimentStatus.PAUSED, version: x.version + 1n });
    });

    const res = await h.client.sweep({ experimentIds: [e.id] });
    expect(res.triggers).toHaveLength(1);
    expect(res.triggers[0].applied).toBe(false);
    expect(res.triggers[0].detail).toContain("another actor changed the experiment first");
    const { triggers } = await h.client.listTriggers({ experimentId: e.id });
    expect(triggers.map((t) => t.applied)).toEqual([false]);
  });

  it("records an alert-only firing once per experiment version, however many sweeps see it", async () => {
    const h = await setup();
    const e = h.exp.put({ id: uid("exp"), variants });
    await h.client.createGuardrail(threshold(e.id, GuardrailAction.ALERT_ONLY, 0.05));
    h.metrics.values(() => metricValue({ control: 0.01, treatment: 0.2 }));

    const first = await h.client.sweep({ experimentIds: [e.id] });
    const second = await h.client.sweep({ experimentIds: [e.id] });
    expect(first.triggers.map((t) => t.applied)).toEqual([true]);
    expect(second.triggers).toEqual([]);
    expect((await h.client.listTriggers({ experimentId: e.id })).triggers).toHaveLength(1);
    expect(h.exp.get(e.id).status).toBe(ExperimentStatus.RUNNING);
  });

  it("keeps a failed action's trigger and lets a later sweep apply it", async () => {
    const h = await setup();
    const e = h.exp.put({ id: uid("exp"), variants });
    await h.client.createGuardrail(threshold(e.id, GuardrailAction.PAUSE, 0.05));
    h.metrics.values(() => metricValue({ control: 0.01, treatment: 0.2 }));
    h.exp.onBeforeAct(() => {
      throw new ConnectError("experiment service down", Code.Unavailable);
    });
    const failed = await h.client.sweep({ experimentIds: [e.id] });
    expect(failed.triggers[0].applied).toBe(false);
    expect(failed.triggers[0].detail).toContain("pause failed");

    h.exp.onBeforeAct(undefined);
    const retried = await h.client.sweep({ experimentIds: [e.id] });
    expect(retried.triggers.map((t) => [t.id, t.applied])).toEqual([[failed.triggers[0].id, true]]);
    expect(h.exp.get(e.id).status).toBe(ExperimentStatus.PAUSED);
    expect((await h.client.listTriggers({ experimentId: e.id })).triggers).toHaveLength(1);
  });

  it("fails the sweep when metric values cannot be read", async () => {
    const h = await setup();
    const e = h.exp.put({ id: uid("exp"), variants });
    await h.client.createGuardrail(threshold(e.id, GuardrailAction.PAUSE, 0.05));
    h.metrics.values(() => {
      throw new ConnectError("metrics down", Code.Unavailable);
    });
    const err = await h.client.sweep({ experimentIds: [e.id] }).catch((x: unknown) => ConnectError.from(x));
    expect((err as ConnectError).code).toBe(Code.Unavailable);
    expect(h.exp.get(e.id).status).toBe(ExperimentStatus.RUNNING);
  });

  it("fetches metric values in one batch for many experiments", async () => {
    const h = await setup();
    const ids = Array.from({ length: 20 }, () => h.exp.put({ id: uid("bulk"), variants }).id);
    for (const id of ids) await h.client.createGuardrail(threshold(id, GuardrailAction.PAUSE, 0.5));
    h.metrics.values(() => metricValue({ control: 0.01, treatment: 0.02 }));

    const res = await h.client.sweep({ experimentIds: ids });
    expect(res.experimentsChecked).toBe(20);
    expect(res.triggers).toEqual([]);
    expect(h.metrics.counts).toMatchObject({ batch: 1, requests: 20, single: 0 });
  });

  it("refuses to update a field other than threshold, window, action or active, naming it", async () => {
    const h = await setup();
    const e = h.exp.put({ id: uid("exp"), variants });
    const { guardrail } = await h.client.createGuardrail(threshold(e.id, GuardrailAction.PAUSE, 0.05));
    const err = await h.client
      .updateGuardrail({ guardrail: { ...guardrail!, metricKey: "latency" }, updateMask: { paths: ["metric_key"] } })
      .catch((x: unknown) => ConnectError.from(x));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.InvalidArgument);
    expect((err as ConnectError).rawMessage).toContain('field "metric_key"');

    const { guardrail: updated } = await h.client.updateGuardrail({
      guardrail: { ...guardrail!, rule: { case: "threshold", value: create(ThresholdRuleSchema, { threshold: 0.2 }) }, active: false },
      updateMask: { paths: ["threshold", "active"] },
    });
    expect(updated).toMatchObject({ active: false, version: 2n, metricKey: "error_rate", rule: { case: "threshold", value: { threshold: 0.2 } } });
  });

  it("refuses an invalid guardrail naming the field, and one on an unknown experiment", async () => {
    const h = await setup();
    const e = h.exp.put({ id: uid("exp"), variants });
    const bad = threshold(e.id, GuardrailAction.PAUSE, 0.05);
    const noRule = await h.client.createGuardrail({ guardrail: { ...bad.guardrail, rule: { case: undefined } } }).catch((x: unknown) => ConnectError.from(x));
    expect((noRule as ConnectError).code).toBe(Code.InvalidArgument);
    expect((noRule as ConnectError).rawMessage).toContain("guardrail.rule");
    const unknown = await h.client.createGuardrail(threshold("nope", GuardrailAction.PAUSE, 0.05)).catch((x: unknown) => ConnectError.from(x));
    expect((unknown as ConnectError).rawMessage).toContain("guardrail.experiment_id");
  });
});

describe("autopilot", () => {
  const plan = (onBreach: SafetyAction) =>
    create(RampPlanSchema, {
      steps: [1, 5, 25, 100].map((a) => ({ trafficAllocation: a, minDuration: window(HOUR), minExposuresPerVariant: 100n, gates: [{ metricKey: "error_rate", maxValue: 0.02 }] })),
      onBreach,
      promoteOnSuccess: true,
    });
  const canary = (h: Awaited<ReturnType<typeof setup>>, step: number, onBreach = SafetyAction.STEP_BACK, updatedAgo = 2 * HOUR) =>
    h.exp.put({
      id: uid("canary"),
      name: "model-canary",
      variants: [
        { name: "stable", control: true, weight: 50 },
        { name: "canary", control: false, weight: 50 },
      ],
      rampPlan: plan(onBreach),
      currentRampStep: step,
      updateTime: ago(updatedAgo),
    });
  const healthy = () => metricValue({ stable: 0.01, canary: 0.012 }, { control: "stable", exposures: 500n });
  const broken = () => metricValue({ stable: 0.01, canary: 0.08 }, { control: "stable", exposures: 500n });

  it("advances when the gates hold, records the decision and publishes it", async () => {
    const h = await setup();
    const events = await recordEvents(bus);
    const e = canary(h, 1);
    h.metrics.values(healthy);

    const res = await h.client.sweep({ experimentIds: [e.id] });
    expect(res.autopilotDecisions).toMatchObject([{ action: AutopilotAction.ADVANCE, fromStep: 1, toStep: 2, actor: "service:guardrail" }]);
    expect(res.autopilotDecisions[0].checks).toMatchObject({ min_duration: { ok: true }, srm: { mismatch: false, ok: true } });
    expect(h.exp.get(e.id).currentRampStep).toBe(2);
    expect(h.exp.calls).toContainEqual({ rpc: "setRampStep", id: e.id, expectedVersion: 1n, step: 2 });

    const { autopilot } = await h.client.getAutopilot({ experimentId: e.id });
    expect(autopilot).toMatchObject({ currentStep: 2, held: false, done: false });
    expect(autopilot!.decisions.map((d) => d.action)).toEqual([AutopilotAction.ADVANCE]);
    await flush();
    expect(events.stepped.filter((s) => s.experimentId === e.id)).toMatchObject([{ action: "advance", fromStep: 1, toStep: 2, trafficAllocation: 25 }]);
    await events.close();

    // The next sweep is on a fresh step: it waits for the minimum time (and records that once).
    const again = await h.client.sweep({ experimentIds: [e.id] });
    expect(again.autopilotDecisions).toMatchObject([{ action: AutopilotAction.WAIT }]);
    expect(again.autopilotDecisions[0].reason).toContain("0s of 3600s");
    expect(h.exp.get(e.id).currentRampStep).toBe(2);
  });

  it("steps back one step on a breach", async () => {
    const h = await setup();
    const e = canary(h, 2, SafetyAction.STEP_BACK);
    h.metrics.values(broken);
    const res = await h.client.sweep({ experimentIds: [e.id] });
    expect(res.autopilotDecisions).toMatchObject([{ action: AutopilotAction.STEP_BACK, fromStep: 2, toStep: 1 }]);
    expect(h.exp.get(e.id)).toMatchObject({ currentRampStep: 1, status: ExperimentStatus.RUNNING });
  });

  it("pauses on a breach when the plan says so, and stops driving the experiment", async () => {
    const h = await setup();
    const e = canary(h, 1, SafetyAction.PAUSE);
    h.metrics.values(broken);
    const res = await h.client.sweep({ experimentIds: [e.id] });
    expect(res.autopilotDecisions).toMatchObject([{ action: AutopilotAction.PAUSE }]);
    expect(h.exp.get(e.id).status).toBe(ExperimentStatus.PAUSED);
    expect((await h.client.getAutopilot({ experimentId: e.id })).autopilot!.done).toBe(true);
  });

  it("promotes the canary at the last step", async () => {
    const h = await setup();
    const e = canary(h, 3);
    h.metrics.values(healthy);
    const res = await h.client.sweep({ experimentIds: [e.id] });
    expect(res.autopilotDecisions).toMatchObject([{ action: AutopilotAction.PROMOTE }]);
    expect(h.exp.get(e.id)).toMatchObject({ status: ExperimentStatus.COMPLETED, outcome: { kind: OutcomeKind.ROLLOUT_WINNER, winningVariant: "canary" } });
  });

  it("does not advance on a sample-ratio mismatch or while a guardrail fires", async () => {
    const h = await setup();
    const e = canary(h, 1);
    h.metrics.values(healthy);
    h.metrics.setSrm({ mismatch: true, pValue: 1e-8 });
    const srm = await h.client.sweep({ experimentIds: [e.id] });
    expect(srm.autopilotDecisions).toMatchObject([{ action: AutopilotAction.WAIT }]);
    expect(srm.autopilotDecisions[0].reason).toContain("sample ratio mismatch");
    h.metrics.setSrm({ mismatch: false, pValue: 0.5 });

    await h.client.createGuardrail(threshold(e.id, GuardrailAction.ALERT_ONLY, 0.011));
    const fired = await h.client.sweep({ experimentIds: [e.id] });
    expect(fired.triggers).toHaveLength(1);
    expect(fired.autopilotDecisions[0].reason).toContain("a guardrail fired");
    expect(h.exp.get(e.id).currentRampStep).toBe(1);
  });

  it("holds, resumes and skips under audit", async () => {
    const h = await setup();
    const e = canary(h, 0);
    h.metrics.values(healthy);
    const headers = { headers: { "x-lotty-actor": "alice" } };

    const held = await h.client.holdAutopilot({ experimentId: e.id, reason: "investigating" }, headers);
    expect(held.autopilot).toMatchObject({ held: true, currentStep: 0 });
    const whileHeld = await h.client.sweep({ experimentIds: [e.id] });
    expect(whileHeld.autopilotDecisions[0]).toMatchObject({ action: AutopilotAction.WAIT });
    expect(h.exp.get(e.id).currentRampStep).toBe(0);

    await h.client.resumeAutopilot({ experimentId: e.id }, headers);
    const skipped = await h.client.skipRampStep({ experimentId: e.id, reason: "looks fine" }, headers);
    expect(skipped.autopilot!.currentStep).toBe(1);
    expect(h.exp.get(e.id).currentRampStep).toBe(1);
    const actions = skipped.autopilot!.decisions.map((d) => [d.action, d.actor]);
    expect(actions).toEqual(expect.arrayContaining([[AutopilotAction.HOLD, "alice"], [AutopilotAction.RESUME, "alice"], [AutopilotAction.SKIP, "alice"]]));
  });
});
