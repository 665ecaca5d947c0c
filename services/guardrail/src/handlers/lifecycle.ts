// The experiment service's lifecycle RPCs as the guardrail service uses them: always with the
// version the decision was judged on, so a concurrent sweep or person makes ours fail cleanly.
import type { JsonObject } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { OutcomeKind, type Experiment } from "@lotty/proto/experiment";
import type { Ctx } from "./context.js";

export type ActOutcome = { state: "applied"; experiment?: Experiment } | { state: "superseded" | "failed"; why: string };

/**
 * ABORTED (the version moved) and FAILED_PRECONDITION (no longer running) both mean another
 * actor changed the experiment first: not an error, just not ours to apply.
 */
export async function attempt(fn: () => Promise<{ experiment?: Experiment }>): Promise<ActOutcome> {
  try {
    return { state: "applied", experiment: (await fn()).experiment };
  } catch (err) {
    const e = ConnectError.from(err);
    const superseded = e.code === Code.Aborted || e.code === Code.FailedPrecondition;
    return { state: superseded ? "superseded" : "failed", why: `${Code[e.code]}: ${e.rawMessage}` };
  }
}

export function pause(ctx: Ctx, e: Experiment, reason: string, metadata: JsonObject): Promise<ActOutcome> {
  return attempt(() => ctx.experiment.pauseExperiment({ id: e.id, expectedVersion: e.version, reason, metadata: metadata }));
}

export function rollback(ctx: Ctx, e: Experiment, rationale: string, metadata: JsonObject): Promise<ActOutcome> {
  return attempt(() =>
    ctx.experiment.completeExperiment({
      id: e.id,
      expectedVersion: e.version,
      outcome: OutcomeKind.ROLLBACK,
      rationale,
      metadata: metadata,
    }),
  );
}

export function promote(ctx: Ctx, e: Experiment, variant: string, rationale: string, metadata: JsonObject): Promise<ActOutcome> {
  return attempt(() =>
    ctx.experiment.completeExperiment({
      id: e.id,
      expectedVersion: e.version,
      outcome: OutcomeKind.ROLLOUT_WINNER,
      winningVariant: variant,
      rationale,
      metadata: metadata,
    }),
  );
}

export function setStep(ctx: Ctx, e: Experiment, step: number, reason: string, metadata: JsonObject): Promise<ActOutcome> {
  return attempt(() => ctx.experiment.setRampStep({ id: e.id, expectedVersion: e.version, step, reason, metadata: metadata }));
}
