/** Turning an estimate and its SE into z and Welch-t tests and intervals (STATISTICS.md §1). */
import { normalIsf, normalSf, studentTIsf, studentTSf } from "./distributions/index.js";
import { fail, ok, type Result } from "./result.js";
import type { VariantSummary } from "./summary.js";

export interface Interval {
  readonly lower: number;
  readonly upper: number;
}

export interface TestOutcome {
  readonly statistic: number;
  /** Two-sided, computed as 2·sf(|statistic|) so tiny values are not flushed to 0. */
  readonly pValue: number;
  readonly ci: Interval;
}

export interface WelchOutcome extends TestOutcome {
  readonly df: number;
}

export interface EffectEstimate {
  readonly estimate: number;
  readonly se: number;
  /** Normal reference distribution (large-n limit). */
  readonly z: TestOutcome;
  /** Student t on Welch–Satterthwaite df (GB TwoSidedTTest). */
  readonly welch: WelchOutcome;
}

export const DEFAULT_ALPHA = 0.05;

export function checkAlpha(alpha: number): void {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
}

/** ν = (s_A + s_B)² / (s_A²/(n_A − 1) + s_B²/(n_B − 1)), s_g = v_g/n_g. One zero variance gives n_other − 1. */
export function welchDf(a: VariantSummary, b: VariantSummary): number {
  const sa = a.variance / a.n;
  const sb = b.variance / b.n;
  return (sa + sb) ** 2 / (sa ** 2 / (a.n - 1) + sb ** 2 / (b.n - 1));
}

function outcome(estimate: number, se: number, critical: number, pValue: number): TestOutcome {
  return { statistic: estimate / se, pValue: Math.min(1, pValue), ci: { lower: estimate - critical * se, upper: estimate + critical * se } };
}

/** Requires se > 0 and df > 0 (callers return ZERO_VARIANCE otherwise). */
export function effectFrom(estimate: number, se: number, df: number, alpha: number): EffectEstimate {
  const stat = Math.abs(estimate / se);
  const z = outcome(estimate, se, normalIsf(alpha / 2), 2 * normalSf(stat));
  const welch = { ...outcome(estimate, se, studentTIsf(alpha / 2, df), 2 * studentTSf(stat, df)), df };
  return { estimate, se, z, welch };
}

/**
 * Lift L = (m_B − m_A)/|m_A| with Var(L) = v_B/(n_B m_A²) + v_A m_B²/(n_A m_A⁴).
 * Tested on the Welch ν of the absolute scale (GB) and on z.
 */
export function relativeEffect(a: VariantSummary, b: VariantSummary, df: number, alpha: number): Result<EffectEstimate> {
  if (a.mean === 0) return fail("BASELINE_ZERO");
  const variance = b.variance / (b.n * a.mean ** 2) + (a.variance * b.mean ** 2) / (a.n * a.mean ** 4);
  if (!(variance > 0)) return fail("ZERO_VARIANCE");
  return ok(effectFrom((b.mean - a.mean) / Math.abs(a.mean), Math.sqrt(variance), df, alpha));
}
