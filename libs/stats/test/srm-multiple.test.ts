import { describe, expect, it } from "vitest";
import { adjustPValues, srmCheck } from "../src/index.js";
import { close, unwrap } from "./helpers.js";
import { ref } from "./reference/values.js";

// References: scipy.stats.chisquare; scipy.stats.false_discovery_control (BH); Holm by definition.
describe("srmCheck", () => {
  it.each(ref.srm)("matches scipy chisquare %o", (c) => {
    const r = unwrap(srmCheck(c.counts, c.weights));
    close(r.chiSquare, c.chiSquare);
    close(r.pValue, c.pValue);
    expect(r.df).toBe(c.counts.length - 1);
    expect(r.status).toBe(c.pValue < 0.001 ? "srm" : "ok");
  });
  it("no units is NO_DATA; little traffic is never SRM", () => {
    expect(srmCheck([0, 0])).toEqual({ ok: false, reason: "NO_DATA" });
    expect(unwrap(srmCheck([15, 0])).status).toBe("not-enough-traffic");
  });
  it("skips weight ≤ 0 variants but keeps df = k − 1", () => {
    const r = unwrap(srmCheck([500, 520, 7], [1, 1, 0]));
    expect(r.df).toBe(2);
    // e_i = w_i/Σw · Σo with Σo = 1027 including the skipped arm (GB): e = 513.5 for both.
    close(r.chiSquare, (13.5 ** 2 + 6.5 ** 2) / 513.5, 1e-12);
  });
});

describe("adjustPValues", () => {
  const m = ref.multiple;
  it.each(["bonferroni", "holm", "bh"] as const)("%s matches reference, in input order", (method) => {
    adjustPValues(m.p, method).forEach((v, i) => close(v, m[method][i], 1e-12));
  });
  it("handles an empty family", () => expect(adjustPValues([], "bh")).toEqual([]));
});
