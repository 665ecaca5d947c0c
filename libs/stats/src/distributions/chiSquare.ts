import { regularizedGammaQ } from "../special/index.js";

/** P(χ²_k > x) = Q(k/2, x/2). */
export function chiSquareSf(x: number, df: number): number {
  if (!(df > 0)) throw new RangeError(`chiSquareSf: df must be > 0, got ${df}`);
  if (Number.isNaN(x)) throw new RangeError("chiSquareSf: x is NaN");
  if (x <= 0) return 1;
  return regularizedGammaQ(df / 2, x / 2);
}
