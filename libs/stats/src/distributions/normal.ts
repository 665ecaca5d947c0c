/**
 * Standard normal distribution. The survival function is computed directly (series for |x| ≤ 3,
 * Mills-ratio continued fraction beyond), so sf(37) ≈ 5.7e-300 keeps full relative precision.
 */
import { lentz } from "../special/continuedFraction.js";

const LN_SQRT_2PI = 0.9189385332046727;
const SERIES_LIMIT = 3;

/** ln φ(x), splitting x so that x²/2 is not rounded away in the far tail. */
export function normalLogPdf(x: number): number {
  const hi = Math.round(x * 1024) / 1024;
  const lo = x - hi;
  return -0.5 * hi * hi - lo * (hi + 0.5 * lo) - LN_SQRT_2PI;
}

export function normalPdf(x: number): number {
  return Math.exp(normalLogPdf(x));
}

/** Σ x^{2k+1}/(2k+1)!!, so that Φ(x) − ½ = φ(x) · series(x). All terms positive: no cancellation. */
function centralSeries(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let k = 1; k < 200; k++) {
    term *= x2 / (2 * k + 1);
    sum += term;
    if (Math.abs(term) < Math.abs(sum) * 1e-17) break;
  }
  return sum;
}

/** ln(1/R(x)) where R is the Mills ratio sf(x)/φ(x), for x > 3: x + 1/(x + 2/(x + 3/(x + ...))). */
function logMillsDenominator(x: number): number {
  return Math.log(lentz(x, (i) => [i, x], 10_000));
}

/** ln P(Z > x). */
export function normalLogSf(x: number): number {
  if (x > SERIES_LIMIT) return normalLogPdf(x) - logMillsDenominator(x);
  return Math.log(normalSf(x));
}

/** P(Z > x). */
export function normalSf(x: number): number {
  if (Number.isNaN(x)) throw new RangeError("normalSf: x is NaN");
  if (x > SERIES_LIMIT) return Math.exp(normalLogSf(x));
  if (x < -SERIES_LIMIT) return 1 - normalSf(-x);
  return 0.5 - normalPdf(x) * centralSeries(x);
}

/** P(Z ≤ x). */
export function normalCdf(x: number): number {
  return normalSf(-x);
}

// Acklam's rational approximation (relative error < 1.2e-9); refined below by Newton steps.
const A = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
const B = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
const C = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
const P_LOW = 0.02425;

/** Acklam's initial guess for the upper-tail quantile: x with sf(x) = q, q ∈ (0, 0.5]. */
function acklamIsf(q: number): number {
  if (q < P_LOW) {
    const r = Math.sqrt(-2 * Math.log(q));
    return -(((((C[0] * r + C[1]) * r + C[2]) * r + C[3]) * r + C[4]) * r + C[5]) / ((((D[0] * r + D[1]) * r + D[2]) * r + D[3]) * r + 1);
  }
  const s = 0.5 - q;
  const r = s * s;
  return (
    ((((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * s) /
    (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1)
  );
}

/** Inverse survival function: x with P(Z > x) = q. Accurate for q down to the smallest double. */
export function normalIsf(q: number): number {
  if (!(q > 0 && q < 1)) throw new RangeError(`normalIsf: q must be in (0, 1), got ${q}`);
  if (q === 0.5) return 0;
  if (q > 0.5) return -normalIsf(1 - q);
  let x = acklamIsf(q);
  const lnQ = Math.log(q);
  // Newton on ln sf(x) − ln q: well-conditioned in both the centre and the far tail.
  for (let i = 0; i < 8; i++) {
    const lnSf = normalLogSf(x);
    const step = (lnSf - lnQ) * Math.exp(lnSf - normalLogPdf(x));
    x += step;
    if (Math.abs(step) <= 1e-15 * Math.abs(x)) break;
  }
  return x;
}

/** Quantile (percent-point function): x with P(Z ≤ x) = p. */
export function normalPpf(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalPpf: p must be in (0, 1), got ${p}`);
  return -normalIsf(p);
}
