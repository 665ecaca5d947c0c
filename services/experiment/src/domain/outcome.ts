import { OutcomeKind, type Experiment, type Variant } from "@lotty/proto/experiment";
import type { FieldViolation } from "./errors.js";

export interface Completion {
  outcome: OutcomeKind;
  winningVariant: string;
  rationale: string;
}

export const OUTCOME_NAMES: Record<OutcomeKind, string> = {
  [OutcomeKind.UNSPECIFIED]: "",
  [OutcomeKind.ROLLOUT_WINNER]: "rollout_winner",
  [OutcomeKind.ROLLBACK]: "rollback",
  [OutcomeKind.NO_EFFECT]: "no_effect",
};

/** Completion needs an outcome and a rationale; rolling out a winner needs a real variant. */
export function validateCompletion(exp: Experiment, c: Completion): FieldViolation[] {
  const out: FieldViolation[] = [];
  if (!(c.outcome in OUTCOME_NAMES) || c.outcome === OutcomeKind.UNSPECIFIED) {
    out.push({ field: "outcome", description: "is required (rollout_winner, rollback or no_effect)" });
  }
  if (c.rationale.trim() === "") out.push({ field: "rationale", description: "is required" });
  if (c.outcome === OutcomeKind.ROLLOUT_WINNER) {
    if (c.winningVariant === "") out.push({ field: "winning_variant", description: "is required with rollout_winner" });
    else if (!exp.variants.some((v) => v.name === c.winningVariant)) {
      out.push({ field: "winning_variant", description: `no variant named "${c.winningVariant}"` });
    }
  } else if (c.winningVariant !== "") {
    out.push({ field: "winning_variant", description: "is only allowed with rollout_winner" });
  }
  return out;
}

/** The variant whose value becomes the flag default, for a rollout-winner outcome. */
export function winnerOf(exp: Experiment, c: Completion): Variant | undefined {
  return c.outcome === OutcomeKind.ROLLOUT_WINNER ? exp.variants.find((v) => v.name === c.winningVariant) : undefined;
}
