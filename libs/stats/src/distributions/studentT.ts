/** Student t distribution: survival function, log-density and quantile, accurate in the far tails. */
import { logBeta, regularizedBeta, stirlingCorrection } from "../special/index.js";
import { normalIsf, normalLogPdf, normalLogSf, normalSf } from "./normal.js";

function checkDf(df: number): void {
  if (!(df > 0)) throw new RangeError(`Student t: df must be > 0, got ${df}`);
}

/** ln(1 + t²/ν), without overflowing t² for huge |t|. */
function log1pT2(t: number, df: number): number {
  const a = Math.abs(t);
  if (a * a <= df) return Math.log1p((a * a) / df);
  return 2 * Math.log(a) - Math.log(df) + Math.log1p(df / a / a);
}

export function studentTLogPdf(t: number, df: number): number {
  checkDf(df);
  if (df === Infinity) return normalLogPdf(t);
  return -logBeta(df / 2, 0.5) - 0.5 * Math.log(df) - ((df + 1) / 2) * log1pT2(t, df);
}

/**
 * Above this df the incomplete-beta continued fraction cancels (its first partial value is
 * ~t²/ν), so the tail is integrated instead: P(T > t) = E[Φc(t·S)], S = sqrt(χ²_ν/ν).
 */
const LARGE_DF = 1e4;

/**
 * Trapezoid rule in w = ln S. ln density of w: ln 2 + ½ln a − ln√(2π) − c(a) − a(e^{2w} − 1 − 2w),
 * a = ν/2, c = Stirling remainder (so lnΓ(a) never cancels). The integrand is analytic and
 * near-Gaussian, so the trapezoid rule converges geometrically; 8 steps per SD give < 1e-15.
 */
function largeDfUpperTail(t: number, df: number): number {
  const a = df / 2;
  const logConst = Math.log(2) + 0.5 * Math.log(a) - 0.9189385332046727 - stirlingCorrection(a);
  const curvature = 4 * a + 2 * t * t;
  const centre = -(t * t) / curvature;
  const sd = 1 / Math.sqrt(curvature);
  const h = sd / 8;
  const terms: number[] = [];
  for (let k = -120; k <= 120; k++) {
    const w = centre + k * h;
    terms.push(normalLogSf(t * Math.exp(w)) + logConst - a * (Math.expm1(2 * w) - 2 * w));
  }
  const peak = Math.max(...terms);
  let sum = 0;
  for (const v of terms) sum += Math.exp(v - peak);
  return Math.exp(peak) * sum * h;
}

/** P(T_ν > t). For ν = ∞ this is the normal survival function. */
export function studentTSf(t: number, df: number): number {
  checkDf(df);
  if (Number.isNaN(t)) throw new RangeError("studentTSf: t is NaN");
  if (df === Infinity) return normalSf(t);
  if (t === 0) return 0.5;
  if (df > LARGE_DF) return t > 0 ? largeDfUpperTail(t, df) : 1 - largeDfUpperTail(-t, df);
  // P(|T| > |t|) = I_x(ν/2, ½) with x = ν/(ν + t²); x and 1 − x are formed without cancellation.
  const a = Math.abs(t);
  const l = log1pT2(t, df);
  const r = df / a / a; // ν/t², may underflow harmlessly
  const x = a * a <= df ? 1 / (1 + (a * a) / df) : r / (1 + r);
  const y = a * a <= df ? (a * a) / df / (1 + (a * a) / df) : 1 / (1 + r);
  const lnX = -l;
  const lnY = 2 * Math.log(a) - Math.log(df) - l;
  const [twoSided] = regularizedBeta(df / 2, 0.5, { x, y, lnX, lnY });
  const upper = twoSided / 2;
  return t > 0 ? upper : 1 - upper;
}

export function studentTCdf(t: number, df: number): number {
  return studentTSf(-t, df);
}

/** ln P(T_ν > t) for t > 0. */
function logSfPositive(t: number, df: number): number {
  return df === Infinity ? normalLogSf(t) : Math.log(studentTSf(t, df));
}

/** Inverse survival function: t with P(T_ν > t) = q. */
export function studentTIsf(q: number, df: number): number {
  checkDf(df);
  if (!(q > 0 && q < 1)) throw new RangeError(`studentTIsf: q must be in (0, 1), got ${q}`);
  if (df === Infinity) return normalIsf(q);
  if (q === 0.5) return 0;
  if (q > 0.5) return -studentTIsf(1 - q, df);
  const z = normalIsf(q);
  // Tail asymptote sf(t) ≈ C t^−ν; the t quantile is never below the normal one.
  const lnC = -logBeta(df / 2, 0.5) + ((df - 1) / 2) * Math.log(df) - Math.log(df);
  let u = Math.max(Math.log(z), (lnC - Math.log(q)) / df);
  // Newton on g(u) = ln sf(e^u) − ln q, u = ln t: nearly linear in both the centre and the tail.
  let lo = Math.log(z);
  let hi = Infinity;
  const lnQ = Math.log(q);
  for (let i = 0; i < 200; i++) {
    const t = Math.exp(u);
    const lnSf = logSfPositive(t, df);
    const g = lnSf - lnQ;
    if (g > 0) lo = Math.max(lo, u);
    else hi = Math.min(hi, u);
    const slope = -t * Math.exp(studentTLogPdf(t, df) - lnSf);
    let next = u - g / slope;
    if (!(next > lo && next < hi)) next = hi === Infinity ? u + 1 : (lo + hi) / 2;
    const step = next - u;
    u = next;
    if (Math.abs(step) < 1e-15 * Math.max(1, Math.abs(u))) break;
  }
  return Math.exp(u);
}

/** Quantile: t with P(T_ν ≤ t) = p. */
export function studentTPpf(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`studentTPpf: p must be in (0, 1), got ${p}`);
  return -studentTIsf(p, df);
}
