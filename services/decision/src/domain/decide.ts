import { BUCKETS, bucket, inAllocation, pickPrepared } from "@lotty/bucketing";
import {
  ConflictPolicy,
  type AssignmentRecord,
  DecisionReason,
  type CompiledDomain,
  type CompiledExperiment,
  type CompiledFlag,
  type CompiledRuleset,
  type DecideInput,
  type Decision,
  type FirstPhase,
  type SubjectHistory,
} from "./types.js";

function answer(flag: CompiledFlag, reason: DecisionReason, experimentId = ""): Decision {
  return { flagKey: flag.key, reason, value: flag.defaultValue, experimentId, variant: "", newAssignment: false, detail: "" };
}

function assigned(flag: CompiledFlag, e: CompiledExperiment, variant: string, newAssignment: boolean): Decision {
  return {
    flagKey: flag.key,
    reason: DecisionReason.EXPERIMENT_ASSIGNED,
    // A variant without a value serves the flag's default (e.g. a "control" that changes nothing).
    value: e.variantValues.get(variant) ?? flag.defaultValue,
    experimentId: e.id,
    variant,
    newAssignment,
    detail: "",
  };
}

/** Whether a conflict domain lets this subject into experiment e (pure, deterministic). */
function domainAdmits(domain: CompiledDomain, e: CompiledExperiment, input: DecideInput, compiled: CompiledRuleset): boolean {
  if (domain.policy === ConflictPolicy.PRIORITY) {
    // The highest-priority member the subject is eligible for (targeting) wins.
    for (const id of domain.byPriority) {
      const member = compiled.experiments.get(id);
      if (member && member.targeting(input.attributes)) return id === e.id;
    }
    return false;
  }
  // Mutual exclusion: one hash picks a starting slot in the id-sorted members; the subject
  // lands in the next maxConcurrent members from there (wrapping).
  const n = domain.memberIds.length;
  if (domain.maxConcurrent >= n) return true;
  const start = bucket(input.subjectId, domain.key, "domain") % n;
  const offset = (domain.memberIds.indexOf(e.id) - start + n) % n;
  return offset < domain.maxConcurrent;
}

/**
 * Phase one, pure and without I/O: answers everything that does not depend on the subject's
 * history (unknown flag, no running experiment, targeting, conflict domain, allocation,
 * no variants). Otherwise it names the experiment, and the caller fetches history for phase two.
 */
export function decideFirst(compiled: CompiledRuleset, input: DecideInput): FirstPhase {
  const flag = compiled.flags.get(input.flagKey);
  if (!flag) {
    return {
      kind: "done",
      decision: { flagKey: input.flagKey, reason: DecisionReason.FLAG_NOT_FOUND, value: undefined, experimentId: "", variant: "", newAssignment: false, detail: "" },
    };
  }
  if (flag.experiments.length === 0) return { kind: "done", decision: answer(flag, DecisionReason.NO_ACTIVE_EXPERIMENT) };

  let experiment: CompiledExperiment | undefined;
  for (const e of flag.experiments) {
    if (e.targeting(input.attributes)) {
      experiment = e;
      break;
    }
  }
  if (!experiment) return { kind: "done", decision: answer(flag, DecisionReason.TARGETING_MISMATCH) };
  for (const d of experiment.domains) {
    if (!domainAdmits(d, experiment, input, compiled)) return { kind: "done", decision: answer(flag, DecisionReason.DOMAIN_CONFLICT, experiment.id) };
  }
  // At 100 % every bucket is inside: skip the hash (sha256 is most of a decide's cost).
  if (experiment.allocationBasisPoints < BUCKETS && !inAllocation(input.subjectId, experiment.seed, experiment.allocationBasisPoints)) {
    return { kind: "done", decision: answer(flag, DecisionReason.OUTSIDE_TRAFFIC_ALLOCATION, experiment.id) };
  }
  if (experiment.variants.totalWeight === 0) return { kind: "done", decision: answer(flag, DecisionReason.NO_VARIANTS, experiment.id) };
  return { kind: "needs-history", flag, experiment, input };
}

/** Experiments (other than `except`) the subject counts as participating in at `nowMs`. */
function participations(history: SubjectHistory, except: string, cooldownMs: number): number {
  let n = 0;
  for (const a of history.assignments.values()) {
    if (a.experimentId === except) continue;
    const ended = history.endedAtMs.get(a.experimentId);
    // Running (or paused: it may resume) counts; an ended one counts until its cooldown is over.
    if (ended === undefined || history.nowMs < ended + cooldownMs) n++;
  }
  return n;
}

/**
 * Phase two, pure: stickiness first (an existing assignment keeps its variant even when weights
 * or allocation changed since; eligibility was re-checked in phase one), then the participation
 * limit, then a new assignment.
 */
export function decideSecond(phase: Extract<FirstPhase, { kind: "needs-history" }>, history: SubjectHistory): Decision {
  const { flag, experiment } = phase;
  const existing = history.assignments.get(experiment.id);
  if (existing) return decideSticky(phase, existing);
  const limit = experiment.maxConcurrentExperiments;
  if (limit > 0 && participations(history, experiment.id, experiment.cooldownMs) >= limit) {
    return answer(flag, DecisionReason.PARTICIPATION_LIMIT, experiment.id);
  }
  // Bucketed only now: a sticky subject never pays for the variant hash. totalWeight > 0 here.
  return assigned(flag, experiment, pickPrepared(phase.input.subjectId, experiment.seed, experiment.variants)!, true);
}

/**
 * Phase two for a subject already assigned in the experiment: the assignment wins before any
 * other check, so this is phase two's answer whatever else the history holds. The durable
 * record is the truth: even a variant removed since keeps the subject (it then serves the flag's
 * default), because Postgres would keep the first assignment anyway.
 */
export function decideSticky(phase: Extract<FirstPhase, { kind: "needs-history" }>, existing: AssignmentRecord): Decision {
  return assigned(phase.flag, phase.experiment, existing.variant, false);
}

/** Both phases in one call, for callers that already hold the history (tests, batch). */
export function decide(compiled: CompiledRuleset, input: DecideInput, history: SubjectHistory): Decision {
  const first = decideFirst(compiled, input);
  return first.kind === "done" ? first.decision : decideSecond(first, history);
}
