import { describe, expect, it } from "vitest";
import { sequentialInterval } from "../src/index.js";
import { close, unwrap } from "./helpers.js";
import { ref } from "./reference/values.js";

// Reference: Waudby-Smith et al. eqs. 9, 155, 161 evaluated in mpmath (reference/generate.py).
describe("sequentialInterval", () => {
  it.each(ref.sequential)("matches the paper's formulas (%o)", (c) => {
    const r = unwrap(sequentialInterval(c));
    close(r.halfwidth, c.halfwidth);
    close(r.pValue, c.pValue);
    close(r.ci.lower, c.estimate - c.halfwidth);
  });
  it("p < alpha exactly when the interval excludes 0", () => {
    for (const estimate of [0.001, 0.01, 0.02, 0.03, 0.05]) {
      const r = unwrap(sequentialInterval({ estimate, se: 0.01, n: 10000 }));
      expect(r.pValue < 0.05).toBe(r.ci.lower > 0);
    }
  });
  it("is wider than the fixed-horizon z interval", () => {
    expect(unwrap(sequentialInterval({ estimate: 0, se: 1, n: 5000 })).halfwidth).toBeGreaterThan(1.96);
  });
  it("N = 0 is INSUFFICIENT_SAMPLE, SE = 0 is ZERO_VARIANCE", () => {
    expect(sequentialInterval({ estimate: 1, se: 1, n: 0 })).toEqual({ ok: false, reason: "INSUFFICIENT_SAMPLE" });
    expect(sequentialInterval({ estimate: 1, se: 0, n: 10 })).toEqual({ ok: false, reason: "ZERO_VARIANCE" });
  });
});
