// Autopilot gate evaluation: given an experiment's ramp plan, where it stands and what the
// metrics say, decide whether to advance, wait, or apply the plan's safety action. Pure.
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { SafetyAction, type RampGate, type RampPlan } from "@lotty/proto/experiment";
import type { MetricValue } from "@lotty/proto/metrics";
import { confidentlyWorse, crosses, fmt, higherIsBetter, pct, variantValue, worst, type MetricInfo } from "./rules.js";

export interface GateReading {
  gate: RampGate;
  /** Undefined when the metrics service returned nothing for it. */
  value?: MetricValue;
  info: MetricInfo;
}

export interface SrmReading {
  mismatch: boolean;
  insufficientData: boolean;
  pValue: number;
}

export interface AutopilotInput {
  plan: RampPlan;
  /** Index of the step being executed; -1 before the first. */
  currentStep: number;
  stepStart: Date;
  now: Date;
  variants: readonly { name: string; control: boolean }[];
  /** Exposures per variant since the step started; undefined when no metric reports them. */
  exposures?: Readonly<Record<string, bigint>>;
  guardrailFired: boolean;
  /** Undefined: not checked (only fetched once everything else would let the ramp progress). */
  srm?: SrmReading;
  gates: readonly GateReading[];
  held: boolean;
}

export type Verdict =
  | { kind: "advance"; to: number }
  | { kind: "promote"; variant: string }
  /** The last step completed healthy but nothing is to be promoted automatically. */
  | { kind: "finish" }
  | { kind: "wait" }
  | { kind: "breach"; safety: "pause" | "rollback" | "step_back"; to: number };

export interface AutopilotDecisionPlan {
  verdict: Verdict;
  reason: string;
  checks: JsonObject;
}

/** True for verdicts that move the ramp forward, which need the SRM check first. */
export function progresses(v: Verdict): boolean {
  return v.kind === "advance" || v.kind === "promote" || v.kind === "finish";
}

interface GateCheck {
  json: JsonObject;
  ok: boolean;
  why?: string;
}

/** Bounds hold on every treatment variant; the relative bound judged with the sequential CI. */
export function checkGate(r: GateReading, controlVariant: string): GateCheck {
  const { gate, value, info } = r;
  const json: JsonObject = { metric_key: gate.metricKey };
  if (gate.maxValue !== undefined) json.max_value = gate.maxValue;
  if (gate.minValue !== undefined) json.min_value = gate.minValue;
  if (gate.maxRelativeDegradation !== undefined) json.max_relative_degradation = gate.maxRelativeDegradation;
  if (!value) return { json: { ...json, ok: true, note: "no data" }, ok: true };

  const control = value.controlVariant || controlVariant;
  const treatments = value.variants.filter((s) => s.variant !== control && s.n > 0n).map((s) => ({ variant: s.variant, value: variantValue(s, info.type) }));
  const problems: string[] = [];
  const high = worst(treatments, false);
  const low = worst(treatments, true);
  if (high) json.max_observed = high.value;
  if (gate.maxValue !== undefined && high && crosses(high.value, gate.maxValue, false)) {
    problems.push(`${high.variant} ${gate.metricKey} ${fmt(high.value)} > max ${fmt(gate.maxValue)}`);
  }
  if (gate.minValue !== undefined && low && crosses(low.value, gate.minValue, true)) {
    problems.push(`${low.variant} ${gate.metricKey} ${fmt(low.value)} < min ${fmt(gate.minValue)}`);
  }
  if (gate.maxRelativeDegradation !== undefined) {
    const hb = higherIsBetter(info.direction);
    const bad = value.comparisons.filter((c) => c.variant !== control && confidentlyWorse(c, gate.maxRelativeDegradation!, hb));
    json.relative = value.comparisons
      .filter((c) => c.variant !== control)
      .map((c): JsonValue => ({ variant: c.variant, lift: c.relativeLift, lower: c.sequentialRelativeCi?.lower ?? null, upper: c.sequentialRelativeCi?.upper ?? null }));
    for (const c of bad) problems.push(`${c.variant} ${gate.metricKey} ${pct(c.relativeLift)} vs control, beyond ${pct(gate.maxRelativeDegradation)}`);
  }
  const ok = problems.length === 0;
  return { json: { ...json, ok, ...(ok ? {} : { broken: problems.join("; ") }) }, ok, why: ok ? undefined : problems.join("; ") };
}

function safetyOf(plan: RampPlan, step: number): { safety: "pause" | "rollback" | "step_back"; to: number } {
  switch (plan.onBreach) {
    case SafetyAction.ROLLBACK:
      return { safety: "rollback", to: step };
    case SafetyAction.STEP_BACK:
      // Nothing below the first step: stepping back from it means stopping the traffic, i.e. pause.
      return step > 0 ? { safety: "step_back", to: step - 1 } : { safety: "pause", to: step };
    default:
      return { safety: "pause", to: step };
  }
}

/** Decides the autopilot's next move for one running experiment. */
export function evaluateAutopilot(input: AutopilotInput): AutopilotDecisionPlan {
  const { plan, currentStep: step, now } = input;
  if (step < 0) {
    if (input.guardrailFired) return { verdict: { kind: "wait" }, reason: "a guardrail fired; not starting the ramp", checks: { guardrails: { fired: true, ok: false } } };
    if (input.held) return { verdict: { kind: "wait" }, reason: "autopilot held", checks: { held: true } };
    return { verdict: { kind: "advance", to: 0 }, reason: `starting the ramp at ${plan.steps[0].trafficAllocation}%`, checks: { step: 0 } };
  }

  const current = plan.steps[step];
  const control = input.variants.find((v) => v.control)?.name ?? "";
  const gates = input.gates.map((g) => checkGate(g, control));
  const checks: JsonObject = { step, traffic_allocation: current.trafficAllocation };
  checks.gates = gates.map((g) => g.json);

  const broken = gates.filter((g) => !g.ok);
  if (broken.length > 0) {
    const s = safetyOf(plan, step);
    return { verdict: { kind: "breach", ...s }, reason: `gate breached: ${broken.map((g) => g.why).join("; ")}; ${s.safety.replace("_", " ")}`, checks };
  }

  const waits: string[] = [];
  const requiredS = current.minDuration ? Number(current.minDuration.seconds) + current.minDuration.nanos / 1e9 : 0;
  const onStepS = Math.max(0, (now.getTime() - input.stepStart.getTime()) / 1000);
  checks.min_duration = { required_s: requiredS, observed_s: Math.round(onStepS), ok: onStepS >= requiredS };
  if (onStepS < requiredS) waits.push(`${Math.round(onStepS)}s of ${requiredS}s on step ${step + 1}`);

  const need = current.minExposuresPerVariant;
  if (need > 0n) {
    const observed: JsonObject = {};
    const short: string[] = [];
    for (const v of input.variants) {
      const n = input.exposures?.[v.name] ?? 0n;
      observed[v.name] = Number(n);
      if (n < need) short.push(`${v.name} ${n}/${need}`);
    }
    checks.min_exposures = { required: Number(need), observed, ok: short.length === 0 };
    if (short.length > 0) waits.push(`exposures ${short.join(", ")}`);
  }

  checks.guardrails = { fired: input.guardrailFired, ok: !input.guardrailFired };
  if (input.guardrailFired) waits.push("a guardrail fired this sweep");

  if (input.srm) {
    const ok = !input.srm.mismatch;
    checks.srm = { p_value: input.srm.pValue, mismatch: input.srm.mismatch, insufficient_data: input.srm.insufficientData, ok };
    if (!ok) waits.push(`sample ratio mismatch (p = ${input.srm.pValue.toExponential(2)})`);
  } else {
    checks.srm = { checked: false };
  }

  checks.held = input.held;
  if (input.held && waits.length === 0) waits.push("autopilot held");
  if (waits.length > 0) return { verdict: { kind: "wait" }, reason: `waiting: ${waits.join("; ")}`, checks };

  if (step + 1 < plan.steps.length) {
    return { verdict: { kind: "advance", to: step + 1 }, reason: `gates hold on step ${step + 1}; advancing to ${plan.steps[step + 1].trafficAllocation}%`, checks };
  }
  const treatments = input.variants.filter((v) => !v.control);
  if (plan.promoteOnSuccess && treatments.length === 1) {
    return { verdict: { kind: "promote", variant: treatments[0].name }, reason: `last step healthy; promoting ${treatments[0].name}`, checks };
  }
  return {
    verdict: { kind: "finish" },
    reason: plan.promoteOnSuccess ? `last step healthy; ${treatments.length} treatment variants, choose the winner by hand` : "last step healthy; ramp complete",
    checks,
  };
}
