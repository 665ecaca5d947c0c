import { ExperimentStatus as S } from "@lotty/proto/experiment";
import { failedPrecondition } from "./errors.js";

/** Lowercase status names, as events and audit entries carry them. */
export function statusName(s: S): string {
  return (S[s] ?? "unspecified").toLowerCase();
}

/** The lifecycle graph; every edge not listed here is refused. */
export const TRANSITIONS: ReadonlyMap<S, readonly S[]> = new Map([
  [S.DRAFT, [S.IN_REVIEW, S.ARCHIVED]],
  [S.IN_REVIEW, [S.APPROVED, S.DRAFT, S.REJECTED]],
  [S.APPROVED, [S.RUNNING]],
  [S.RUNNING, [S.PAUSED, S.COMPLETED]],
  [S.PAUSED, [S.RUNNING, S.COMPLETED]],
  [S.COMPLETED, [S.ARCHIVED]],
  [S.REJECTED, [S.DRAFT, S.ARCHIVED]],
  [S.ARCHIVED, []],
]);

export function canTransition(from: S, to: S): boolean {
  return TRANSITIONS.get(from)?.includes(to) ?? false;
}

export function assertTransition(from: S, to: S): void {
  if (!canTransition(from, to)) {
    throw failedPrecondition(`experiment is ${statusName(from)}; cannot move to ${statusName(to)}`);
  }
}

/** Statuses in which an experiment holds its flag (at most one per flag). */
export const ACTIVE_STATUSES: readonly S[] = [S.RUNNING, S.PAUSED];

/** Once started, an experiment has served assignments; its assignment fields are frozen. */
export function hasStarted(s: S): boolean {
  return s === S.RUNNING || s === S.PAUSED || s === S.COMPLETED || s === S.ARCHIVED;
}

export function isTerminal(s: S): boolean {
  return s === S.COMPLETED || s === S.ARCHIVED;
}

/** Like assertTransition, for RPCs that take only some of the edges into `to`. */
export function assertTransitionFrom(from: S, allowed: readonly S[], to: S): void {
  if (!allowed.includes(from)) throw failedPrecondition(`experiment is ${statusName(from)}; cannot move to ${statusName(to)}`);
  assertTransition(from, to);
}
