import type { Duration } from "@bufbuild/protobuf/wkt";
import { SafetyAction, type RampPlan } from "@lotty/proto/experiment";
import { allocationProblem } from "./allocation.js";
import type { FieldViolation } from "./errors.js";

export const MAX_RAMP_STEPS = 20;
export const DEFAULT_ROLLOUT_STEPS: readonly number[] = [1, 5, 25, 50, 100];
export const DEFAULT_STEP_SECONDS = 3600;

export function durationSeconds(d: Duration | undefined): number {
  return d ? Number(d.seconds) + d.nanos / 1e9 : 0;
}

/** Steps increase strictly, each a valid allocation; gates name a metric and at least one bound. */
export function validateRampPlan(plan: RampPlan, field: string): FieldViolation[] {
  const out: FieldViolation[] = [];
  if (plan.steps.length === 0 || plan.steps.length > MAX_RAMP_STEPS) {
    out.push({ field: `${field}.steps`, description: `must have 1..${MAX_RAMP_STEPS} steps` });
  }
  plan.steps.forEach((s, i) => {
    const f = `${field}.steps[${i}]`;
    const alloc = allocationProblem(s.trafficAllocation);
    if (alloc) out.push({ field: `${f}.traffic_allocation`, description: alloc });
    else if (i > 0 && s.trafficAllocation <= plan.steps[i - 1].trafficAllocation) {
      out.push({ field: `${f}.traffic_allocation`, description: "must be greater than the previous step's" });
    }
    if (durationSeconds(s.minDuration) < 0) out.push({ field: `${f}.min_duration`, description: "must not be negative" });
    if (s.minExposuresPerVariant < 0n) out.push({ field: `${f}.min_exposures_per_variant`, description: "must not be negative" });
    s.gates.forEach((g, j) => {
      const gf = `${f}.gates[${j}]`;
      if (g.metricKey === "") out.push({ field: `${gf}.metric_key`, description: "is required" });
      if (g.maxValue === undefined && g.minValue === undefined && g.maxRelativeDegradation === undefined) {
        out.push({ field: gf, description: "needs max_value, min_value or max_relative_degradation" });
      }
      if (g.maxRelativeDegradation !== undefined && !(g.maxRelativeDegradation > 0)) {
        out.push({ field: `${gf}.max_relative_degradation`, description: "must be positive" });
      }
    });
  });
  return out;
}

/** Unset on_breach means pause: the least destructive safe action. */
export function withRampDefaults(plan: RampPlan): RampPlan {
  return { ...plan, onBreach: plan.onBreach === SafetyAction.UNSPECIFIED ? SafetyAction.PAUSE : plan.onBreach };
}
