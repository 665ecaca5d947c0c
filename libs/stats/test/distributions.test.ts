import { describe, expect, it } from "vitest";
import { chiSquareSf, normalCdf, normalPpf, normalSf, studentTIsf, studentTPpf, studentTSf } from "../src/index.js";
import { close } from "./helpers.js";
import { ref } from "./reference/values.js";

// Special functions: reference values from mpmath at 50 digits (reference/generate.py).
// Target accuracy is 1e-10 relative; the checks use 1e-9.
describe("normal", () => {
  it.each(ref.normalSf)("sf(%d) matches mpmath", (x, v) => close(normalSf(x), v, 1e-9));
  it.each(ref.normalPpf)("ppf(%d) matches mpmath", (p, v) => close(normalPpf(p), v, 1e-9));
  it("keeps tiny tails instead of flushing them to 0 (sf(37) ≈ 5.7e-300)", () => {
    expect(normalSf(37)).toBeGreaterThan(5e-300);
    expect(normalCdf(-37)).toBe(normalSf(37));
  });
  it("z_{0.975} = 1.959963984540054 (STATISTICS.md §0)", () => close(normalPpf(0.975), 1.959963984540054, 1e-14));
});

describe("student t", () => {
  it.each(ref.studentTSf)("sf(%d; df=%d) matches mpmath", (t, df, v) => close(studentTSf(t, df), v, 1e-9));
  it.each(ref.studentTIsf)("isf(%d; df=%d) matches mpmath", (q, df, v) => close(studentTIsf(q, df), v, 1e-9));
  it("published table value t_{0.975,10} = 2.228138851986274", () => close(studentTPpf(0.975, 10), 2.228138851986274, 1e-12));
  it("tends to the normal as df grows, and df = Infinity is the normal", () => {
    close(studentTSf(2.5, 1e12), normalSf(2.5), 1e-9);
    expect(studentTSf(2.5, Infinity)).toBe(normalSf(2.5));
  });
  it("Cauchy (df = 1) closed form sf(t) = atan2(1, t)/π", () => {
    for (const t of [0.2, 3, 1e6]) close(studentTSf(t, 1), Math.atan2(1, t) / Math.PI, 1e-12);
  });
});

describe("chi-square", () => {
  it.each(ref.chiSquareSf)("sf(%d; df=%d) matches mpmath", (x, k, v) => close(chiSquareSf(x, k), v, 1e-9));
  it("df = 1 is the square of a normal: sf(z²) = 2·Φc(z)", () => {
    for (const z of [0.5, 2, 6, 20]) close(chiSquareSf(z * z, 1), 2 * normalSf(z), 1e-10);
  });
  it("df = 2 closed form exp(−x/2)", () => {
    for (const x of [0.1, 5, 600]) close(chiSquareSf(x, 2), Math.exp(-x / 2), 1e-12);
  });
});
