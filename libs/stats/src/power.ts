/** Sample size and minimum detectable effect, per variant, equal split, two-sided (STATISTICS.md §8). */
import { normalIsf, normalSf, studentTIsf } from "./distributions/index.js";
import { checkAlpha, DEFAULT_ALPHA } from "./effect.js";
import { fail, ok, type Result } from "./result.js";
import { logGamma, stirlingCorrection } from "./special/index.js";
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

/** ln[a^a e^{−a}/Γ(a)], without cancellation for large a. */
function logChiConst(a: number): number {
  return a >= 10 ? 0.5 * Math.log(a) - LN_SQRT_2PI - stirlingCorrection(a) : a * Math.log(a) - a - logGamma(a);
}
const LN_SQRT_2PI = 0.9189385332046727;

/**
 * E[f(S)] for S = sqrt(χ²_ν/ν), by the trapezoid rule in w = ln S. The density of w is
 * 2 a^a e^{−a}/Γ(a) · exp(−a(e^{2w} − 1 − 2w)), a = ν/2: analytic and fast-decaying, so the
 * trapezoid rule converges geometrically (8 points per SD).
 */
function expectOverChi(df: number, f: (s: number) => number): number {
  const a = df / 2;
  const logConst = Math.log(2) + logChiConst(a);
  const sd = Math.sqrt(1 / a + 1 / (2 * a * a)) / 2;
  const h = sd / 8;
  const steps = Math.ceil(Math.max(12 * sd, 40 / (2 * a)) / h);
  let sum = 0;
  for (let k = -steps; k * h <= 12 * sd; k++) {
    const w = k * h;
    sum += f(Math.exp(w)) * Math.exp(logConst - a * (Math.expm1(2 * w) - 2 * w));
  }
  return sum * h;
}

/**
 * Power of the two-sided equal-n t-test, df = 2n − 2, noncentrality λ = (δ/σ)/sqrt(2/n):
 * P(|T'| > c) = E[Φc(cS − λ) + Φc(cS + λ)] with T' = (Z + λ)/S.
 */
export function tTestPower(n: number, effectSize: number, alpha = DEFAULT_ALPHA): number {
  checkAlpha(alpha);
  if (!(n >= 2)) throw new RangeError(`n must be >= 2, got ${n}`);
  const df = 2 * n - 2;
  const lambda = Math.abs(effectSize) / Math.sqrt(2 / n);
  const c = studentTIsf(alpha / 2, df);
  return expectOverChi(df, (s) => normalSf(c * s - lambda) + normalSf(c * s + lambda));
}

export function sampleSizeMeans(input: MeanSizeInput): number {
  const { zA, zB } = quantiles(input.alpha, input.power);
  if (!(input.sd > 0 && Number.isFinite(input.sd))) throw new RangeError(`sd must be > 0, got ${input.sd}`);
  if (!(input.mde !== 0 && Number.isFinite(input.mde))) throw new RangeError(`mde must be non-zero, got ${input.mde}`);
  const zN = Math.ceil((2 * input.sd ** 2 * (zA + zB) ** 2) / input.mde ** 2);
  if (input.method !== "t") return zN;
  const target = input.power ?? DEFAULT_POWER;
  const effectSize = input.mde / input.sd;
  const alpha = input.alpha ?? DEFAULT_ALPHA;
  // The t answer is at or just above the z one; walk from there.
  let n = Math.max(2, zN);
  while (n > 2 && tTestPower(n - 1, effectSize, alpha) >= target) n--;
  while (tTestPower(n, effectSize, alpha) < target) n++;
  return n;
}

export type MdeInput =
  | {
      readonly metric: "mean";
      readonly sd: number;
      /** Units per variant. */
      readonly n: number;
      /** Control mean, to also report the MDE relative to it. */
      readonly baselineMean?: number;
      readonly alpha?: number;
      readonly power?: number;
    }
  | {
      readonly metric: "proportion";
      readonly baseline: number;
      readonly n: number;
      readonly alpha?: number;
      readonly power?: number;
      readonly method?: ProportionSizeMethod;
    };

export interface Mde {
  /** Smallest detectable increase on the metric scale, and relative to the baseline when known. */
  readonly absolute: number;
  readonly relative?: number;
}

/**
 * MDE at a given per-variant n. Means: (z_{1−α/2} + z_{1−β}) σ sqrt(2/n). Proportions: the upward
 * p₂ whose (unrounded) sample size equals n, found by bisection because the SE depends on p₂.
 * INSUFFICIENT_SAMPLE when no p₂ < 1 is detectable (or n < 2).
 */
export function mdeAtSample(input: MdeInput): Result<Mde> {
  const { zA, zB } = quantiles(input.alpha, input.power);
  if (!(input.n >= 2 && Number.isFinite(input.n))) return fail("INSUFFICIENT_SAMPLE");
  if (input.metric === "mean") {
    if (!(input.sd > 0 && Number.isFinite(input.sd))) throw new RangeError(`sd must be > 0, got ${input.sd}`);
    const absolute = (zA + zB) * input.sd * Math.sqrt(2 / input.n);
    const base = input.baselineMean;
    return ok(base !== undefined && base !== 0 ? { absolute, relative: absolute / Math.abs(base) } : { absolute });
  }
  const p1 = input.baseline;
  requireProbability("baseline", p1);
  const method = input.method ?? "fleiss";
  const needed = (p2: number) => proportionN(p1, p2, zA, zB, method);
  let lo = p1;
  let hi = 1 - 1e-12;
  if (needed(hi) > input.n) return fail("INSUFFICIENT_SAMPLE");
  for (let i = 0; i < 200 && hi - lo > 1e-15; i++) {
    const mid = (lo + hi) / 2;
    if (needed(mid) > input.n) lo = mid;
    else hi = mid;
  }
  const absolute = hi - p1;
  return ok({ absolute, relative: absolute / p1 });
}
