import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bucket, inAllocation, pickPrepared, pickVariant, prepareVariants } from "../src/index.js";

// Straightforward reference implementation of the Lotty formulas, independent of src/.
function referenceBucket(subject: string, seed: string, salt: string): number {
  const digest = createHash("sha256").update(`${subject}:${seed}:${salt}`, "utf8").digest();
  return Number(digest.readBigUInt64BE(0) % 10000n);
}

function referencePick(subject: string, seed: string, variants: { name: string; weight: number }[]) {
  const sorted = [...variants].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const total = BigInt(sorted.reduce((s, v) => s + v.weight, 0));
  if (sorted.length === 0 || total === 0n) return undefined;
  // point = bucket * total / 10000 as a rational; pick the first variant with cumulative > point.
  const scaledPoint = BigInt(referenceBucket(subject, seed, "variant")) * total;
  let cumulative = 0n;
  for (const v of sorted) {
    cumulative += BigInt(v.weight);
    if (cumulative * 10000n > scaledPoint) return v.name;
  }
  throw new Error("reference: no variant picked");
}

const subjects = (n: number, prefix = "user-") => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe("bucket", () => {
  it("matches the sha256/BigInt reference on known inputs", () => {
    const inputs: [string, string, string][] = [
      ["", "", ""],
      ["user-1", "exp-checkout", "variant"],
      ["user-1", "exp-checkout", "allocation"],
      ["ユーザー", "実験", "variant"],
      ["a:b", "c", "d"],
      ["😀", "seed", "salt"],
    ];
    for (const [s, seed, salt] of inputs) expect(bucket(s, seed, salt)).toBe(referenceBucket(s, seed, salt));
  });

  it("matches the reference for arbitrary strings (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), fc.string(), fc.string(), (s, seed, salt) => {
        const b = bucket(s, seed, salt);
        expect(Number.isInteger(b) && b >= 0 && b < 10000).toBe(true);
        expect(b).toBe(referenceBucket(s, seed, salt));
      }),
      { numRuns: 2000 },
    );
  });

  it("is roughly uniform over 100k subjects (chi-square over 100 bins)", () => {
    const bins = new Array<number>(100).fill(0);
    const n = 100_000;
    for (const s of subjects(n)) bins[Math.floor(bucket(s, "exp-uniform", "variant") / 100)]++;
    const expected = n / bins.length;
    const chi2 = bins.reduce((acc, observed) => acc + (observed - expected) ** 2 / expected, 0);
    // 99 degrees of freedom: mean 99, sd ≈ 14; 200 is a loose sanity bound (p ≈ 1e-8).
    expect(chi2).toBeLessThan(200);
  });

  it("depends on the salt and the seed", () => {
    const ids = subjects(200);
    const same = (f: (s: string) => number, g: (s: string) => number) => ids.filter((s) => f(s) === g(s)).length;
    expect(same((s) => bucket(s, "e", "variant"), (s) => bucket(s, "e", "allocation"))).toBeLessThan(5);
    expect(same((s) => bucket(s, "e1", "variant"), (s) => bucket(s, "e2", "variant"))).toBeLessThan(5);
  });
});

describe("inAllocation", () => {
  it("is bucket(subject, seed, 'allocation') < basis points", () => {
    for (const s of subjects(500)) {
      const b = referenceBucket(s, "exp", "allocation");
      expect(inAllocation(s, "exp", b)).toBe(false);
      expect(inAllocation(s, "exp", b + 1)).toBe(true);
    }
  });

  it("growing the allocation only adds subjects", () => {
    const ids = subjects(20_000);
    const at10 = ids.filter((s) => inAllocation(s, "exp-ramp", 1000));
    const at20 = new Set(ids.filter((s) => inAllocation(s, "exp-ramp", 2000)));
    for (const s of at10) expect(at20.has(s)).toBe(true);
    expect(at10.length / ids.length).toBeGreaterThan(0.09);
    expect(at10.length / ids.length).toBeLessThan(0.11);
    expect(at20.size / ids.length).toBeGreaterThan(0.19);
    expect(at20.size / ids.length).toBeLessThan(0.21);
  });

  it("includes everyone at 10000 basis points and nobody at 0", () => {
    for (const s of subjects(300)) {
      expect(inAllocation(s, "exp", 10000)).toBe(true);
      expect(inAllocation(s, "exp", 0)).toBe(false);
    }
  });
});

describe("pickVariant", () => {
  it("returns undefined without variants or with zero total weight", () => {
    expect(pickVariant("u", "e", [])).toBeUndefined();
    expect(pickVariant("u", "e", [{ name: "a", weight: 0 }, { name: "b", weight: 0 }])).toBeUndefined();
  });

  it("agrees with the reference for arbitrary weights (property)", () => {
    const variantsArb = fc.uniqueArray(
      fc.record({ name: fc.string({ minLength: 1, maxLength: 6 }), weight: fc.integer({ min: 0, max: 1_000_000 }) }),
      { minLength: 1, maxLength: 6, selector: (v) => v.name },
    );
    fc.assert(
      fc.property(fc.string(), fc.string(), variantsArb, (s, seed, variants) => {
        expect(pickVariant(s, seed, variants)).toBe(referencePick(s, seed, variants));
      }),
      { numRuns: 2000 },
    );
  });

  it("sorts variants by name (code-unit order) regardless of input order", () => {
    const ids = subjects(2000);
    const forward = [{ name: "B", weight: 1 }, { name: "a", weight: 1 }, { name: "Z", weight: 2 }];
    const backward = [...forward].reverse();
    for (const s of ids) expect(pickVariant(s, "e", forward)).toBe(pickVariant(s, "e", backward));
    // Code-unit order is B < Z < a, so "B" takes buckets [0, 2500).
    for (const s of ids) {
      const b = bucket(s, "e", "variant");
      const expected = b < 2500 ? "B" : b < 7500 ? "Z" : "a";
      expect(pickVariant(s, "e", forward)).toBe(expected);
    }
  });

  it("sends a bucket exactly on a cumulative boundary to the next variant", () => {
    for (const s of subjects(300)) {
      const b = bucket(s, "exp", "variant");
      if (b === 0) continue;
      // Boundary of "a" is exactly b: a iff bucket * total < weight_a * 10000.
      expect(pickVariant(s, "exp", [{ name: "a", weight: b }, { name: "b", weight: 10000 - b }])).toBe("b");
      expect(pickVariant(s, "exp", [{ name: "a", weight: 3 * b }, { name: "b", weight: 3 * (10000 - b) }])).toBe("b");
      expect(pickVariant(s, "exp", [{ name: "a", weight: b + 1 }, { name: "b", weight: 9999 - b }])).toBe("a");
    }
  });

  it("honours weights over 100k subjects", () => {
    const prepared = prepareVariants([{ name: "control", weight: 1 }, { name: "treatment", weight: 3 }, { name: "off", weight: 0 }]);
    const counts = new Map<string | undefined, number>();
    for (const s of subjects(100_000)) {
      const v = pickPrepared(s, "exp-weights", prepared);
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    expect(counts.get("off")).toBeUndefined();
    expect(counts.get(undefined)).toBeUndefined();
    const control = (counts.get("control") ?? 0) / 100_000;
    expect(control).toBeGreaterThan(0.24);
    expect(control).toBeLessThan(0.26);
  });

  it("prepareVariants rejects invalid weights", () => {
    expect(() => prepareVariants([{ name: "a", weight: -1 }])).toThrow(RangeError);
    expect(() => prepareVariants([{ name: "a", weight: 0.5 }])).toThrow(RangeError);
    expect(() => prepareVariants([{ name: "a", weight: Number.NaN }])).toThrow(RangeError);
    expect(() => prepareVariants([{ name: "a", weight: 2 ** 50 }])).toThrow(RangeError);
  });

  it("prepareVariants does not mutate its input", () => {
    const input = [{ name: "b", weight: 1 }, { name: "a", weight: 1 }];
    prepareVariants(input);
    expect(input.map((v) => v.name)).toEqual(["b", "a"]);
  });
});
