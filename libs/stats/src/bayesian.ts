/** Normal–normal Bayesian summary of an effect (GB ≥ 3.0 engine, STATISTICS.md §7). */
import { normalCdf, normalIsf, normalPdf } from "./distributions/index.js";
import { checkAlpha, DEFAULT_ALPHA, type Interval } from "./effect.js";
import { fail, ok, type Result } from "./result.js";
import { requireFinite } from "./validate.js";

/** GB DEFAULT_PROPER_PRIOR_STDDEV, for a prior on the lift. */
export const DEFAULT_PROPER_PRIOR_SD = 0.3;

export interface BayesianOptions {
  readonly alpha?: number;
  /** Prior N(mean, sd²) on the LIFT; omitted = flat (improper) prior. */
  readonly prior?: { readonly mean: number; readonly sd: number };
  /** Set when the effect is absolute: the lift prior is rescaled to mean·|m_A|, sd·|m_A|. */
  readonly absoluteBaseline?: number;
  /** Lower is better: chance to win is P(effect < 0) and the risks swap. */
  readonly inverse?: boolean;
}

export interface BayesianResult {
  readonly mean: number;
  readonly sd: number;
  readonly chanceToWin: number;
  readonly ci: Interval;
  /** Expected loss of keeping control and of shipping treatment. */
  readonly risk: { readonly control: number; readonly treatment: number };
}

export function bayesianEffect(effect: { readonly estimate: number; readonly se: number }, opts: BayesianOptions = {}): Result<BayesianResult> {
  const alpha = opts.alpha ?? DEFAULT_ALPHA;
  checkAlpha(alpha);
  requireFinite("estimate", effect.estimate);
  requireFinite("se", effect.se);
  if (!(effect.se > 0)) return fail("ZERO_VARIANCE");
  let mean = effect.estimate;
  let sd = effect.se;
  if (opts.prior) {
    const scale = opts.absoluteBaseline === undefined ? 1 : Math.abs(opts.absoluteBaseline);
    if (scale === 0) return fail("BASELINE_ZERO");
    const priorMean = opts.prior.mean * scale;
    const priorVar = (opts.prior.sd * scale) ** 2;
    if (!(priorVar > 0)) throw new RangeError(`prior sd must be > 0, got ${opts.prior.sd}`);
    const precision = 1 / effect.se ** 2 + 1 / priorVar;
    mean = (effect.estimate / effect.se ** 2 + priorMean / priorVar) / precision;
    sd = Math.sqrt(1 / precision);
  }
  const z = mean / sd;
  const q = normalIsf(alpha / 2);
  // E max(δ, 0) = μΦ(μ/s) + sφ(μ/s); E max(−δ, 0) = sφ(μ/s) − μΦ(−μ/s).
  const gain = mean * normalCdf(z) + sd * normalPdf(z);
  const loss = sd * normalPdf(z) - mean * normalCdf(-z);
  const up = normalCdf(z);
  return ok({
    mean,
    sd,
    chanceToWin: opts.inverse ? 1 - up : up,
    ci: { lower: mean - q * sd, upper: mean + q * sd },
    risk: opts.inverse ? { control: Math.max(0, loss), treatment: Math.max(0, gain) } : { control: Math.max(0, gain), treatment: Math.max(0, loss) },
  });
}
