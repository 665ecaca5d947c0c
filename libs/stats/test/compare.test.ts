import { describe, expect, it } from "vitest";
import { compareMeans, compareProportions, compareRatios, summarizeRatio } from "../src/index.js";
import { close, unwrap } from "./helpers.js";
import { ref } from "./reference/values.js";

// References: scipy.stats.ttest_ind_from_stats(equal_var=False) on moments computed by numpy from
// simulated raw data; chi2_contingency(correction=False) for the pooled z (reference/generate.py).
describe("compareMeans", () => {
  const c = unwrap(compareMeans(ref.means.a, ref.means.b));
  const w = ref.means.welch;
  it("Welch t on D matches scipy", () => {
    close(c.absolute.estimate, w.estimate);
    close(c.absolute.se, w.se);
    close(c.absolute.welch.statistic, w.statistic);
    close(c.absolute.welch.df, w.df);
    close(c.absolute.welch.pValue, w.pValue);
    close(c.absolute.welch.ci.lower, w.ci[0]);
    close(c.absolute.welch.ci.upper, w.ci[1]);
    close(c.absolute.z.pValue, w.zPValue);
    expect(c.report).toEqual({ pValue: c.absolute.welch.pValue, ci: c.absolute.welch.ci });
  });
  it("relative lift with delta-method SE, Welch-ν and z intervals", () => {
    const r = unwrap(c.relative);
    const l = ref.means.lift;
    close(r.estimate, l.estimate);
    close(r.se, l.se);
    close(r.z.ci.lower, l.zCi[0]);
    close(r.welch.ci.upper, l.welchCi[1]);
    close(r.welch.pValue, l.welchPValue);
    close(r.z.pValue, l.zPValue);
  });
  it("identical variants give p = 1 exactly and a CI symmetric about 0", () => {
    const s = { n: 50, sum: 120, sumSq: 400 };
    const r = unwrap(compareMeans(s, s));
    expect(r.absolute.welch.pValue).toBe(1);
    expect(r.absolute.z.pValue).toBe(1);
    expect(r.absolute.welch.ci.lower).toBe(-r.absolute.welch.ci.upper);
  });
  it("tiny p-values are not flushed to 0", () => {
    const r = unwrap(compareMeans({ n: 1e6, sum: 0, sumSq: 1e6 }, { n: 1e6, sum: 5e4, sumSq: 1e6 + 2500 }));
    expect(r.absolute.z.pValue).toBeGreaterThan(0);
    expect(r.absolute.z.pValue).toBeLessThan(1e-200);
  });
});

describe("compareMeans degenerate input (STATISTICS.md §9)", () => {
  it("n ≤ 1 is INSUFFICIENT_SAMPLE", () => {
    expect(compareMeans({ n: 1, sum: 3, sumSq: 9 }, { n: 10, sum: 3, sumSq: 9 })).toEqual({ ok: false, reason: "INSUFFICIENT_SAMPLE" });
  });
  it("both variances 0 (constant data, even with rounding) is ZERO_VARIANCE", () => {
    const s = (v: number, n: number) => ({ n, sum: v * n, sumSq: v * v * n });
    expect(compareMeans(s(0.1, 10), s(0.3, 7))).toEqual({ ok: false, reason: "ZERO_VARIANCE" });
  });
  it("one variance 0 is computed with ν = n_other − 1", () => {
    const r = unwrap(compareMeans({ n: 10, sum: 20, sumSq: 40 }, { n: 8, sum: 20, sumSq: 60 }));
    close(r.absolute.welch.df, 7, 1e-12);
  });
  it("zero baseline: absolute computed, relative BASELINE_ZERO", () => {
    const r = unwrap(compareMeans({ n: 10, sum: 0, sumSq: 10 }, { n: 10, sum: 5, sumSq: 12 }));
    expect(r.relative).toEqual({ ok: false, reason: "BASELINE_ZERO" });
    expect(Number.isFinite(r.absolute.welch.pValue)).toBe(true);
  });
});

describe("compareProportions", () => {
  const p = ref.proportions;
  const c = unwrap(compareProportions(p.a, p.b));
  it("pooled z: Z² equals Pearson χ² and p matches chi2_contingency", () => {
    close(c.pooled.statistic ** 2, p.chi2);
    close(c.pooled.pValue, p.pooledPValue);
  });
  it("report = pooled p-value + unpooled z CI", () => {
    expect(c.report.pValue).toBe(c.pooled.pValue);
    close(c.report.ci.lower, p.unpooledCi[0]);
    close(c.report.ci.upper, p.unpooledCi[1]);
  });
  it("GB-style Welch alternative and lift z interval", () => {
    close(c.absolute.welch.pValue, p.welch.pValue);
    close(c.absolute.welch.df, p.welch.df);
    const r = unwrap(c.relative);
    close(r.se, p.lift.se);
    close(r.z.ci.lower, p.lift.zCi[0]);
  });
  it("zero conversions in control: pooled test still computed, lift BASELINE_ZERO", () => {
    const r = unwrap(compareProportions({ n: 1000, successes: 0 }, { n: 1000, successes: 6 }));
    expect(r.relative).toEqual({ ok: false, reason: "BASELINE_ZERO" });
    expect(r.pooled.pValue).toBeGreaterThan(0);
    expect(r.pooled.pValue).toBeLessThan(0.05);
  });
  it("0/n in both arms is ZERO_VARIANCE; bad counts throw", () => {
    expect(compareProportions({ n: 100, successes: 0 }, { n: 90, successes: 0 })).toEqual({ ok: false, reason: "ZERO_VARIANCE" });
    expect(() => compareProportions({ n: 10, successes: 11 }, { n: 10, successes: 1 })).toThrow(RangeError);
  });
});

describe("compareRatios", () => {
  const r = ref.ratios;
  it("per-unit delta-method variance matches numpy moments", () => {
    const s = unwrap(summarizeRatio(r.a));
    close(s.mean, r.meanA);
    close(s.variance, r.varA);
  });
  it("Welch comparison and lift", () => {
    const c = unwrap(compareRatios(r.a, r.b));
    close(c.absolute.welch.pValue, r.welch.pValue);
    close(c.absolute.welch.df, r.welch.df);
    close(c.absolute.welch.ci.lower, r.welch.ci[0]);
    close(unwrap(c.relative).se, r.lift.se);
  });
  it("ΣD = 0 is ZERO_DENOMINATOR", () => {
    const zero = { n: 5, sumM: 0, sumM2: 0, sumD: 0, sumD2: 0, sumMD: 0 };
    expect(compareRatios(zero, r.b)).toEqual({ ok: false, reason: "ZERO_DENOMINATOR" });
  });
});
