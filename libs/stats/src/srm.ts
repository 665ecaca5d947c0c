/** Sample ratio mismatch: Pearson χ² goodness of fit on unit counts (STATISTICS.md §4). */
import { chiSquareSf } from "./distributions/index.js";
import { fail, ok, type Result } from "./result.js";
import { requireCount } from "./validate.js";

/** GB DEFAULT_SRM_THRESHOLD and DEFAULT_SRM_MINIMINUM_COUNT_PER_VARIATION. */
export const DEFAULT_SRM_THRESHOLD = 0.001;
export const DEFAULT_SRM_MIN_PER_VARIANT = 8;

export interface SrmOptions {
  readonly threshold?: number;
  readonly minPerVariant?: number;
}

export type SrmStatus = "ok" | "srm" | "not-enough-traffic";

export interface SrmResult {
  readonly chiSquare: number;
  readonly df: number;
  readonly pValue: number;
  /** "not-enough-traffic" while Σo < minPerVariant·k: SRM is never flagged then. */
  readonly status: SrmStatus;
}

/**
 * X² = Σ (o_i − e_i)²/e_i with e_i = w_i/Σw · Σo, df = k − 1, p = P(χ²_{k−1} > X²).
 * Variants with weight ≤ 0 are skipped in the sum (df stays k − 1), as in GB. NO_DATA when Σo = 0.
 */
export function srmCheck(counts: readonly number[], weights?: readonly number[], opts: SrmOptions = {}): Result<SrmResult> {
  const k = counts.length;
  const w = weights ?? counts.map(() => 1);
  if (k < 2) throw new RangeError("srmCheck needs at least two variants");
  if (w.length !== k) throw new RangeError(`srmCheck: ${k} counts but ${w.length} weights`);
  counts.forEach((c, i) => requireCount(`counts[${i}]`, c));
  if (!w.every((x) => Number.isFinite(x)) || !w.some((x) => x > 0)) throw new RangeError("srmCheck: weights must be finite with at least one > 0");
  const total = counts.reduce((s, c) => s + c, 0);
  if (total === 0) return fail("NO_DATA");
  const weightSum = w.reduce((s, x) => s + (x > 0 ? x : 0), 0);
  let chiSquare = 0;
  counts.forEach((o, i) => {
    if (w[i] <= 0) return;
    const e = (w[i] / weightSum) * total;
    chiSquare += (o - e) ** 2 / e;
  });
  const df = k - 1;
  const pValue = chiSquareSf(chiSquare, df);
  const enough = total >= (opts.minPerVariant ?? DEFAULT_SRM_MIN_PER_VARIANT) * k;
  const status: SrmStatus = !enough ? "not-enough-traffic" : pValue < (opts.threshold ?? DEFAULT_SRM_THRESHOLD) ? "srm" : "ok";
  return ok({ chiSquare, df, pValue, status });
}
