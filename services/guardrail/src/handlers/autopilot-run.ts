// The autopilot inside a sweep: for one running experiment with a ramp plan, read its gates,
// decide, act through the experiment service with the expected version, record the decision.
import { randomUUID } from "node:crypto";
import { create, type JsonObject } from "@bufbuild/protobuf";
import { durationFromMs, timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { publishEvent, Subjects } from "@lotty/platform/events";
import { AutopilotSteppedSchema } from "@lotty/proto/events";
import type { Experiment } from "@lotty/proto/experiment";
import { AutopilotAction, type AutopilotDecision } from "@lotty/proto/guardrail";
import type { MetricValue } from "@lotty/proto/metrics";
import { evaluateAutopilot, progresses, type AutopilotDecisionPlan, type AutopilotInput, type Verdict } from "../domain/autopilot.js";
import type { MetricInfo } from "../domain/rules.js";
import { insertDecision, listDecisions, saveState, toDecision, type AutopilotState } from "../store/autopilot.js";
import { SERVICE_ACTOR, type Ctx } from "./context.js";
import { pause, promote, rollback, setStep, type ActOutcome } from "./lifecycle.js";
import { infoFor, queryKey, type MetricQuery } from "./metric-values.js";

/** Whether the autopilot has anything to do for this experiment now. */
export function autopilotApplies(e: Experiment, state: AutopilotState | undefined): boolean {
  if (!e.rampPlan || e.rampPlan.steps.length === 0) return false;
  return !(state?.done && state.currentStep === e.currentRampStep);
}

/**
 * Where the current step started: the recorded start when the autopilot's state matches the
 * experiment's step; otherwise (first sight, or the step was moved by hand) the experiment's
 * last update, which is never earlier than the step's real start, so min-duration errs long.
 */
export function stepStartOf(e: Experiment, state: AutopilotState | undefined, now: Date): Date {
  if (state && state.currentStep === e.currentRampStep) return state.stepStart;
  return e.updateTime ? timestampDate(e.updateTime) : now;
}

/** Queries for the current step's gates, plus one to read exposures when no gate provides them. */
export function autopilotQueries(e: Experiment, stepStart: Date, now: Date, fallbackMetric: string | undefined): MetricQuery[] {
  const step = e.rampPlan?.steps[e.currentRampStep];
  if (!step) return [];
  const q = (metricKey: string) => ({ experimentId: e.id, metricKey, start: stepStart, end: now });
  const gates = step.gates.map((g) => q(g.metricKey));
  const exposureMetric = e.primaryMetricKey || fallbackMetric;
  if (gates.length === 0 && step.minExposuresPerVariant > 0n && exposureMetric) gates.push(q(exposureMetric));
  return gates;
}

const ACTION_OF: Record<Verdict["kind"], AutopilotAction> = {
  advance: AutopilotAction.ADVANCE,
  promote: AutopilotAction.PROMOTE,
  finish: AutopilotAction.WAIT,
  wait: AutopilotAction.WAIT,
  breach: AutopilotAction.PAUSE,
};

function actionOf(v: Verdict): AutopilotAction {
  if (v.kind !== "breach") return ACTION_OF[v.kind];
  return v.safety === "rollback" ? AutopilotAction.ROLLBACK : v.safety === "step_back" ? AutopilotAction.STEP_BACK : AutopilotAction.PAUSE;
}

const EVENT_LABEL: Partial<Record<AutopilotAction, string>> = {
  [AutopilotAction.ADVANCE]: "advance",
  [AutopilotAction.SKIP]: "advance",
  [AutopilotAction.STEP_BACK]: "step_back",
  [AutopilotAction.PAUSE]: "pause",
  [AutopilotAction.ROLLBACK]: "rollback",
  [AutopilotAction.PROMOTE]: "promote",
};

export interface AutopilotRun {
  e: Experiment;
  state: AutopilotState | undefined;
  values: ReadonlyMap<string, MetricValue>;
  defs: ReadonlyMap<string, MetricInfo>;
  guardrailFired: boolean;
  fallbackMetric: string | undefined;
  now: Date;
  dryRun: boolean;
}

/** Runs the autopilot once for an experiment; undefined when another actor got there first. */
export async function runAutopilot(ctx: Ctx, run: AutopilotRun): Promise<AutopilotDecision | undefined> {
  const { e, state, now } = run;
  const plan = e.rampPlan!;
  const stepStart = stepStartOf(e, state, now);
  const queries = autopilotQueries(e, stepStart, now, run.fallbackMetric);
  const step = plan.steps[e.currentRampStep];
  const readings = queries.map((q) => run.values.get(queryKey(q)));
  const input: AutopilotInput = {
    plan,
    currentStep: e.currentRampStep,
    stepStart,
    now,
    variants: e.variants,
    exposures: readings.find((v) => v !== undefined)?.exposures,
    guardrailFired: run.guardrailFired,
    gates: (step?.gates ?? []).map((gate, i) => {
      const value = readings[i];
      return { gate, value, info: infoFor(value, run.defs.get(gate.metricKey)) };
    }),
    held: state?.held ?? false,
  };
  let decision = evaluateAutopilot(input);
  // The SRM check costs a report, so it is fetched only when it is the last thing between the
  // ramp and its next step.
  if (progresses(decision.verdict) && e.currentRampStep >= 0) {
    const { report } = await ctx.metrics.getReport({
      experimentId: e.id,
      // One metric keeps the report cheap (SRM only needs exposures); CUPED off for the same reason.
      metricKeys: queries.length > 0 ? [queries[0].metricKey] : [],
      cupedPrePeriod: durationFromMs(0),
    });
    const srm = report?.srm;
    decision = evaluateAutopilot({ ...input, srm: srm && { mismatch: srm.mismatch, insufficientData: srm.insufficientData, pValue: srm.pValue } });
  }
  return act(ctx, run, stepStart, decision);
}

async function act(ctx: Ctx, run: AutopilotRun, stepStart: Date, d: AutopilotDecisionPlan): Promise<AutopilotDecision | undefined> {
  const { e, now } = run;
  const v = d.verdict;
  const from = e.currentRampStep;
  const to = v.kind === "advance" || v.kind === "breach" ? v.to : from;
  const action = actionOf(v);
  const base = { experimentId: e.id, action, fromStep: from, toStep: to, reason: d.reason, checks: d.checks, decideTime: now, actor: SERVICE_ACTOR };
  if (run.dryRun) return toDecision({ ...base, id: "" });

  const metadata: JsonObject = { autopilot: true, reason: d.reason };
  let result: ActOutcome = { state: "applied" };
  let next: AutopilotState = { experimentId: e.id, currentStep: from, stepStart, held: run.state?.held ?? false, done: false };
  switch (v.kind) {
    case "advance":
      result = await setStep(ctx, e, v.to, `autopilot: ${d.reason}`, metadata);
      next = { ...next, currentStep: v.to, stepStart: now };
      break;
    case "promote":
      result = await promote(ctx, e, v.variant, `autopilot: ${d.reason}`, metadata);
      next = { ...next, done: true };
      break;
    case "finish":
      next = { ...next, done: true };
      break;
    case "breach":
      if (v.safety === "step_back") {
        result = await setStep(ctx, e, v.to, `autopilot: ${d.reason}`, metadata);
        next = { ...next, currentStep: v.to, stepStart: now };
      } else {
        result = v.safety === "rollback" ? await rollback(ctx, e, `autopilot: ${d.reason}`, metadata) : await pause(ctx, e, `autopilot: ${d.reason}`, metadata);
        next = { ...next, done: true };
      }
      break;
    case "wait":
      break;
  }
  if (result.state === "superseded") return undefined; // another sweep or a person moved it first
  if (result.state === "failed") throw new Error(`autopilot ${EVENT_LABEL[action] ?? "action"} on ${e.id} failed: ${result.why}`);

  await saveState(ctx.db, next, now);
  const decision = toDecision({ ...base, id: randomUUID() });
  if (action === AutopilotAction.WAIT && (await repeatsLast(ctx, decision))) return toDecision({ ...base, id: "" });
  await insertDecision(ctx.db, { ...base, id: decision.id, experimentVersion: e.version });
  await publishStepped(ctx, e, decision);
  return decision;
}

/** A wait with the same step and reason as the last recorded decision is not stored again. */
async function repeatsLast(ctx: Ctx, d: AutopilotDecision): Promise<boolean> {
  const [last] = await listDecisions(ctx.db, d.experimentId, 1);
  return last !== undefined && last.action === d.action && last.fromStep === d.fromStep && last.reason === d.reason;
}

/** AutopilotStepped for moves (not waits); a failed publish is logged, the decision is recorded. */
export async function publishStepped(ctx: Ctx, e: Experiment, d: AutopilotDecision): Promise<void> {
  const label = EVENT_LABEL[d.action];
  if (!label) return;
  const event = create(AutopilotSteppedSchema, {
    eventId: d.id,
    occurTime: d.decideTime ?? timestampFromDate(ctx.clock()),
    experimentId: e.id,
    experimentName: e.name,
    owner: e.owner,
    action: label,
    fromStep: d.fromStep,
    toStep: d.toStep,
    trafficAllocation: e.rampPlan?.steps[d.toStep]?.trafficAllocation ?? e.effectiveTrafficAllocation,
    reason: d.reason,
    checks: d.checks,
  });
  try {
    await publishEvent(ctx.bus, Subjects.autopilotStepped, AutopilotSteppedSchema, event, d.id);
  } catch (err) {
    ctx.logger.warn({ err, experimentId: e.id }, "could not publish autopilot.step; the decision is recorded");
  }
}
