/** Sample size and minimum detectable effect, per variant, equal split, two-sided (STATISTICS.md §8). */
import { normalIsf, normalLogSf, normalSf } from "./distributions/index.js";
import { checkAlpha, DEFAULT_ALPHA } from "./effect.js";
import { fail, ok, type Result } from "./result.js";
import { logGamma } from "./special/index.js";
import { requireProbability } from "./validate.js";

export const DEFAULT_POWER = 0.8;

export type ProportionSizeMethod = "fleiss" | "unpooled" | "arcsine";

export interface ProportionSizeInput {
  /** Control rate p₁ ∈ (0, 1). */
  readonly baseline: number;
  /** Effect to detect: relative (p₂ = p₁(1 + mde), the default) or absolute (p₂ = p₁ + mde). */
  readonly mde: number;
  readonly relative?: boolean;
  readonly alpha?: number;
  readonly power?: number;
  /** Default "fleiss": pooled variance under H0, unpooled under H1, no continuity correction. */
  readonly method?: ProportionSizeMethod;
}

export interface MeanSizeInput {
  /** Common per-unit SD σ and absolute MDE δ. */
  readonly sd: number;
  readonly mde: number;
  readonly alpha?: number;
  readonly power?: number;
  /** "z" (default): 2σ²(z_{1−α/2} + z_{1−β})²/δ². "t": smallest n with noncentral-t power ≥ 1 − β. */
  readonly method?: "z" | "t";
}

function quantiles(alpha = DEFAULT_ALPHA, power = DEFAULT_POWER): { zA: number; zB: number } {
  checkAlpha(alpha);
  requireProbability("power", power);
  return { zA: normalIsf(alpha / 2), zB: normalIsf(1 - power) };
}

/** Continuous (unrounded) n per variant for rates p1 → p2. */
function proportionN(p1: number, p2: number, zA: number, zB: number, method: ProportionSizeMethod): number {
  const v1 = p1 * (1 - p1);
  const v2 = p2 * (1 - p2);
  const d2 = (p2 - p1) ** 2;
  switch (method) {
    case "fleiss": {
      const pBar = (p1 + p2) / 2;
      return (zA * Math.sqrt(2 * pBar * (1 - pBar)) + zB * Math.sqrt(v1 + v2)) ** 2 / d2;
    }
    case "unpooled":
      return ((zA + zB) ** 2 * (v1 + v2)) / d2;
    case "arcsine": {
      const h = 2 * Math.asin(Math.sqrt(p2)) - 2 * Math.asin(Math.sqrt(p1));
      return (2 * (zA + zB) ** 2) / (h * h);
    }
  }
}

export function sampleSizeProportions(input: ProportionSizeInput): number {
  const { zA, zB } = quantiles(input.alpha, input.power);
  const p1 = input.baseline;
  requireProbability("baseline", p1);
  const p2 = input.relative === false ? p1 + input.mde : p1 * (1 + input.mde);
  if (input.mde === 0 || !(p2 > 0 && p2 < 1)) throw new RangeError(`mde must be non-zero and give a rate in (0, 1), got p2 = ${p2}`);
  return Math.ceil(proportionN(p1, p2, zA, zB, input.method ?? "fleiss"));
}

/**
 * E[f(S)] for S = sqrt(χ²_ν/ν), by the trapezoid rule in w = ln S. The density of w is
 * 2 a^a/Γ(a) · exp(2aw − a e^{2w}), a = ν/2; analytic and fast-decaying, so the rule converges geometrically.
 */
function expectOverChi(df: number, f: (s: number) => number): number {
  const a = df / 2;
  const logConst = Math.log(2) + a * Math.log(a) - logGamma(a);
  const sd = Math.sqrt(1 / a + 1 / (2 * a * a)) / 2;
  const h = sd / 8;
  const lower = -Math.max(12 * sd, 40 / (2 * a));
  const upper = 12 * sd;
  let sum = 0;
  for (let w = lower; w <= upper; w += h) sum += f(Math.exp(w)) * Math.exp(logConst - a * (Math.expm1(2 * w) - 2 * w) + 2 * a * 0);
  return sum * h;
}

/** Two-sided t-test power with noncentrality δ/(σ√(2/n)), df = 2n − 2: E[Φc(cS − λ) + Φc(cS + λ)]. */
export function tTestPower(n: number, effectSize: number, alpha = DEFAULT_ALPHA): number {
  checkAlpha(alpha);
  if (!(n >= 2)) throw new RangeError(`n must be >= 2, got ${n}`);
  const df = 2 * n - 2;
  const lambda = Math.abs(effectSize) / Math.sqrt(2 / n);
  const { critical } = { critical: tCritical(alpha, df) };
  return expectOverChi(df, (s) => normalSf(critical * s - lambda) + Math.exp(normalLogSf(critical * s + lambda)));
}
