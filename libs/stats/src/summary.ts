/** Per-variant mean and per-unit variance from sufficient statistics (STATISTICS.md §0, §2). */
import { fail, ok, type Result } from "./result.js";
import { requireCount, requireFinite } from "./validate.js";

/** Sufficient statistics of a mean metric: n units, Σy, Σy². */
export interface MeanStats {
  readonly n: number;
  readonly sum: number;
  readonly sumSq: number;
}

/** Sufficient statistics of a binary metric. */
export interface ProportionStats {
  readonly n: number;
  readonly successes: number;
}

/** Sufficient statistics of a ratio metric ΣM/ΣD (per randomisation unit: M numerator, D denominator). */
export interface RatioStats {
  readonly n: number;
  readonly sumM: number;
  readonly sumM2: number;
  readonly sumD: number;
  readonly sumD2: number;
  readonly sumMD: number;
}

/** What every comparison needs from a variant: n, its mean, and the variance of ONE unit. */
export interface VariantSummary {
  readonly n: number;
  readonly mean: number;
  readonly variance: number;
}

/**
 * Centred sum of products Σxy − ΣxΣy/n. Rounding makes it a few ulps off 0 when the data are
 * constant; anything within 64 ulps of the raw moment is treated as exactly 0 so that constant
 * data reports ZERO_VARIANCE instead of a huge statistic.
 */
export function centredMoment(n: number, sumXY: number, sumX: number, sumY: number): number {
  const raw = sumXY - (sumX * sumY) / n;
  const scale = Math.abs(sumXY) + Math.abs((sumX * sumY) / n);
  return Math.abs(raw) <= 64 * Number.EPSILON * scale ? 0 : raw;
}

/** Sample variance with n − 1, never negative. */
export function sampleVariance(n: number, sum: number, sumSq: number): number {
  return Math.max(0, centredMoment(n, sumSq, sum, sum)) / (n - 1);
}

export function summarizeMean(s: MeanStats): Result<VariantSummary> {
  requireCount("n", s.n);
  requireFinite("sum", s.sum);
  requireFinite("sumSq", s.sumSq);
  if (s.n <= 1) return fail("INSUFFICIENT_SAMPLE");
  return ok({ n: s.n, mean: s.sum / s.n, variance: sampleVariance(s.n, s.sum, s.sumSq) });
}

/** v = p(1 − p), without the n − 1 correction (GB convention). */
export function summarizeProportion(s: ProportionStats): Result<VariantSummary> {
  requireCount("n", s.n);
  requireCount("successes", s.successes);
  if (s.successes > s.n) throw new RangeError(`successes (${s.successes}) exceeds n (${s.n})`);
  if (s.n <= 1) return fail("INSUFFICIENT_SAMPLE");
  const p = s.successes / s.n;
  return ok({ n: s.n, mean: p, variance: p * (1 - p) });
}

/** Delta method: v_R = v_M/m_D² + v_D m_M²/m_D⁴ − 2 c_MD m_M/m_D³ (GB `variance_of_ratios`). */
export function summarizeRatio(s: RatioStats): Result<VariantSummary> {
  requireCount("n", s.n);
  for (const k of ["sumM", "sumM2", "sumD", "sumD2", "sumMD"] as const) requireFinite(k, s[k]);
  if (s.n <= 1) return fail("INSUFFICIENT_SAMPLE");
  if (s.sumD === 0) return fail("ZERO_DENOMINATOR");
  const mM = s.sumM / s.n;
  const mD = s.sumD / s.n;
  const vM = sampleVariance(s.n, s.sumM, s.sumM2);
  const vD = sampleVariance(s.n, s.sumD, s.sumD2);
  const cMD = centredMoment(s.n, s.sumMD, s.sumM, s.sumD) / (s.n - 1);
  const vR = vM / mD ** 2 + (vD * mM ** 2) / mD ** 4 - (2 * cMD * mM) / mD ** 3;
  return ok({ n: s.n, mean: mM / mD, variance: Math.max(0, vR) });
}
