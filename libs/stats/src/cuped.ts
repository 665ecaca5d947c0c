/** CUPED regression adjustment with a pre-period covariate X (STATISTICS.md §3). */
import { checkAlpha, DEFAULT_ALPHA, effectFrom, welchDf, type EffectEstimate, type Interval } from "./effect.js";
import { fail, ok, type Result } from "./result.js";
import { centredMoment, type MeanStats } from "./summary.js";
import { requireCount, requireFinite } from "./validate.js";

/** Metric sufficient statistics plus the pre-period covariate: ΣX, ΣX², ΣXY. */
export interface CupedStats extends MeanStats {
  readonly sumX: number;
  readonly sumX2: number;
  readonly sumXY: number;
}

export interface CupedOptions {
  readonly alpha?: number;
  /** "proportion" uses divisor n for variances and covariance (GB for 0/1 metrics); default "mean" (n − 1). */
  readonly metric?: "mean" | "proportion";
}

export interface CupedVariant {
  readonly n: number;
  /** Unadjusted mean of Y. */
  readonly mean: number;
  /** Centred adjusted mean m_Y − θ(m_X − x̄_all): stays on the metric's scale. */
  readonly adjustedMean: number;
  /** Per-unit variance of Y, and of y − θx. */
  readonly variance: number;
  readonly adjustedVariance: number;
}

export interface CupedComparison {
  /** OLS slope of Y on X over the union of both variants; 0 when Var(X) or Var(Y) is 0. */
  readonly theta: number;
  readonly control: CupedVariant;
  readonly treatment: CupedVariant;
  readonly absolute: EffectEstimate;
  /** D_adj/|m_Y,A| with the full delta-method gradient. */
  readonly relative: Result<EffectEstimate>;
  /** 1 − SE(D_adj)²/SE(D)². */
  readonly varianceReduction: number;
  readonly report: { readonly pValue: number; readonly ci: Interval };
}

interface Moments {
  readonly n: number;
  readonly mY: number;
  readonly mX: number;
  readonly vY: number;
  readonly vX: number;
  readonly cXY: number;
}

function moments(s: CupedStats, divisor: (n: number) => number): Moments {
  const d = divisor(s.n);
  return {
    n: s.n,
    mY: s.sum / s.n,
    mX: s.sumX / s.n,
    vY: Math.max(0, centredMoment(s.n, s.sumSq, s.sum, s.sum)) / d,
    vX: Math.max(0, centredMoment(s.n, s.sumX2, s.sumX, s.sumX)) / d,
    cXY: centredMoment(s.n, s.sumXY, s.sumX, s.sum) / d,
  };
}

/** θ = Σ(x − x̄)(y − ȳ)/Σ(x − x̄)² over A ∪ B (Deng et al. eq. 4, GB `compute_theta`). */
export function cupedTheta(a: CupedStats, b: CupedStats): number {
  const n = a.n + b.n;
  const sx = a.sumX + b.sumX;
  const sy = a.sum + b.sum;
  const sxx = centredMoment(n, a.sumX2 + b.sumX2, sx, sx);
  const syy = centredMoment(n, a.sumSq + b.sumSq, sy, sy);
  if (!(sxx > 0) || !(syy > 0)) return 0;
  return centredMoment(n, a.sumXY + b.sumXY, sx, sy) / sxx;
}

/** Var(L_adj) = ∇_Bᵀ Λ_B ∇_B + ∇_Aᵀ Λ_A ∇_A for g = [(β1 − θβ2) − (β3 − θβ4)]/|β3|. */
function relativeVariance(a: Moments, b: Moments, theta: number, diff: number): number {
  const base = Math.abs(a.mY);
  const quad = (m: Moments, gy: number, gx: number) => (gy * gy * m.vY + 2 * gy * gx * m.cXY + gx * gx * m.vX) / m.n;
  const gyA = -1 / base - (diff * Math.sign(a.mY)) / (a.mY * a.mY);
  return quad(b, 1 / base, -theta / base) + quad(a, gyA, theta / base);
}

export function cupedCompare(control: CupedStats, treatment: CupedStats, opts: CupedOptions = {}): Result<CupedComparison> {
  const alpha = opts.alpha ?? DEFAULT_ALPHA;
  checkAlpha(alpha);
  for (const s of [control, treatment]) {
    requireCount("n", s.n);
    for (const k of ["sum", "sumSq", "sumX", "sumX2", "sumXY"] as const) requireFinite(k, s[k]);
  }
  if (control.n <= 1 || treatment.n <= 1) return fail("INSUFFICIENT_SAMPLE");
  const divisor = opts.metric === "proportion" ? (n: number) => n : (n: number) => n - 1;
  const a = moments(control, divisor);
  const b = moments(treatment, divisor);
  const theta = cupedTheta(control, treatment);
  const xBar = (control.sumX + treatment.sumX) / (control.n + treatment.n);
  const variant = (m: Moments): CupedVariant => ({
    n: m.n,
    mean: m.mY,
    adjustedMean: m.mY - theta * (m.mX - xBar),
    variance: m.vY,
    adjustedVariance: Math.max(0, m.vY + theta * theta * m.vX - 2 * theta * m.cXY),
  });
  const va = variant(a);
  const vb = variant(b);
  if (va.adjustedVariance === 0 && vb.adjustedVariance === 0) return fail("ZERO_VARIANCE");
  const diff = vb.adjustedMean - va.adjustedMean;
  const adjVar = va.adjustedVariance / a.n + vb.adjustedVariance / b.n;
  const rawVar = a.vY / a.n + b.vY / b.n;
  const df = welchDf({ n: a.n, mean: 0, variance: va.adjustedVariance }, { n: b.n, mean: 0, variance: vb.adjustedVariance });
  const absolute = effectFrom(diff, Math.sqrt(adjVar), df, alpha);
  const relVar = a.mY === 0 ? 0 : relativeVariance(a, b, theta, diff);
  const relative: Result<EffectEstimate> =
    a.mY === 0 ? fail("BASELINE_ZERO") : relVar > 0 ? ok(effectFrom(diff / Math.abs(a.mY), Math.sqrt(relVar), df, alpha)) : fail("ZERO_VARIANCE");
  return ok({
    theta,
    control: va,
    treatment: vb,
    absolute,
    relative,
    varianceReduction: rawVar > 0 ? 1 - adjVar / rawVar : 0,
    report: { pValue: absolute.welch.pValue, ci: absolute.welch.ci },
  });
}
