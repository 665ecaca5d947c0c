import { expect } from "vitest";
import type { Result } from "../src/index.js";

/** |actual − expected| ≤ rel·|expected| (tolerance 1e-6 relative unless given). */
export function close(actual: number, expected: number, rel = 1e-6): void {
  expect(Number.isFinite(actual)).toBe(true);
  const tol = rel * Math.abs(expected);
  if (Math.abs(actual - expected) > tol) expect.fail(`expected ${actual} ≈ ${expected} (rel ${rel})`);
}

export function unwrap<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(`unexpected failure ${r.reason}`);
  return r.value;
}
