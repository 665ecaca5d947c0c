import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { RampPlanSchema, SafetyAction } from "@lotty/proto/experiment";
import { GuardrailAction, GuardrailSchema, RelativeRuleSchema, SloRuleSchema, ThresholdRuleSchema } from "@lotty/proto/guardrail";
import { MetricDirection, MetricType, MetricValueSchema } from "@lotty/proto/metrics";
import { describe, expect, it } from "vitest";
import { evaluateAutopilot, type AutopilotInput } from "../src/domain/autopilot.js";
import { burnRate, evaluateRelative, evaluateSlo, evaluateThreshold } from "../src/domain/rules.js";
import { firingsToHandle, sweepOrder } from "../src/domain/sweep-order.js";
import { forbiddenPaths, validateGuardrail } from "../src/domain/validation.js";
import { metricValue } from "./fakes.js";

const mv = (init: MessageInitShape<typeof MetricValueSchema>) => create(MetricValueSchema, { metricKey: "m", ...init });
const lower = { direction: MetricDirection.LOWER_IS_BETTER, type: MetricType.MEAN };
const higher = { direction: MetricDirection.HIGHER_IS_BETTER, type: MetricType.MEAN };

describe("threshold rule", () => {
  const rule = create(ThresholdRuleSchema, { threshold: 0.05 });
  it("fires on the worst variant when lower is better", () => {
    const f = evaluateThreshold(rule, mv(metricValue({ control: 0.01, b: 0.04, c: 0.09 })), lower);
    expect(f).toMatchObject({ variant: "c", observed: 0.09, threshold: 0.05 });
  });
  it("fires below the threshold when higher is better, control included", () => {
    const f = evaluateThreshold(rule, mv(metricValue({ control: 0.02, b: 0.06 })), higher);
    expect(f).toMatchObject({ variant: "control", observed: 0.02 });
  });
  it("does not fire within the threshold or without data", () => {
    expect(evaluateThreshold(rule, mv(metricValue({ control: 0.01, b: 0.05 })), lower)).toBeUndefined();
    expect(evaluateThreshold(rule, mv(metricValue({ control: 0.5, b: 0.9 }, { n: 0n })), lower)).toBeUndefined();
  });
});

describe("relative rule", () => {
  const rule = create(RelativeRuleSchema, { maxDegradation: 0.05, minSample: 500n });
  const value = (n: bigint, lower: number, upper: number) =>
    mv(metricValue({ control: 0.1, b: 0.08 }, { n, comparisons: [{ variant: "b", relativeLift: -0.2, lower, upper }] }));
  it("fires when the sequential CI lies wholly beyond the allowed degradation", () => {
    expect(evaluateRelative(rule, value(1000n, -0.3, -0.1), higher)).toMatchObject({ variant: "b", observed: -0.2, threshold: 0.05 });
  });
  it("does not fire when the CI reaches into the allowed band (noise)", () => {
    expect(evaluateRelative(rule, value(1000n, -0.3, -0.01), higher)).toBeUndefined();
  });
  it("does not fire below the minimum sample", () => {
    expect(evaluateRelative(rule, value(100n, -0.3, -0.1), higher)).toBeUndefined();
  });
  it("reads the CI the other way when lower is better", () => {
    const v = mv(metricValue({ control: 100, b: 130 }, { comparisons: [{ variant: "b", relativeLift: 0.3, lower: 0.1, upper: 0.5 }] }));
    expect(evaluateRelative(rule, v, lower)).toMatchObject({ variant: "b", observed: 0.3 });
    expect(evaluateRelative(rule, v, higher)).toBeUndefined();
  });
  it("honours a stricter alpha through the sequential p-value", () => {
    const strict = create(RelativeRuleSchema, { maxDegradation: 0.05, minSample: 0n, alpha: 0.0001 });
    expect(evaluateRelative(strict, value(1000n, -0.3, -0.1), higher)).toBeUndefined();
  });
});

describe("SLO burn rate", () => {
  it("is the error ratio over the error budget", () => {
    expect(burnRate(0.01, 0.995)).toBeCloseTo(2, 12);
    expect(burnRate(0.005, 0.995)).toBeCloseTo(1, 12);
    expect(burnRate(0, 0.999)).toBe(0);
  });
  const rule = create(SloRuleSchema, { objective: 0.995, burnRate: 10, longWindow: durationFromMs(3600_000), shortWindow: durationFromMs(300_000) });
  it("fires only when both windows burn above the rate", () => {
    // 0.06 / 0.005 = 12x; 0.04 / 0.005 = 8x.
    const hot = mv(metricValue({ control: 0.001, canary: 0.06 }));
    const cool = mv(metricValue({ control: 0.001, canary: 0.04 }));
    expect(evaluateSlo(rule, hot, hot, lower)).toMatchObject({ variant: "canary", threshold: 10 });
    expect(evaluateSlo(rule, hot, hot, lower)!.observed).toBeCloseTo(12, 9);
    expect(evaluateSlo(rule, hot, cool, lower)).toBeUndefined(); // over already
    expect(evaluateSlo(rule, cool, hot, lower)).toBeUndefined(); // a blip
  });
  it("ignores control", () => {
    const v = mv(metricValue({ control: 0.5, canary: 0.001 }));
    expect(evaluateSlo(rule, v, v, lower)).toBeUndefined();
  });
});

describe("sweep ordering", () => {
  const g = (id: string, action: GuardrailAction) => ({ id, action });
  it("puts rollback before pause before step back before alert", () => {
    const order = sweepOrder([g("a", GuardrailAction.ALERT_ONLY), g("b", GuardrailAction.PAUSE), g("c", GuardrailAction.ROLLBACK), g("d", GuardrailAction.STEP_BACK)]);
    expect(order.map((x) => x.id)).toEqual(["c", "b", "d", "a"]);
  });
  it("handles firings up to and including the first that acts", () => {
    const evaluated = [
      { guardrail: g("alert", GuardrailAction.ALERT_ONLY), firing: 1 },
      { guardrail: g("rb", GuardrailAction.ROLLBACK), firing: undefined },
      { guardrail: g("p", GuardrailAction.PAUSE), firing: 2 },
      { guardrail: g("p2", GuardrailAction.PAUSE), firing: 3 },
    ];
    expect(firingsToHandle(evaluated).map((x) => x.guardrail.id)).toEqual(["alert", "p"]);
  });
});

describe("validation", () => {
  const valid = {
    experimentId: "e1",
    metricKey: "error_rate",
    window: durationFromMs(3600_000),
    action: GuardrailAction.PAUSE,
    active: true,
    rule: { case: "threshold" as const, value: create(ThresholdRuleSchema, { threshold: 0.1 }) },
  };
  it("accepts a complete guardrail", () => {
    expect(validateGuardrail(create(GuardrailSchema, valid))).toEqual([]);
  });
  it("names every bad field", () => {
    const bad = create(GuardrailSchema, { ...valid, metricKey: "Bad Key", window: undefined, action: GuardrailAction.UNSPECIFIED, rule: { case: undefined } });
    expect(validateGuardrail(bad).map((v) => v.field)).toEqual(["guardrail.metric_key", "guardrail.window", "guardrail.action", "guardrail.rule"]);
  });
  it("checks SLO windows and objective", () => {
    const slo = create(SloRuleSchema, { objective: 1, burnRate: 14, longWindow: durationFromMs(60_000), shortWindow: durationFromMs(3600_000) });
    const fields = validateGuardrail(create(GuardrailSchema, { ...valid, rule: { case: "slo", value: slo } })).map((v) => v.field);
    expect(fields).toEqual(["guardrail.slo.objective", "guardrail.slo.short_window"]);
  });
  it("allows only threshold, window, action and active in an update mask", () => {
    expect(forbiddenPaths(["threshold", "window", "action", "active"])).toEqual([]);
    expect(forbiddenPaths(["active", "metric_key", "experiment_id"])).toEqual(["metric_key", "experiment_id"]);
  });
});

describe("autopilot gates", () => {
  const now = new Date("2026-01-01T12:00:00Z");
  const plan = create(RampPlanSchema, {
    steps: [1, 5, 25].map((a) => ({
      trafficAllocation: a,
      minDuration: durationFromMs(3600_000),
      minExposuresPerVariant: 100n,
      gates: [{ metricKey: "errors", maxValue: 0.02 }, { metricKey: "latency", maxRelativeDegradation: 0.1 }],
    })),
    onBreach: SafetyAction.STEP_BACK,
    promoteOnSuccess: true,
  });
  const healthy = () => [
    { gate: plan.steps[0].gates[0], value: mv(metricValue({ control: 0.01, canary: 0.015 })), info: lower },
    { gate: plan.steps[0].gates[1], value: mv(metricValue({ control: 100, canary: 102 }, { comparisons: [{ variant: "canary", relativeLift: 0.02, lower: -0.05, upper: 0.09 }] })), info: lower },
  ];
  const input = (over: Partial<AutopilotInput> = {}): AutopilotInput => ({
    plan,
    currentStep: 1,
    stepStart: new Date(now.getTime() - 2 * 3600_000),
    now,
    variants: [{ name: "control", control: true }, { name: "canary", control: false }],
    exposures: { control: 500n, canary: 500n },
    guardrailFired: false,
    srm: { mismatch: false, insufficientData: false, pValue: 0.4 },
    gates: healthy(),
    held: false,
    ...over,
  });

  it("advances when every gate holds", () => {
    const d = evaluateAutopilot(input());
    expect(d.verdict).toEqual({ kind: "advance", to: 2 });
    expect(d.checks.min_duration).toMatchObject({ ok: true });
    expect(d.checks.gates).toHaveLength(2);
  });
  it("waits for the minimum time, exposures, a quiet sweep, no SRM, and a released hold", () => {
    expect(evaluateAutopilot(input({ stepStart: new Date(now.getTime() - 60_000) })).verdict.kind).toBe("wait");
    expect(evaluateAutopilot(input({ exposures: { control: 500n, canary: 40n } })).reason).toContain("canary 40/100");
    expect(evaluateAutopilot(input({ guardrailFired: true })).verdict.kind).toBe("wait");
    expect(evaluateAutopilot(input({ srm: { mismatch: true, insufficientData: false, pValue: 1e-6 } })).reason).toContain("sample ratio mismatch");
    expect(evaluateAutopilot(input({ held: true })).reason).toContain("held");
  });
  it("applies the safety action on a breach: one step back", () => {
    const gates = healthy();
    gates[0] = { ...gates[0], value: mv(metricValue({ control: 0.01, canary: 0.05 })) };
    const d = evaluateAutopilot(input({ gates }));
    expect(d.verdict).toEqual({ kind: "breach", safety: "step_back", to: 0 });
    expect(d.reason).toContain("canary errors 0.05 > max 0.02");
  });
  it("pauses when stepping back from the first step is impossible", () => {
    const gates = healthy();
    gates[1] = { ...gates[1], value: mv(metricValue({ control: 100, canary: 150 }, { comparisons: [{ variant: "canary", relativeLift: 0.5, lower: 0.3, upper: 0.7 }] })) };
    expect(evaluateAutopilot(input({ currentStep: 0, gates })).verdict).toEqual({ kind: "breach", safety: "pause", to: 0 });
  });
  it("breaches even while held (holding stops advancing, not safety)", () => {
    const gates = healthy();
    gates[0] = { ...gates[0], value: mv(metricValue({ control: 0.01, canary: 0.05 })) };
    expect(evaluateAutopilot(input({ gates, held: true })).verdict.kind).toBe("breach");
  });
  it("promotes the single treatment at the last step, or finishes without promotion", () => {
    expect(evaluateAutopilot(input({ currentStep: 2 })).verdict).toEqual({ kind: "promote", variant: "canary" });
    const noPromote = create(RampPlanSchema, { ...plan, promoteOnSuccess: false });
    expect(evaluateAutopilot(input({ currentStep: 2, plan: noPromote })).verdict).toEqual({ kind: "finish" });
  });
  it("starts the ramp at the first step", () => {
    expect(evaluateAutopilot(input({ currentStep: -1 })).verdict).toEqual({ kind: "advance", to: 0 });
  });
});
