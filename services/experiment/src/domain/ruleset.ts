import { create } from "@bufbuild/protobuf";
import { RulesetExperimentSchema, type Experiment, type RulesetExperiment } from "@lotty/proto/experiment";
import type { RuleAst } from "@lotty/targeting";
import { toBasisPoints } from "./allocation.js";
import { effectiveAllocation } from "./experiments.js";
import { effectiveParticipation, type Participation } from "./policy.js";

/** A running experiment as the decide path consumes it: AST embedded, limits resolved. */
export function compileExperiment(e: Experiment, ast: RuleAst, policy: Participation): RulesetExperiment {
  const limits = effectiveParticipation(policy, e.participation);
  return create(RulesetExperimentSchema, {
    id: e.id,
    flagKey: e.flagKey,
    allocationBasisPoints: toBasisPoints(effectiveAllocation(e)),
    bucketingSeed: e.bucketingSeed || e.id,
    variants: e.variants.map((v) => ({ name: v.name, value: v.value, weight: v.weight, control: v.control })),
    targetingAstJson: JSON.stringify(ast),
    domains: e.domains,
    maxConcurrentExperiments: limits.maxConcurrentExperiments,
    cooldownSeconds: BigInt(Math.round(limits.cooldownSeconds)),
    version: e.version,
  });
}
