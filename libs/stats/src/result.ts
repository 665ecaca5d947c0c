/** Why a statistic could not be computed (STATISTICS.md §9). */
export type FailureReason = "INSUFFICIENT_SAMPLE" | "ZERO_VARIANCE" | "BASELINE_ZERO" | "ZERO_DENOMINATOR" | "NO_DATA";

export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: FailureReason };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = <T = never>(reason: FailureReason): Result<T> => ({ ok: false, reason });
