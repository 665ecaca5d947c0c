// One experiment's guardrails in a sweep: evaluate in order, record each firing, act on the
// first that acts, publish what happened.
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { durationFromMs, durationMs, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { publishEvent, Subjects } from "@lotty/platform/events";
import { GuardrailTriggeredSchema } from "@lotty/proto/events";
import type { Experiment } from "@lotty/proto/experiment";
import { GuardrailAction, TriggerSchema, type Guardrail, type Trigger } from "@lotty/proto/guardrail";
import type { MetricValue } from "@lotty/proto/metrics";
import { evaluateRelative, evaluateSlo, evaluateThreshold, type Firing, type MetricInfo } from "../domain/rules.js";
import { acts, firingsToHandle, sweepOrder } from "../domain/sweep-order.js";
import { ruleKindOf } from "../store/guardrails.js";
import { claimTrigger, finishTrigger, type NewTrigger } from "../store/triggers.js";
import type { Ctx } from "./context.js";
import { pause, rollback, setStep, type ActOutcome } from "./lifecycle.js";
import { infoFor, queryKey, windowQuery, type MetricQuery } from "./metric-values.js";

/** A claim older than this whose sweep never finished it may be taken over by a later sweep. */
export const TRIGGER_LEASE_MS = 5 * 60_000;

export const ACTION_LABEL: Record<GuardrailAction, string> = {
  [GuardrailAction.UNSPECIFIED]: "unspecified",
  [GuardrailAction.PAUSE]: "pause",
  [GuardrailAction.ROLLBACK]: "rollback",
  [GuardrailAction.STEP_BACK]: "step_back",
  [GuardrailAction.ALERT_ONLY]: "alert_only",
};

/** The metric the guardrail reads (an SLO reads its error metric when it names one). */
function metricOf(g: Guardrail): string {
  return g.rule.case === "slo" && g.rule.value.errorMetricKey !== "" ? g.rule.value.errorMetricKey : g.metricKey;
}

export function guardrailQueries(g: Guardrail, now: Date): MetricQuery[] {
  const metric = metricOf(g);
  if (g.rule.case === "slo") {
    return [windowQuery(g.experimentId, metric, durationMs(g.rule.value.longWindow!), now), windowQuery(g.experimentId, metric, durationMs(g.rule.value.shortWindow!), now)];
  }
  return [windowQuery(g.experimentId, metric, durationMs(g.window!), now)];
}

export function evaluateGuardrail(g: Guardrail, now: Date, values: ReadonlyMap<string, MetricValue>, defs: ReadonlyMap<string, MetricInfo>): Firing | undefined {
  const [first, second] = guardrailQueries(g, now).map((q) => values.get(queryKey(q)));
  if (!first) return undefined;
  const info = infoFor(first, defs.get(metricOf(g)));
  switch (g.rule.case) {
    case "threshold":
      return evaluateThreshold(g.rule.value, first, info);
    case "relative":
      return evaluateRelative(g.rule.value, first, info);
    case "slo":
      return second && evaluateSlo(g.rule.value, first, second, info);
    default:
      return undefined;
  }
}

export interface GuardrailOutcome {
  /** Some guardrail fired (whether or not its action was ours to apply). */
  fired: boolean;
  /** The experiment was (or is being) changed by a firing: the autopilot leaves it alone. */
  acted: boolean;
  triggers: Trigger[];
}

/** Applies a guardrail's action; step-back with no lower ramp step pauses instead. */
function applyAction(ctx: Ctx, e: Experiment, g: Guardrail, reason: string, triggerId: string, sweepId: string): Promise<ActOutcome> {
  const metadata = { trigger_id: triggerId, guardrail_id: g.id, sweep_id: sweepId };
  switch (g.action) {
    case GuardrailAction.ROLLBACK:
      return rollback(ctx, e, reason, metadata);
    case GuardrailAction.STEP_BACK:
      if (e.rampPlan && e.currentRampStep > 0) return setStep(ctx, e, e.currentRampStep - 1, reason, metadata);
      return pause(ctx, e, `${reason} (no lower ramp step: paused)`, metadata);
    case GuardrailAction.PAUSE:
      return pause(ctx, e, reason, metadata);
    default:
      return Promise.resolve({ state: "applied" });
  }
}

export async function checkGuardrails(
  ctx: Ctx,
  e: Experiment,
  guardrails: readonly Guardrail[],
  values: ReadonlyMap<string, MetricValue>,
  defs: ReadonlyMap<string, MetricInfo>,
  sweep: { id: string; now: Date; dryRun: boolean },
): Promise<GuardrailOutcome> {
  const evaluated = sweepOrder(guardrails).map((g) => ({ guardrail: g, firing: evaluateGuardrail(g, sweep.now, values, defs) }));
  const firings = firingsToHandle(evaluated);
  const outcome: GuardrailOutcome = { fired: firings.length > 0, acted: false, triggers: [] };

  for (const { guardrail: g, firing } of firings) {
    const action = ACTION_LABEL[g.action];
    const t: NewTrigger = {
      id: randomUUID(),
      guardrailId: g.id,
      experimentId: e.id,
      experimentVersion: e.version,
      metricKey: metricOf(g),
      variant: firing.variant,
      threshold: firing.threshold,
      observed: firing.observed,
      windowMs: durationMs(g.window!),
      action: g.action,
      ruleKind: ruleKindOf(g),
      sweepId: sweep.id,
      detail: firing.detail,
    };
    if (acts(g.action)) outcome.acted = true;
    if (sweep.dryRun) {
      outcome.triggers.push(draftTrigger(t, sweep.now, `dry run, would ${action}: ${firing.detail}`));
      continue;
    }
    // Recorded before acting, so the firing survives whatever happens to the action.
    const claimed = await claimTrigger(ctx.db, t, sweep.now, TRIGGER_LEASE_MS);
    if (!claimed) continue; // another sweep recorded this firing for this version and acts on it
    t.id = claimed;
    const result = await applyAction(ctx, e, g, `guardrail ${g.id} fired: ${firing.detail}`, t.id, sweep.id);
    const detail =
      result.state === "applied" ? `${firing.detail}; ${action} applied`
      : result.state === "superseded" ? `${firing.detail}; ${action} not applied: another actor changed the experiment first (${result.why})`
      : `${firing.detail}; ${action} failed (${result.why})`;
    if (result.state === "failed") ctx.logger.error({ experimentId: e.id, guardrailId: g.id, err: result.why }, "guardrail action failed");
    const trigger = await finishTrigger(ctx.db, t.id, result.state, detail);
    outcome.triggers.push(trigger);
    await publishTriggered(ctx, e, t, trigger);
  }
  return outcome;
}

function draftTrigger(t: NewTrigger, now: Date, detail: string): Trigger {
  return create(TriggerSchema, {
    guardrailId: t.guardrailId,
    experimentId: t.experimentId,
    metricKey: t.metricKey,
    variant: t.variant,
    threshold: t.threshold,
    observedValue: t.observed,
    window: durationFromMs(t.windowMs),
    action: t.action,
    applied: false,
    fireTime: timestampFromDate(now),
    detail,
  });
}

/** The record is already in the database; a failed publish is logged, never loses the trigger. */
async function publishTriggered(ctx: Ctx, e: Experiment, t: NewTrigger, trigger: Trigger): Promise<void> {
  const event = create(GuardrailTriggeredSchema, {
    eventId: trigger.id,
    occurTime: trigger.fireTime,
    triggerId: trigger.id,
    guardrailId: t.guardrailId,
    experimentId: e.id,
    experimentName: e.name,
    flagKey: e.flagKey,
    owner: e.owner,
    metricKey: t.metricKey,
    variant: t.variant,
    threshold: t.threshold,
    observedValue: t.observed,
    windowSeconds: BigInt(Math.round(t.windowMs / 1000)),
    action: ACTION_LABEL[t.action],
    applied: trigger.applied,
    sweepId: t.sweepId,
    ruleKind: t.ruleKind,
  });
  try {
    await publishEvent(ctx.bus, Subjects.guardrailTriggered, GuardrailTriggeredSchema, event, trigger.id);
  } catch (err) {
    ctx.logger.warn({ err, triggerId: trigger.id }, "could not publish guardrail.triggered; the trigger is recorded");
  }
}
