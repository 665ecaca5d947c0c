// A model canary across the five services as separate processes (real Postgres, Redis, NATS):
// CreateRollout (stable vs canary model version), then simulated traffic through Decide and
// TrackEvents and a Sweep per round; the autopilot ramps 1 → 5 → 25 → 50 → 100 % on error-rate and
// p95-latency gates and promotes the canary, or rolls it back when its error rate breaks the gate.
import { durationFromMs, timestampDate } from "@bufbuild/protobuf/wkt";
import type { Client } from "@connectrpc/connect";
import { ValueType } from "@lotty/proto/common";
import { DecisionReason, DecisionService, type DecideResponse } from "@lotty/proto/decision";
import { ExperimentService, ExperimentStatus, OutcomeKind, SafetyAction, type Experiment } from "@lotty/proto/experiment";
import { AutopilotAction, GuardrailService, type AutopilotDecision } from "@lotty/proto/guardrail";
import { MetricDirection, MetricsService, MetricType } from "@lotty/proto/metrics";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLottyStack, type LottyStack } from "../support/lotty-stack.js";
import { decideAll, eventFor, pollUntil, submitApproveStart, trackAll, waitForExposures, type EventInit } from "../support/scenario.js";

const STEPS = [1, 5, 25, 50, 100];
/** Minimum exposures per variant on every step: small, so a round of traffic is quick. */
const MIN_EXPOSURES = 3;
const MAX_ERROR_RATE = 0.1;
const MAX_P95_LATENCY_MS = 250;
const str = (value: string) => ({ kind: { case: "stringValue" as const, value } });

describe("model canary: autopilot ramp across separate services", () => {
  let stack: LottyStack;
  let owner: Client<typeof ExperimentService>;
  let approver: Client<typeof ExperimentService>;
  let decision: Client<typeof DecisionService>;
  let metrics: Client<typeof MetricsService>;
  let guardrails: Client<typeof GuardrailService>;

  beforeAll(async () => {
    stack = await startLottyStack();
    owner = stack.client(ExperimentService, "experiment", "alice");
    approver = stack.client(ExperimentService, "experiment", "bob");
    decision = stack.client(DecisionService, "decision");
    metrics = stack.client(MetricsService, "metrics", "alice");
    guardrails = stack.client(GuardrailService, "guardrail", "alice");
    await metrics.createEventType({ eventType: { key: "error", description: "an inference request failed" } });
    await metrics.createEventType({ eventType: { key: "inference", description: "an inference request; value = latency in ms" } });
    await metrics.createMetric({ metric: { key: "error_rate", name: "Error rate", type: MetricType.CONVERSION, eventType: "error", direction: MetricDirection.LOWER_IS_BETTER } });
    await metrics.createMetric({
      metric: { key: "latency_p95", name: "p95 latency", type: MetricType.PERCENTILE, percentile: 95, eventType: "inference", direction: MetricDirection.LOWER_IS_BETTER },
    });
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
  }, 30_000);

  /** A running rollout of model v2 over v1 on a new flag. */
  async function startRollout(name: string, onBreach: SafetyAction): Promise<Experiment> {
    const flagKey = `model.${name}`;
    await owner.createFlag({ key: flagKey, valueType: ValueType.STRING, defaultValue: str("model-v1") });
    const { experiment: draft } = await owner.createRollout({
      name,
      owner: "alice",
      flagKey,
      stableValue: str("model-v1"),
      canaryValue: str("model-v2"),
      stepAllocations: STEPS,
      stepMinDuration: durationFromMs(0),
      gates: [
        { metricKey: "error_rate", maxValue: MAX_ERROR_RATE },
        { metricKey: "latency_p95", maxValue: MAX_P95_LATENCY_MS },
      ],
      onBreach,
    });
    // CreateRollout has no fields for these: promote the canary when healthy at 100 %, and ask for
    // a few exposures per variant on each step (set while still a draft).
    const plan = draft!.rampPlan!;
    const { experiment: tuned } = await owner.updateExperiment({
      experiment: { id: draft!.id, rampPlan: { ...plan, promoteOnSuccess: true, steps: plan.steps.map((s) => ({ ...s, minExposuresPerVariant: BigInt(MIN_EXPOSURES) })) } },
      updateMask: { paths: ["ramp_plan"] },
      expectedVersion: draft!.version,
    });
    expect(tuned!.variants.map((v) => v.name)).toEqual(["stable", "canary"]);
    return submitApproveStart(owner, approver, tuned!);
  }

  /**
   * One round of traffic on the current step: fresh subjects until each variant has
   * MIN_EXPOSURES assignments, their exposures seen by the metrics service, then their events.
   */
  async function trafficRound(e: Experiment, round: number, canaryHealthy: boolean): Promise<void> {
    const { autopilot } = await guardrails.getAutopilot({ experimentId: e.id });
    const stepStart = autopilot?.stepStartTime ? timestampDate(autopilot.stepStartTime) : new Date(Date.now() - 60_000);
    const allocation = e.effectiveTrafficAllocation || STEPS[Math.max(0, e.currentRampStep)];
    const assigned: { d: DecideResponse; subject: string }[] = [];
    const count = { stable: 0, canary: 0 };
    for (let batch = 0; count.stable < MIN_EXPOSURES || count.canary < MIN_EXPOSURES; batch++) {
      if (batch > 20) throw new Error(`round ${round}: too few assignments at ${allocation}% (${JSON.stringify(count)})`);
      const size = Math.ceil((MIN_EXPOSURES * 2 * 100) / allocation);
      const subjects = Array.from({ length: size }, (_, i) => `${e.name}-r${round}b${batch}-${i}`);
      const decided = await decideAll(decision, e.flagKey, subjects);
      decided.forEach((d, i) => {
        if (d.reason !== DecisionReason.EXPERIMENT_ASSIGNED) return;
        assigned.push({ d, subject: subjects[i] });
        count[d.variant as keyof typeof count]++;
      });
    }
    await waitForExposures(metrics, e.id, "error_rate", stepStart, count);

    const events: EventInit[] = assigned.flatMap(({ d, subject }, i) => {
      const canary = d.variant === "canary";
      const latency = (canary ? 120 : 100) + (i % 10) * 5; // well under the p95 gate either way
      const fails = canary && !canaryHealthy ? i % 4 !== 0 : false;
      const out = [eventFor(d, subject, "inference", `${subject}-inf`, latency)];
      if (fails) out.push(eventFor(d, subject, "error", `${subject}-err`));
      return out;
    });
    await trackAll(metrics, events);
  }

  /** Sweeps until the experiment leaves RUNNING, sending a round of traffic before each sweep on a step. */
  async function driveRamp(e: Experiment, canaryHealthy: boolean): Promise<{ final: Experiment; decisions: AutopilotDecision[] }> {
    const decisions: AutopilotDecision[] = [];
    let cur = e;
    for (let round = 0; cur.status === ExperimentStatus.RUNNING; round++) {
      if (round > 15) throw new Error(`ramp did not finish: ${decisions.map((d) => `${AutopilotAction[d.action]} ${d.reason}`).join(" | ")}`);
      if (cur.currentRampStep >= 0) {
        // The decision service must serve this step's allocation before traffic means anything.
        const want = (await owner.getRuleset({})).ruleset!.version;
        await pollUntil(`decision service serving ruleset ${want}`, async () => ((await decision.getRulesetStatus({})).version >= want ? true : undefined));
        await trafficRound(cur, round, canaryHealthy);
      }
      const res = await guardrails.sweep({ experimentIds: [e.id] });
      decisions.push(...res.autopilotDecisions);
      cur = (await owner.getExperiment({ id: e.id })).experiment!;
    }
    return { final: cur, decisions };
  }

  it("a healthy canary is ramped step by step to 100 % and promoted; Decide then serves it as the default", async () => {
    const e = await startRollout("canary_ok", SafetyAction.ROLLBACK);
    // Starting puts the ramp on its first step.
    expect([e.currentRampStep, e.effectiveTrafficAllocation]).toEqual([0, STEPS[0]]);
    const { final } = await driveRamp(e, true);

    expect(final.status).toBe(ExperimentStatus.COMPLETED);
    expect(final.outcome).toMatchObject({ kind: OutcomeKind.ROLLOUT_WINNER, winningVariant: "canary" });
    const { autopilot } = await guardrails.getAutopilot({ experimentId: e.id });
    expect(autopilot!.done).toBe(true);
    const moves = autopilot!.decisions.filter((d) => d.action !== AutopilotAction.WAIT);
    // History is newest first: advance through every step, promote at the end.
    expect(moves.map((d) => [AutopilotAction[d.action], d.fromStep, d.toStep]).reverse()).toEqual([
      ["ADVANCE", 0, 1],
      ["ADVANCE", 1, 2],
      ["ADVANCE", 2, 3],
      ["ADVANCE", 3, 4],
      ["PROMOTE", 4, 4],
    ]);
    // Every move was judged on both gates and the exposures, all holding.
    for (const d of moves) {
      const checks = d.checks as unknown as { gates: { metric_key: string; ok: boolean }[]; min_exposures: { ok: boolean } };
      expect(checks.gates.map((g) => [g.metric_key, g.ok])).toEqual([["error_rate", true], ["latency_p95", true]]);
      expect(checks.min_exposures.ok).toBe(true);
    }

    const served = await pollUntil("canary served as the flag default", async () => {
      const d = await decision.decide({ subjectId: "after-promotion", flagKey: e.flagKey });
      return d.reason === DecisionReason.NO_ACTIVE_EXPERIMENT && d.value?.kind.value === "model-v2" ? d : undefined;
    });
    expect(served.value?.kind.value).toBe("model-v2");
  }, 75_000);

  it("a canary whose error rate breaks the gate is rolled back per the plan's on_breach", async () => {
    const e = await startRollout("canary_bad", SafetyAction.ROLLBACK);
    const { final } = await driveRamp(e, false);

    expect(final.status).toBe(ExperimentStatus.COMPLETED);
    expect(final.outcome?.kind).toBe(OutcomeKind.ROLLBACK);
    const { autopilot } = await guardrails.getAutopilot({ experimentId: e.id });
    expect(autopilot!.done).toBe(true);
    const [last] = autopilot!.decisions;
    expect(last.action).toBe(AutopilotAction.ROLLBACK);
    expect(last.reason).toContain("error_rate");
    const checks = last.checks as unknown as { gates: { metric_key: string; ok: boolean; max_observed: number }[] };
    const errorGate = checks.gates.find((g) => g.metric_key === "error_rate")!;
    expect(errorGate.ok).toBe(false);
    expect(errorGate.max_observed).toBeGreaterThan(MAX_ERROR_RATE);

    // Rolled back: the flag default (stable) is served again.
    await pollUntil("stable served after rollback", async () => {
      const d = await decision.decide({ subjectId: "after-rollback", flagKey: e.flagKey });
      return d.reason === DecisionReason.NO_ACTIVE_EXPERIMENT && d.value?.kind.value === "model-v1" ? d : undefined;
    });
  }, 60_000);
});
