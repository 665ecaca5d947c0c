import { create } from "@bufbuild/protobuf";
import { DurationSchema, type Duration, type Value } from "@bufbuild/protobuf/wkt";
import { ExperimentSchema, type Experiment, type RampGate, type SafetyAction } from "@lotty/proto/experiment";
import { DEFAULT_ROLLOUT_STEPS, DEFAULT_STEP_SECONDS } from "./ramp.js";

export interface RolloutSpec {
  name: string;
  owner: string;
  flagKey: string;
  description: string;
  targeting: string;
  /** Defaults to the flag's default value. */
  stableValue?: Value;
  canaryValue?: Value;
  stepAllocations: readonly number[];
  stepMinDuration?: Duration;
  gates: readonly RampGate[];
  onBreach: SafetyAction;
  minExposuresPerVariant?: bigint;
  /** Unset means true: a canary that passes every step is what the rollout is for. */
  promoteOnSuccess?: boolean;
}

export const STABLE = "stable";
export const CANARY = "canary";

/**
 * A progressive rollout is a plain experiment: control "stable" and candidate "canary" with
 * equal weights, so the guardrail compares equally sized groups at every step; the ramp step's
 * allocation is the share of traffic in the comparison, and everyone else keeps the flag default.
 */
export function rolloutExperiment(spec: RolloutSpec, flagDefault: Value | undefined): Experiment {
  const minDuration = spec.stepMinDuration ?? create(DurationSchema, { seconds: BigInt(DEFAULT_STEP_SECONDS) });
  const steps = spec.stepAllocations.length > 0 ? spec.stepAllocations : DEFAULT_ROLLOUT_STEPS;
  return create(ExperimentSchema, {
    name: spec.name,
    owner: spec.owner,
    flagKey: spec.flagKey,
    description: spec.description,
    hypothesis: `The canary is no worse than stable on ${spec.flagKey}.`,
    targeting: spec.targeting,
    trafficAllocation: 100,
    variants: [
      { name: STABLE, value: spec.stableValue ?? flagDefault, weight: 50, control: true },
      { name: CANARY, value: spec.canaryValue, weight: 50, control: false },
    ],
    rampPlan: {
      steps: steps.map((trafficAllocation) => ({
        trafficAllocation,
        minDuration,
        minExposuresPerVariant: spec.minExposuresPerVariant ?? 0n,
        gates: [...spec.gates],
      })),
      onBreach: spec.onBreach,
      promoteOnSuccess: spec.promoteOnSuccess ?? true,
    },
  });
}
