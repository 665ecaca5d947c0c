import { describe, expect, it } from "vitest";
import { bayesianEffect, mdeAtSample, sampleSizeMeans, sampleSizeProportions, tTestPower } from "../src/index.js";
import { close, unwrap } from "./helpers.js";
import { ref } from "./reference/values.js";

// References: closed forms evaluated in numpy; exact t power from scipy.stats.nct;
// Bayesian risk by scipy.integrate.quad (reference/generate.py).
describe("sample size", () => {
  const p = ref.power;
  it("proportions: Fleiss default and the two alternatives (10% → 11%)", () => {
    expect(sampleSizeProportions({ baseline: 0.1, mde: 0.1 })).toBe(Math.ceil(p.fleiss));
    expect(sampleSizeProportions({ baseline: 0.1, mde: 0.01, relative: false, method: "unpooled" })).toBe(Math.ceil(p.unpooled));
    expect(sampleSizeProportions({ baseline: 0.1, mde: 0.1, method: "arcsine" })).toBe(Math.ceil(p.arcsine));
  });
  it("means: z formula and exact noncentral t", () => {
    expect(sampleSizeMeans({ sd: 4, mde: 0.5 })).toBe(Math.ceil(p.zMeansN));
    expect(sampleSizeMeans({ sd: 1, mde: 0.5, method: "t" })).toBe(p.tN05);
    expect(sampleSizeMeans({ sd: 1, mde: 0.2, power: 0.9, method: "t" })).toBe(p.tN02);
  });
  it.each(p.tPower)("t-test power n=%d, d=%d matches scipy nct", (n, es, v) => close(tTestPower(n, es), v, 1e-8));
});

describe("mdeAtSample", () => {
  it("inverts the sample-size formulas", () => {
    const n = ref.power.fleiss;
    close(unwrap(mdeAtSample({ metric: "proportion", baseline: 0.1, n })).absolute, 0.01, 1e-9);
    const m = unwrap(mdeAtSample({ metric: "mean", sd: 4, n: ref.power.zMeansN, baselineMean: 10 }));
    close(m.absolute, 0.5, 1e-12);
    close(m.relative ?? NaN, 0.05, 1e-12);
  });
  it("undetectable effects are INSUFFICIENT_SAMPLE", () => {
    expect(mdeAtSample({ metric: "proportion", baseline: 0.5, n: 3 })).toEqual({ ok: false, reason: "INSUFFICIENT_SAMPLE" });
  });
});

describe("bayesianEffect", () => {
  it.each(ref.bayes)("posterior, chance to win, CI and risk %o", (c) => {
    const r = unwrap(bayesianEffect(c, c.prior ? { prior: { mean: c.prior[0], sd: c.prior[1] } } : {}));
    close(r.mean, c.mean, 1e-12);
    close(r.sd, c.sd, 1e-12);
    close(r.chanceToWin, c.chanceToWin);
    close(r.ci.lower, c.ci[0]);
    close(r.risk.control, c.riskControl);
    close(r.risk.treatment, c.riskTreatment);
  });
  it("inverse metrics flip chance to win; zero baseline with an absolute prior fails", () => {
    const e = { estimate: 0.05, se: 0.03 };
    close(unwrap(bayesianEffect(e, { inverse: true })).chanceToWin, 1 - unwrap(bayesianEffect(e)).chanceToWin, 1e-12);
    expect(bayesianEffect(e, { prior: { mean: 0, sd: 0.3 }, absoluteBaseline: 0 })).toEqual({ ok: false, reason: "BASELINE_ZERO" });
  });
});
