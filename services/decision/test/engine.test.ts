import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ConflictPolicy } from "@lotty/proto/experiment";
import {
  compileRuleset,
  decide,
  decideFirst,
  DecisionReason,
  type AssignmentRecord,
  type SubjectHistory,
} from "../src/domain/index.js";
import { ruleset, subjects } from "./fixtures.js";

const NOW = 1_700_000_000_000;
const noHistory: SubjectHistory = { assignments: new Map(), endedAtMs: new Map(), nowMs: NOW };
const history = (assignments: AssignmentRecord[], ended: Record<string, number> = {}, nowMs = NOW): SubjectHistory => ({
  assignments: new Map(assignments.map((a) => [a.experimentId, a])),
  endedAtMs: new Map(Object.entries(ended)),
  nowMs,
});
const US = { country: "US" };

// Reference bucketing straight from the spec, in BigInt, independent of libs/bucketing.
function refBucket(subject: string, seed: string, salt: string): bigint {
  const hex = createHash("sha256").update(`${subject}:${seed}:${salt}`).digest("hex").slice(0, 16);
  return BigInt(`0x${hex}`) % 10000n;
}
function refVariant(subject: string, seed: string, weights: Record<string, number>): string {
  const names = Object.keys(weights).sort();
  const total = names.reduce((s, n) => s + BigInt(weights[n]), 0n);
  const point = refBucket(subject, seed, "variant") * total; // = h × total / 100, scaled by 10000
  let cumulative = 0n;
  for (const n of names) {
    cumulative += BigInt(weights[n]);
    if (cumulative * 10000n > point) return n;
  }
  throw new Error("unreachable");
}

describe("reasons, in order", () => {
  const compiled = compileRuleset(
    ruleset({
      flags: ["bare", "gated", "tiny", "empty", "open"],
      experiments: [
        { id: "exp-gated", flag: "gated", targeting: 'country == "US"' },
        { id: "exp-tiny", flag: "tiny", allocation: 1, targeting: 'country == "US"' },
        { id: "exp-empty", flag: "empty", weights: {} },
        { id: "exp-open", flag: "open", maxConcurrent: 1 },
      ],
    }),
  );
  const run = (flagKey: string, attributes: Record<string, string> = US, h = noHistory) => decide(compiled, { subjectId: "s-1", flagKey, attributes }, h);

  it("flag_not_found serves no value", () => {
    const d = run("nope");
    expect(d.reason).toBe(DecisionReason.FLAG_NOT_FOUND);
    expect(d.value).toBeUndefined();
  });

  it("no_active_experiment serves the default", () => {
    const d = run("bare");
    expect(d.reason).toBe(DecisionReason.NO_ACTIVE_EXPERIMENT);
    expect(d.value?.kind).toEqual({ case: "stringValue", value: "default" });
  });

  it("targeting_mismatch comes before allocation", () => {
    // exp-tiny has a 0.01 % allocation: a non-US subject is reported for targeting first.
    expect(run("tiny", { country: "FR" }).reason).toBe(DecisionReason.TARGETING_MISMATCH);
    expect(run("gated", {}).reason).toBe(DecisionReason.TARGETING_MISMATCH);
  });

  it("outside_traffic_allocation when the bucket is at or above the allocation", () => {
    const outside = subjects(50).filter((s) => refBucket(s, "exp-tiny", "allocation") >= 1n);
    for (const s of outside) {
      expect(decide(compiled, { subjectId: s, flagKey: "tiny", attributes: US }, noHistory).reason).toBe(DecisionReason.OUTSIDE_TRAFFIC_ALLOCATION);
    }
  });

  it("no_variants when the experiment has no weight", () => {
    expect(run("empty").reason).toBe(DecisionReason.NO_VARIANTS);
  });

  it("participation_limit when the subject is in as many other experiments as allowed", () => {
    const other = { experimentId: "exp-gated", variant: "control", assignedAtMs: NOW - 1000 };
    expect(run("open", US, history([other])).reason).toBe(DecisionReason.PARTICIPATION_LIMIT);
  });

  it("experiment_assigned with the variant's value", () => {
    const d = run("gated");
    expect(d.reason).toBe(DecisionReason.EXPERIMENT_ASSIGNED);
    expect(d.experimentId).toBe("exp-gated");
    expect(d.value?.kind).toEqual({ case: "stringValue", value: d.variant });
    expect(d.newAssignment).toBe(true);
  });

  it("answers everything before the history phase without needing history", () => {
    for (const [flagKey, attributes] of [["nope", US], ["bare", US], ["gated", {}], ["empty", US]] as const) {
      expect(decideFirst(compiled, { subjectId: "s-1", flagKey, attributes }).kind).toBe("done");
    }
    expect(decideFirst(compiled, { subjectId: "s-1", flagKey: "gated", attributes: US }).kind).toBe("needs-history");
  });
});

describe("bucketing compatibility", () => {
  const weights = { zeta: 1, alpha: 2, mid: 3 };
  const compiled = compileRuleset(
    ruleset({ flags: ["f"], experiments: [{ id: "e", flag: "f", seed: "seed-42", allocation: 3_333, weights }] }),
  );

  it("matches the reference sha256 formula for allocation and variant", () => {
    let inside = 0;
    for (const s of subjects(2000)) {
      const d = decide(compiled, { subjectId: s, flagKey: "f", attributes: {} }, noHistory);
      if (refBucket(s, "seed-42", "allocation") < 3_333n) {
        inside++;
        expect(d.reason).toBe(DecisionReason.EXPERIMENT_ASSIGNED);
        expect(d.variant).toBe(refVariant(s, "seed-42", weights));
      } else {
        expect(d.reason).toBe(DecisionReason.OUTSIDE_TRAFFIC_ALLOCATION);
      }
    }
    expect(inside).toBeGreaterThan(500);
  });
});

describe("stickiness", () => {
  const before = compileRuleset(ruleset({ flags: ["f"], experiments: [{ id: "e", flag: "f", allocation: 2_000 }] }));

  it("keeps the variant across a weight change", () => {
    const after = compileRuleset(ruleset({ version: 2n, flags: ["f"], experiments: [{ id: "e", flag: "f", allocation: 2_000, weights: { control: 1, treatment: 99 } }] }));
    let moved = 0;
    for (const s of subjects(500)) {
      const first = decide(before, { subjectId: s, flagKey: "f", attributes: {} }, noHistory);
      if (first.reason !== DecisionReason.EXPERIMENT_ASSIGNED) continue;
      const record = { experimentId: "e", variant: first.variant, assignedAtMs: NOW };
      const fresh = decide(after, { subjectId: s, flagKey: "f", attributes: {} }, noHistory);
      if (fresh.variant !== first.variant) moved++;
      const sticky = decide(after, { subjectId: s, flagKey: "f", attributes: {} }, history([record]));
      expect(sticky.variant).toBe(first.variant);
      expect(sticky.newAssignment).toBe(false);
    }
    // Without stickiness the new weights would have moved some subjects.
    expect(moved).toBeGreaterThan(0);
  });

  it("keeps subjects and variants across a ramp step (allocation growth only adds subjects)", () => {
    const ramped = compileRuleset(ruleset({ version: 2n, flags: ["f"], experiments: [{ id: "e", flag: "f", allocation: 5_000, weights: { control: 30, treatment: 70 } }] }));
    let added = 0;
    for (const s of subjects(500)) {
      const first = decide(before, { subjectId: s, flagKey: "f", attributes: {} }, noHistory);
      const h = first.reason === DecisionReason.EXPERIMENT_ASSIGNED ? history([{ experimentId: "e", variant: first.variant, assignedAtMs: NOW }]) : noHistory;
      const next = decide(ramped, { subjectId: s, flagKey: "f", attributes: {} }, h);
      if (first.reason === DecisionReason.EXPERIMENT_ASSIGNED) {
        expect(next.reason).toBe(DecisionReason.EXPERIMENT_ASSIGNED);
        expect(next.variant).toBe(first.variant);
      } else if (next.reason === DecisionReason.EXPERIMENT_ASSIGNED) {
        added++;
      }
    }
    expect(added).toBeGreaterThan(0);
  });

  it("re-checks targeting for an assigned subject", () => {
    const gated = compileRuleset(ruleset({ flags: ["f"], experiments: [{ id: "e", flag: "f", targeting: 'country == "US"' }] }));
    const h = history([{ experimentId: "e", variant: "treatment", assignedAtMs: NOW }]);
    expect(decide(gated, { subjectId: "s", flagKey: "f", attributes: { country: "FR" } }, h).reason).toBe(DecisionReason.TARGETING_MISMATCH);
    expect(decide(gated, { subjectId: "s", flagKey: "f", attributes: US }, h).variant).toBe("treatment");
  });
});

describe("determinism", () => {
  it("two compiled copies (two replicas) give the same answers", () => {
    const spec = {
      flags: ["a", "b"],
      experiments: [
        { id: "ea", flag: "a", allocation: 6_000, targeting: 'country in ["US", "CA"]', domains: [{ key: "d" }] },
        { id: "eb", flag: "b", weights: { x: 1, y: 1, z: 2 }, domains: [{ key: "d" }] },
      ],
      domains: [{ key: "d", policy: ConflictPolicy.MUTUAL_EXCLUSION }],
    };
    const r1 = compileRuleset(ruleset(spec));
    const r2 = compileRuleset(ruleset(spec));
    for (const s of subjects(300)) {
      for (const flagKey of ["a", "b"]) {
        const input = { subjectId: s, flagKey, attributes: { country: s.endsWith("7") ? "FR" : "US" } };
        const d1 = decide(r1, input, noHistory);
        expect(decide(r2, input, noHistory)).toEqual(d1);
        expect(decide(r1, input, noHistory)).toEqual(d1);
      }
    }
  });
});

describe("participation limit and cooldown", () => {
  const compiled = compileRuleset(
    ruleset({ flags: ["f"], experiments: [{ id: "e", flag: "f", maxConcurrent: 2, cooldownSeconds: 3600 }] }),
  );
  const input = { subjectId: "s", flagKey: "f", attributes: {} };
  const a = (id: string): AssignmentRecord => ({ experimentId: id, variant: "v", assignedAtMs: NOW - 10_000_000 });

  it("allows entry below the limit and refuses at it", () => {
    expect(decide(compiled, input, history([a("x")])).reason).toBe(DecisionReason.EXPERIMENT_ASSIGNED);
    expect(decide(compiled, input, history([a("x"), a("y")])).reason).toBe(DecisionReason.PARTICIPATION_LIMIT);
  });

  it("counts an ended experiment until its cooldown is over", () => {
    const endedAt = NOW - 1000;
    expect(decide(compiled, input, history([a("x"), a("y")], { y: endedAt })).reason).toBe(DecisionReason.PARTICIPATION_LIMIT);
    const later = NOW + 3600 * 1000;
    expect(decide(compiled, input, history([a("x"), a("y")], { y: endedAt }, later)).reason).toBe(DecisionReason.EXPERIMENT_ASSIGNED);
  });

  it("does not hold the subject's own assignment against it", () => {
    const d = decide(compiled, input, history([a("x"), a("y"), { experimentId: "e", variant: "control", assignedAtMs: NOW }]));
    expect(d.reason).toBe(DecisionReason.EXPERIMENT_ASSIGNED);
    expect(d.variant).toBe("control");
  });
});

describe("conflict domains", () => {
  it("mutual exclusion spreads each subject into exactly max_concurrent members", () => {
    const ids = ["e1", "e2", "e3"];
    const compiled = compileRuleset(
      ruleset({
        flags: ids.map((id) => `f-${id}`),
        experiments: ids.map((id) => ({ id, flag: `f-${id}`, domains: [{ key: "layer" }] })),
        domains: [{ key: "layer", policy: ConflictPolicy.MUTUAL_EXCLUSION, maxConcurrent: 1 }],
      }),
    );
    const perExperiment = new Map<string, number>();
    for (const s of subjects(600)) {
      const admitted = ids.filter(
        (id) => decide(compiled, { subjectId: s, flagKey: `f-${id}`, attributes: {} }, noHistory).reason === DecisionReason.EXPERIMENT_ASSIGNED,
      );
      expect(admitted).toHaveLength(1);
      perExperiment.set(admitted[0], (perExperiment.get(admitted[0]) ?? 0) + 1);
      for (const id of ids.filter((i) => i !== admitted[0])) {
        expect(decide(compiled, { subjectId: s, flagKey: `f-${id}`, attributes: {} }, noHistory).reason).toBe(DecisionReason.DOMAIN_CONFLICT);
      }
    }
    for (const id of ids) expect(perExperiment.get(id)).toBeGreaterThan(100);
  });

  it("max_concurrent 2 of 3 admits each subject into two", () => {
    const ids = ["e1", "e2", "e3"];
    const compiled = compileRuleset(
      ruleset({
        flags: ids.map((id) => `f-${id}`),
        experiments: ids.map((id) => ({ id, flag: `f-${id}`, domains: [{ key: "layer" }] })),
        domains: [{ key: "layer", policy: ConflictPolicy.MUTUAL_EXCLUSION, maxConcurrent: 2 }],
      }),
    );
    for (const s of subjects(100)) {
      const admitted = ids.filter(
        (id) => decide(compiled, { subjectId: s, flagKey: `f-${id}`, attributes: {} }, noHistory).reason === DecisionReason.EXPERIMENT_ASSIGNED,
      );
      expect(admitted).toHaveLength(2);
    }
  });

  it("priority: the highest-priority eligible member wins, ties by id", () => {
    const compiled = compileRuleset(
      ruleset({
        flags: ["fa", "fb", "fc"],
        experiments: [
          { id: "a", flag: "fa", domains: [{ key: "p", priority: 5 }] },
          { id: "b", flag: "fb", domains: [{ key: "p", priority: 9 }], targeting: 'country == "US"' },
          { id: "c", flag: "fc", domains: [{ key: "p", priority: 5 }] },
        ],
        domains: [{ key: "p", policy: ConflictPolicy.PRIORITY }],
      }),
    );
    const reason = (flagKey: string, attributes: Record<string, string>) =>
      decide(compiled, { subjectId: "s", flagKey, attributes }, noHistory).reason;
    // US subjects: b (priority 9) wins.
    expect(reason("fb", US)).toBe(DecisionReason.EXPERIMENT_ASSIGNED);
    expect(reason("fa", US)).toBe(DecisionReason.DOMAIN_CONFLICT);
    expect(reason("fc", US)).toBe(DecisionReason.DOMAIN_CONFLICT);
    // Others are not eligible for b: a and c tie at 5, a wins by id.
    expect(reason("fa", { country: "FR" })).toBe(DecisionReason.EXPERIMENT_ASSIGNED);
    expect(reason("fc", { country: "FR" })).toBe(DecisionReason.DOMAIN_CONFLICT);
  });
});

describe("compilation", () => {
  it("fails closed for an experiment whose targeting does not compile", () => {
    const r = ruleset({ flags: ["f", "g"], experiments: [{ id: "bad", flag: "f" }, { id: "good", flag: "g" }] });
    r.experiments[0].targetingAstJson = '{"kind":"nonsense"}';
    const compiled = compileRuleset(r);
    expect(compiled.errors.map((e) => e.experimentId)).toEqual(["bad"]);
    expect(decide(compiled, { subjectId: "s", flagKey: "f", attributes: {} }, noHistory).reason).toBe(DecisionReason.NO_ACTIVE_EXPERIMENT);
    expect(decide(compiled, { subjectId: "s", flagKey: "g", attributes: {} }, noHistory).reason).toBe(DecisionReason.EXPERIMENT_ASSIGNED);
  });
});
