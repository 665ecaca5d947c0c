import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Flag, Experiment } from "@lotty/proto/experiment";
import { ExperimentSchema, ExperimentStatus, RampPlanSchema } from "@lotty/proto/experiment";
import { parseRule, type RuleAst } from "@lotty/targeting";
import { allocationProblem } from "./allocation.js";
import { invalidArguments, type FieldViolation } from "./errors.js";
import { validateOverride } from "./policy.js";
import { validateRampPlan, withRampDefaults } from "./ramp.js";
import { valueMismatch } from "./values.js";

export const VARIANT_NAME = /^[a-z][a-z0-9_-]*$/;
export const MAX_VARIANTS = 20;
export const MAX_NAME_LENGTH = 200;
export const MAX_TEXT_LENGTH = 10_000;
/** An unset (0) traffic allocation means everyone. */
export const DEFAULT_ALLOCATION = 100;

/** What validation needs to know beyond the experiment itself. */
export interface ExperimentContext {
  /** The experiment's flag, when it exists. */
  flag?: Flag;
  knownDomains: ReadonlySet<string>;
}

export type Validated =
  | { ok: true; experiment: Experiment; targetingAst: RuleAst }
  | { ok: false; violations: FieldViolation[] };

/** The validated experiment, or INVALID_ARGUMENT listing every violation. */
export function expectValid(v: Validated): Extract<Validated, { ok: true }> {
  if (!v.ok) throw invalidArguments(v.violations);
  return v;
}

/** Parses a targeting rule; a syntax error names the field with its line, column and expectation. */
export function compileTargeting(src: string, field: string): { ast: RuleAst } | { violation: FieldViolation } {
  const parsed = parseRule(src);
  if (parsed.ok) return { ast: parsed.ast };
  const { message, line, column, expected } = parsed.error;
  const want = expected.length > 0 ? ` (expected ${expected.join(", ")})` : "";
  return { violation: { field, description: `syntax error at line ${line}, column ${column}: ${message}${want}` } };
}

function textLimit(out: FieldViolation[], field: string, v: string, max: number, required = false): void {
  if (required && v.trim() === "") out.push({ field, description: "is required" });
  else if (v.length > max) out.push({ field, description: `must be at most ${max} characters` });
}

/**
 * Checks everything an experiment must satisfy in any status, and fills defaults (allocation,
 * ramp on_breach). Field names are prefixed "experiment.".
 */
export function validateExperiment(input: Experiment, ctx: ExperimentContext): Validated {
  const out: FieldViolation[] = [];
  const f = (p: string) => `experiment.${p}`;
  const e = create(ExperimentSchema, input);
  if (e.trafficAllocation === 0) e.trafficAllocation = DEFAULT_ALLOCATION;

  textLimit(out, f("name"), e.name, MAX_NAME_LENGTH, true);
  textLimit(out, f("owner"), e.owner, MAX_NAME_LENGTH, true);
  textLimit(out, f("description"), e.description, MAX_TEXT_LENGTH);
  textLimit(out, f("hypothesis"), e.hypothesis, MAX_TEXT_LENGTH);
  textLimit(out, f("bucketing_seed"), e.bucketingSeed, MAX_NAME_LENGTH);

  if (e.flagKey === "") out.push({ field: f("flag_key"), description: "is required" });
  else if (!ctx.flag) out.push({ field: f("flag_key"), description: `flag "${e.flagKey}" does not exist` });
  else if (ctx.flag.archived) out.push({ field: f("flag_key"), description: `flag "${e.flagKey}" is archived` });

  validateVariants(e, ctx.flag, out);

  const alloc = allocationProblem(e.trafficAllocation);
  if (alloc) out.push({ field: f("traffic_allocation"), description: alloc });

  const targeting = compileTargeting(e.targeting, f("targeting"));
  if ("violation" in targeting) out.push(targeting.violation);

  e.secondaryMetricKeys.forEach((k, i) => {
    if (k.trim() === "") out.push({ field: f(`secondary_metric_keys[${i}]`), description: "must not be empty" });
  });

  const seen = new Set<string>();
  e.domains.forEach((m, i) => {
    if (!ctx.knownDomains.has(m.domainKey)) {
      out.push({ field: f(`domains[${i}].domain_key`), description: `conflict domain "${m.domainKey}" does not exist` });
    } else if (seen.has(m.domainKey)) {
      out.push({ field: f(`domains[${i}].domain_key`), description: "is listed twice" });
    }
    seen.add(m.domainKey);
  });

  out.push(...validateOverride(e.participation, f("participation")));
  if (e.rampPlan) {
    out.push(...validateRampPlan(e.rampPlan, f("ramp_plan")));
    e.rampPlan = create(RampPlanSchema, withRampDefaults(e.rampPlan));
  }

  if (out.length > 0 || "violation" in targeting) return { ok: false, violations: out };
  return { ok: true, experiment: e, targetingAst: targeting.ast };
}

function validateVariants(e: Experiment, flag: Flag | undefined, out: FieldViolation[]): void {
  const field = "experiment.variants";
  if (e.variants.length < 2 || e.variants.length > MAX_VARIANTS) {
    out.push({ field, description: `must have 2..${MAX_VARIANTS} variants` });
  }
  const controls = e.variants.filter((v) => v.control).length;
  if (controls !== 1) out.push({ field, description: `must have exactly one control variant (found ${controls})` });
  const total = e.variants.reduce((s, v) => s + Math.max(v.weight, 0), 0);
  if (e.variants.length > 0 && total <= 0) out.push({ field, description: "weights must add up to more than 0" });

  const names = new Set<string>();
  e.variants.forEach((v, i) => {
    const vf = `${field}[${i}]`;
    if (!VARIANT_NAME.test(v.name) || v.name.length > 64) {
      out.push({ field: `${vf}.name`, description: `must match ${VARIANT_NAME.source} (at most 64 characters)` });
    } else if (names.has(v.name)) {
      out.push({ field: `${vf}.name`, description: `duplicate variant name "${v.name}"` });
    }
    names.add(v.name);
    if (v.weight < 0) out.push({ field: `${vf}.weight`, description: "must not be negative" });
    if (flag) {
      const bad = valueMismatch(flag.valueType, v.value);
      if (bad) out.push({ field: `${vf}.value`, description: bad });
    }
  });
}

/** Server-owned fields of a new experiment: identity, status, version, times. */
export function initialize(e: Experiment, id: string, now: Date): Experiment {
  return create(ExperimentSchema, {
    ...e,
    id,
    status: ExperimentStatus.DRAFT,
    bucketingSeed: e.bucketingSeed || id,
    version: 1n,
    currentRampStep: -1,
    approvals: [],
    outcome: undefined,
    createTime: timestampFromDate(now),
    updateTime: timestampFromDate(now),
    startTime: undefined,
    endTime: undefined,
    effectiveTrafficAllocation: effectiveAllocation(e),
  });
}

/** The allocation in force: the current ramp step's while a ramp runs, else the experiment's. */
export function effectiveAllocation(e: Experiment): number {
  const step = e.rampPlan?.steps[e.currentRampStep];
  return step ? step.trafficAllocation : e.trafficAllocation || DEFAULT_ALLOCATION;
}
