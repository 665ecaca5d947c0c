import type { Value } from "@bufbuild/protobuf/wkt";
import type { PreparedVariants } from "@lotty/bucketing";
import type { Attributes, CompiledRule } from "@lotty/targeting";
import { ConflictPolicy } from "@lotty/proto/experiment";
import { DecisionReason } from "@lotty/proto/decision";

export { ConflictPolicy, DecisionReason };

export interface CompiledDomain {
  readonly key: string;
  readonly policy: ConflictPolicy;
  /** Mutual exclusion: how many members one subject may land in (at least 1). */
  readonly maxConcurrent: number;
  /** Running members sorted by experiment id (the order the hash spreads subjects over). */
  readonly memberIds: readonly string[];
  /** Priority policy: members by priority descending, ties by id ascending. */
  readonly byPriority: readonly string[];
}

export interface CompiledExperiment {
  readonly id: string;
  readonly flagKey: string;
  readonly allocationBasisPoints: number;
  readonly seed: string;
  readonly variants: PreparedVariants;
  readonly variantValues: ReadonlyMap<string, Value>;
  readonly targeting: CompiledRule;
  readonly domains: readonly CompiledDomain[];
  /** 0 = unlimited. */
  readonly maxConcurrentExperiments: number;
  readonly cooldownMs: number;
  readonly version: bigint;
}

export interface CompiledFlag {
  readonly key: string;
  readonly defaultValue: Value | undefined;
  /** Running experiments on this flag, sorted by id; the first whose targeting matches applies. */
  readonly experiments: readonly CompiledExperiment[];
}

export interface CompiledRuleset {
  readonly version: bigint;
  readonly flags: ReadonlyMap<string, CompiledFlag>;
  readonly experiments: ReadonlyMap<string, CompiledExperiment>;
  /** Experiments left out because their targeting or variants did not compile (fail closed). */
  readonly errors: readonly { experimentId: string; message: string }[];
}

/** A subject's sticky assignment. */
export interface AssignmentRecord {
  readonly experimentId: string;
  readonly variant: string;
  readonly assignedAtMs: number;
}

/** What the second phase needs to know about the subject. */
export interface SubjectHistory {
  /** experiment id → assignment */
  readonly assignments: ReadonlyMap<string, AssignmentRecord>;
  /** experiment id → end time (ms) for experiments that completed or were archived */
  readonly endedAtMs: ReadonlyMap<string, number>;
  readonly nowMs: number;
}

export interface DecideInput {
  readonly subjectId: string;
  readonly flagKey: string;
  readonly attributes: Attributes;
}

export interface Decision {
  readonly flagKey: string;
  readonly reason: DecisionReason;
  readonly value: Value | undefined;
  readonly experimentId: string;
  readonly variant: string;
  /** True when this decision creates the subject's assignment in the experiment (to persist). */
  readonly newAssignment: boolean;
  readonly detail: string;
}

/** Phase one either answers or names the experiment whose answer depends on subject history. */
export type FirstPhase =
  | { readonly kind: "done"; readonly decision: Decision }
  | { readonly kind: "needs-history"; readonly flag: CompiledFlag; readonly experiment: CompiledExperiment; readonly input: DecideInput };
