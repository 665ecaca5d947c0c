import { GuardrailAction } from "@lotty/proto/guardrail";

// Most drastic first: a rollback guardrail that fires must win over a pause on the same sweep.
const PRIORITY: Record<GuardrailAction, number> = {
  [GuardrailAction.ROLLBACK]: 0,
  [GuardrailAction.PAUSE]: 1,
  [GuardrailAction.STEP_BACK]: 2,
  [GuardrailAction.ALERT_ONLY]: 3,
  [GuardrailAction.UNSPECIFIED]: 4,
};

/** Guardrails in the order a sweep checks them: rollback, pause, step back, alert only; then by id. */
export function sweepOrder<G extends { action: GuardrailAction; id: string }>(guardrails: readonly G[]): G[] {
  return [...guardrails].sort((a, b) => PRIORITY[a.action] - PRIORITY[b.action] || a.id.localeCompare(b.id));
}

/** Whether a firing of this action changes the experiment (alert-only does not). */
export function acts(action: GuardrailAction): boolean {
  return action !== GuardrailAction.ALERT_ONLY;
}

/**
 * Given guardrails in sweep order and whether each fired, the firings to record: every one up to
 * and including the first that acts, since once an experiment is paused or rolled back the
 * rest no longer apply to the version they were judged on.
 */
export function firingsToHandle<G extends { action: GuardrailAction }, F>(evaluated: readonly { guardrail: G; firing?: F }[]): { guardrail: G; firing: F }[] {
  const out: { guardrail: G; firing: F }[] = [];
  for (const e of evaluated) {
    if (e.firing === undefined) continue;
    out.push({ guardrail: e.guardrail, firing: e.firing });
    if (acts(e.guardrail.action)) break;
  }
  return out;
}
