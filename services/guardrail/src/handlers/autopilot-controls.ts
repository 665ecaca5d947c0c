// Manual autopilot controls (hold, resume, skip a step) and its state, under audit: each is
// recorded as a decision naming the person who made it.
import { randomUUID } from "node:crypto";
import { create, type JsonObject } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { failedPrecondition, invalidArgument } from "@lotty/platform/rpc";
import { ExperimentStatus, type Experiment } from "@lotty/proto/experiment";
import { AutopilotAction, AutopilotSchema, type Autopilot } from "@lotty/proto/guardrail";
import { getStates, insertDecision, listDecisions, saveState, toDecision, type AutopilotState } from "../store/autopilot.js";
import type { Ctx } from "./context.js";
import { publishStepped, stepStartOf } from "./autopilot-run.js";

/** Decisions shown with the state. */
const HISTORY = 200;

async function rampedExperiment(ctx: Ctx, id: string): Promise<Experiment> {
  if (id === "") throw invalidArgument("experiment_id", "is required");
  const { experiment } = await ctx.experiment.getExperiment({ id });
  if (!experiment?.rampPlan || experiment.rampPlan.steps.length === 0) throw failedPrecondition(`experiment ${id} has no ramp plan`);
  return experiment;
}

/** The stored state, or the state read off the experiment when the autopilot has not run yet. */
async function stateOf(ctx: Ctx, e: Experiment): Promise<AutopilotState> {
  const stored = (await getStates(ctx.db, [e.id])).get(e.id);
  const inSync = stored && stored.currentStep === e.currentRampStep;
  return {
    experimentId: e.id,
    currentStep: e.currentRampStep,
    stepStart: stepStartOf(e, stored, ctx.clock()),
    held: stored?.held ?? false,
    done: inSync ? stored.done : false,
  };
}

async function view(ctx: Ctx, s: AutopilotState): Promise<Autopilot> {
  return create(AutopilotSchema, {
    experimentId: s.experimentId,
    currentStep: s.currentStep,
    stepStartTime: timestampFromDate(s.stepStart),
    held: s.held,
    done: s.done,
    decisions: await listDecisions(ctx.db, s.experimentId, HISTORY),
  });
}

export async function getAutopilot(ctx: Ctx, experimentId: string): Promise<Autopilot> {
  return view(ctx, await stateOf(ctx, await rampedExperiment(ctx, experimentId)));
}

async function record(ctx: Ctx, e: Experiment, action: AutopilotAction, from: number, to: number, reason: string, actor: string, checks: JsonObject) {
  const d = { id: randomUUID(), experimentId: e.id, action, fromStep: from, toStep: to, reason, checks, decideTime: ctx.clock(), actor, experimentVersion: e.version };
  await insertDecision(ctx.db, d);
  return toDecision(d);
}

export async function holdAutopilot(ctx: Ctx, experimentId: string, reason: string, actor: string): Promise<Autopilot> {
  const e = await rampedExperiment(ctx, experimentId);
  const s = { ...(await stateOf(ctx, e)), held: true };
  await saveState(ctx.db, s, ctx.clock());
  await record(ctx, e, AutopilotAction.HOLD, s.currentStep, s.currentStep, reason || "held", actor, { held: true });
  return view(ctx, s);
}

/** Resume also clears "done" after a breach pause, so a person who resumed the experiment can let the ramp continue. */
export async function resumeAutopilot(ctx: Ctx, experimentId: string, reason: string, actor: string): Promise<Autopilot> {
  const e = await rampedExperiment(ctx, experimentId);
  const s = { ...(await stateOf(ctx, e)), held: false, done: false };
  await saveState(ctx.db, s, ctx.clock());
  await record(ctx, e, AutopilotAction.RESUME, s.currentStep, s.currentStep, reason || "resumed", actor, { held: false });
  return view(ctx, s);
}

export async function skipRampStep(ctx: Ctx, experimentId: string, reason: string, actor: string): Promise<Autopilot> {
  const e = await rampedExperiment(ctx, experimentId);
  if (e.status !== ExperimentStatus.RUNNING) throw failedPrecondition(`experiment ${e.id} is not running`);
  const from = e.currentRampStep;
  const to = from + 1;
  if (to >= e.rampPlan!.steps.length) throw failedPrecondition(`experiment ${e.id} is on its last ramp step (${from + 1} of ${e.rampPlan!.steps.length})`);
  const why = `skipped by ${actor}${reason ? `: ${reason}` : ""}`;
  // Called directly so ABORTED / FAILED_PRECONDITION reach the person as they are.
  await ctx.experiment.setRampStep({ id: e.id, expectedVersion: e.version, step: to, reason: why, metadata: { autopilot: true, actor, skip: true } });
  const now = ctx.clock();
  const s = { ...(await stateOf(ctx, e)), currentStep: to, stepStart: now, done: false };
  await saveState(ctx.db, s, now);
  const d = await record(ctx, e, AutopilotAction.SKIP, from, to, why, actor, { skipped: true });
  await publishStepped(ctx, e, d);
  return view(ctx, s);
}
