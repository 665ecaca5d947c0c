import { create } from "@bufbuild/protobuf";
import { ValueType } from "@lotty/proto/common";
import {
  ApproverGroupSchema,
  ExperimentSchema,
  ExperimentStatus as S,
  FlagSchema,
  ParticipationOverrideSchema,
  RampPlanSchema,
  type Experiment,
} from "@lotty/proto/experiment";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import {
  allocationProblem,
  assertMayApprove,
  assertTransition,
  assertUpdatable,
  canTransition,
  countedApprovals,
  effectiveParticipation,
  FROZEN_FIELDS,
  reviewRule,
  thresholdMet,
  validateExperiment,
  validateRampPlan,
  valueMismatch,
  DEFAULT_POLICY,
} from "../src/domain/index.js";
import { v, type ExperimentInit } from "./harness.js";

const ALL = [S.DRAFT, S.IN_REVIEW, S.APPROVED, S.RUNNING, S.PAUSED, S.COMPLETED, S.ARCHIVED, S.REJECTED];
const ALLOWED = new Set([
  "DRAFT>IN_REVIEW",
  "DRAFT>ARCHIVED",
  "IN_REVIEW>APPROVED",
  "IN_REVIEW>DRAFT",
  "IN_REVIEW>REJECTED",
  "REJECTED>DRAFT",
  "REJECTED>ARCHIVED",
  "APPROVED>RUNNING",
  "RUNNING>PAUSED",
  "PAUSED>RUNNING",
  "RUNNING>COMPLETED",
  "PAUSED>COMPLETED",
  "COMPLETED>ARCHIVED",
]);

function codeOf(fn: () => void): Code | undefined {
  try {
    fn();
  } catch (e) {
    return ConnectError.from(e).code;
  }
  return undefined;
}

describe("lifecycle transitions", () => {
  for (const from of ALL) {
    for (const to of ALL) {
      const edge = `${S[from]}>${S[to]}`;
      const allowed = ALLOWED.has(edge);
      it(`${edge} is ${allowed ? "allowed" : "refused"}`, () => {
        expect(canTransition(from, to)).toBe(allowed);
        if (allowed) expect(() => assertTransition(from, to)).not.toThrow();
        else {
          expect(() => assertTransition(from, to)).toThrow(`experiment is ${S[from].toLowerCase()}; cannot move to ${S[to].toLowerCase()}`);
          expect(codeOf(() => assertTransition(from, to))).toBe(Code.FailedPrecondition);
        }
      });
    }
  }
});

const exp = (over: ExperimentInit = {}) => create(ExperimentSchema, { owner: "alice", status: S.IN_REVIEW, ...over });

describe("review rules", () => {
  const group = reviewRule(create(ApproverGroupSchema, { owner: "alice", approvers: ["bob", "carol"], minApprovals: 2 }));
  it("refuses the owner, outsiders, anonymous callers and repeat approvals", () => {
    expect(codeOf(() => assertMayApprove(exp(), "alice", group))).toBe(Code.PermissionDenied);
    expect(codeOf(() => assertMayApprove(exp(), "mallory", group))).toBe(Code.PermissionDenied);
    expect(codeOf(() => assertMayApprove(exp(), "anonymous", reviewRule(undefined)))).toBe(Code.PermissionDenied);
    expect(codeOf(() => assertMayApprove(exp({ approvals: [{ approver: "bob" }] }), "bob", group))).toBe(Code.FailedPrecondition);
    expect(codeOf(() => assertMayApprove(exp(), "bob", group))).toBeUndefined();
  });
  it("falls back to anyone but the owner with one approval", () => {
    const rule = reviewRule(undefined);
    expect(rule.minApprovals).toBe(1);
    expect(codeOf(() => assertMayApprove(exp(), "anyone", rule))).toBeUndefined();
    expect(thresholdMet(exp({ approvals: [{ approver: "x" }] }), rule)).toBe(true);
  });
  it("counts only approvals valid under the group as it stands", () => {
    const e = exp({ approvals: [{ approver: "bob" }, { approver: "zed" }] });
    expect(countedApprovals(e, group).map((a) => a.approver)).toEqual(["bob"]);
    expect(thresholdMet(e, group)).toBe(false);
    expect(thresholdMet(exp({ approvals: [{ approver: "bob" }, { approver: "carol" }] }), group)).toBe(true);
  });
});

describe("frozen fields", () => {
  for (const field of FROZEN_FIELDS) {
    it(`${field} changes in draft, not in review, and never once started`, () => {
      expect(codeOf(() => assertUpdatable(S.DRAFT, [field]))).toBeUndefined();
      expect(() => assertUpdatable(S.APPROVED, [field])).toThrow(`"experiment.${field}" can only change in draft`);
      for (const s of [S.RUNNING, S.PAUSED]) expect(() => assertUpdatable(s, [field])).toThrow(`"experiment.${field}" is frozen`);
    });
  }
  it("descriptive fields change while running, nothing after completion", () => {
    expect(codeOf(() => assertUpdatable(S.RUNNING, ["description", "participation"]))).toBeUndefined();
    expect(codeOf(() => assertUpdatable(S.COMPLETED, ["description"]))).toBe(Code.FailedPrecondition);
  });
});

describe("validation", () => {
  const flag = create(FlagSchema, { key: "f", valueType: ValueType.NUMBER, defaultValue: v(1) });
  const valid = () =>
    create(ExperimentSchema, {
      name: "n",
      owner: "o",
      flagKey: "f",
      variants: [
        { name: "a", value: v(1), weight: 0, control: true },
        { name: "b", value: v(2), weight: 3 },
      ],
    });
  const fields = (e: Experiment) => {
    const r = validateExperiment(e, { flag, knownDomains: new Set() });
    return r.ok ? [] : r.violations.map((x) => x.field);
  };

  it("accepts a valid experiment and defaults allocation to 100", () => {
    const r = validateExperiment(valid(), { flag, knownDomains: new Set() });
    expect(r.ok && r.experiment.trafficAllocation).toBe(100);
    expect(r.ok && r.targetingAst).toEqual({ kind: "true" });
  });
  it("names the field of each violation", () => {
    expect(fields({ ...valid(), name: "" })).toEqual(["experiment.name"]);
    expect(fields({ ...valid(), variants: valid().variants.map((x) => ({ ...x, weight: 0 })) })).toEqual(["experiment.variants"]);
    expect(fields({ ...valid(), variants: [valid().variants[0], { ...valid().variants[1], name: "a" }] })).toEqual(["experiment.variants[1].name"]);
    expect(fields({ ...valid(), variants: [valid().variants[0], { ...valid().variants[1], value: v("2") }] })).toEqual(["experiment.variants[1].value"]);
    expect(fields({ ...valid(), targeting: "a IN [1," })).toEqual(["experiment.targeting"]);
  });
  it("checks allocations: 0.01..100, two decimals", () => {
    expect([0.01, 1, 12.34, 100].map(allocationProblem)).toEqual([undefined, undefined, undefined, undefined]);
    expect([0, 0.001, 100.01, 12.345, Number.NaN].every((x) => allocationProblem(x) !== undefined)).toBe(true);
  });
  it("checks values against types", () => {
    expect(valueMismatch(ValueType.BOOL, v(true))).toBeUndefined();
    expect(valueMismatch(ValueType.BOOL, v("true"))).toContain("bool");
    expect(valueMismatch(ValueType.JSON, v({ a: [1] }))).toBeUndefined();
    expect(valueMismatch(ValueType.STRING, undefined)).toBe("is required");
  });
  it("requires ramp allocations to increase", () => {
    const plan = create(RampPlanSchema, { steps: [{ trafficAllocation: 10 }, { trafficAllocation: 5 }] });
    expect(validateRampPlan(plan, "p").map((x) => x.field)).toEqual(["p.steps[1].traffic_allocation"]);
  });
  it("resolves participation overrides over the global policy", () => {
    expect(effectiveParticipation(DEFAULT_POLICY, undefined)).toEqual({ maxConcurrentExperiments: 3, cooldownSeconds: 604800 });
    expect(effectiveParticipation(DEFAULT_POLICY, create(ParticipationOverrideSchema, { maxConcurrentExperiments: 1, cooldown: { seconds: 60n } }))).toEqual({ maxConcurrentExperiments: 1, cooldownSeconds: 60 });
  });
});
