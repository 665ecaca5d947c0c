import { describe, expect, it } from "vitest";
import { compareMeans, cupedCompare } from "../src/index.js";
import { close, unwrap } from "./helpers.js";
import { ref } from "./reference/values.js";

// Reference: numpy on simulated raw data; θ = np.polyfit slope on the union, Welch t on y − θx
// per unit (scipy.stats.ttest_ind), lift SE from the full gradient with np.cov (reference/generate.py).
describe("cupedCompare", () => {
  const r = ref.cuped;
  const c = unwrap(cupedCompare(r.a, r.b));
  it("theta, centred adjusted means and variance reduction", () => {
    close(c.theta, r.theta);
    close(c.control.adjustedMean, r.adjustedMeanA);
    close(c.treatment.adjustedMean, r.adjustedMeanB);
    close(c.varianceReduction, r.varianceReduction);
  });
  it("adjusted difference tested with Welch t on adjusted per-unit variances", () => {
    close(c.absolute.estimate, r.diff);
    close(c.absolute.se, r.se);
    close(c.absolute.welch.statistic, r.statistic);
    close(c.absolute.welch.pValue, r.pValue);
  });
  it("relative lift uses the full gradient (differs from GB's code value)", () => {
    const rel = unwrap(c.relative);
    close(rel.estimate, r.relEstimate);
    close(rel.se, r.relSe);
    expect(Math.abs(rel.se - r.relSeGbCode)).toBeGreaterThan(1e-6 * r.relSe);
  });
  it("Var(X) = 0 falls back to the unadjusted analysis", () => {
    const s = (n: number, sum: number, sumSq: number) => ({ n, sum, sumSq, sumX: 2 * n, sumX2: 4 * n, sumXY: 2 * sum });
    const cu = unwrap(cupedCompare(s(20, 30, 70), s(25, 50, 130)));
    const plain = unwrap(compareMeans({ n: 20, sum: 30, sumSq: 70 }, { n: 25, sum: 50, sumSq: 130 }));
    expect(cu.theta).toBe(0);
    close(cu.absolute.welch.pValue, plain.absolute.welch.pValue, 1e-12);
  });
});
