/** Two-variant comparisons for mean, proportion and ratio metrics (STATISTICS.md §1, §2, §9). */
import { normalSf } from "./distributions/index.js";
import { checkAlpha, DEFAULT_ALPHA, effectFrom, relativeEffect, welchDf, type EffectEstimate, type Interval } from "./effect.js";
import { fail, ok, type Result } from "./result.js";
import {
  summarizeMean,
  summarizeProportion,
  summarizeRatio,
  type MeanStats,
  type ProportionStats,
  type RatioStats,
  type VariantSummary,
} from "./summary.js";

export interface ComparisonOptions {
  /** Two-sided level; intervals are 1 − alpha. Default 0.05. */
  readonly alpha?: number;
}

export interface Comparison {
  readonly control: VariantSummary;
  readonly treatment: VariantSummary;
  /** D = m_B − m_A, SE unpooled. */
  readonly absolute: EffectEstimate;
  /** (m_B − m_A)/|m_A|; BASELINE_ZERO when m_A = 0. */
  readonly relative: Result<EffectEstimate>;
  /** The numbers a report shows by default for the absolute effect. */
  readonly report: { readonly pValue: number; readonly ci: Interval };
}

export interface PooledZTest {
  readonly se: number;
  readonly statistic: number;
  readonly pValue: number;
}

export interface ProportionComparison extends Comparison {
  /** Test under H0: p_A = p_B with the pooled rate (Z² equals Pearson χ² on the 2×2 table). */
  readonly pooled: PooledZTest;
}

/**
 * Shared core: Welch t and z on D and on the lift. One zero variance is computed (ν = n_other − 1,
 * see README); both zero is ZERO_VARIANCE.
 */
export function compareSummaries(a: VariantSummary, b: VariantSummary, alpha: number): Result<Omit<Comparison, "report">> {
  checkAlpha(alpha);
  if (a.variance === 0 && b.variance === 0) return fail("ZERO_VARIANCE");
  const se = Math.sqrt(a.variance / a.n + b.variance / b.n);
  const df = welchDf(a, b);
  const absolute = effectFrom(b.mean - a.mean, se, df, alpha);
  return ok({ control: a, treatment: b, absolute, relative: relativeEffect(a, b, df, alpha) });
}

function both<S>(control: S, treatment: S, summarize: (s: S) => Result<VariantSummary>): Result<readonly [VariantSummary, VariantSummary]> {
  const a = summarize(control);
  if (!a.ok) return a;
  const b = summarize(treatment);
  if (!b.ok) return b;
  return ok([a.value, b.value] as const);
}

function withWelchReport(r: Result<Omit<Comparison, "report">>): Result<Comparison> {
  if (!r.ok) return r;
  const { welch } = r.value.absolute;
  return ok({ ...r.value, report: { pValue: welch.pValue, ci: welch.ci } });
}

/** Mean metric: Welch t on D (report), lift with Welch ν and z. */
export function compareMeans(control: MeanStats, treatment: MeanStats, opts: ComparisonOptions = {}): Result<Comparison> {
  const s = both(control, treatment, summarizeMean);
  return s.ok ? withWelchReport(compareSummaries(s.value[0], s.value[1], opts.alpha ?? DEFAULT_ALPHA)) : s;
}

/** Ratio metric ΣM/ΣD via the delta method, then exactly like a mean. */
export function compareRatios(control: RatioStats, treatment: RatioStats, opts: ComparisonOptions = {}): Result<Comparison> {
  const s = both(control, treatment, summarizeRatio);
  return s.ok ? withWelchReport(compareSummaries(s.value[0], s.value[1], opts.alpha ?? DEFAULT_ALPHA)) : s;
}

/**
 * Proportions. Report: pooled-z p-value with the unpooled (Wald) z interval for D. The lift uses
 * the delta method with v = p(1 − p); `absolute.welch` / `relative.welch` are the GB-style alternative.
 */
export function compareProportions(
  control: ProportionStats,
  treatment: ProportionStats,
  opts: ComparisonOptions = {},
): Result<ProportionComparison> {
  const s = both(control, treatment, summarizeProportion);
  if (!s.ok) return s;
  const core = compareSummaries(s.value[0], s.value[1], opts.alpha ?? DEFAULT_ALPHA);
  if (!core.ok) return core;
  const pBar = (control.successes + treatment.successes) / (control.n + treatment.n);
  const se = Math.sqrt(pBar * (1 - pBar) * (1 / control.n + 1 / treatment.n));
  const statistic = core.value.absolute.estimate / se;
  const pooled = { se, statistic, pValue: Math.min(1, 2 * normalSf(Math.abs(statistic))) };
  return ok({ ...core.value, pooled, report: { pValue: pooled.pValue, ci: core.value.absolute.z.ci } });
}
