import { create, type JsonObject } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Queryable } from "@lotty/platform/db";
import { AutopilotDecisionSchema, type AutopilotAction, type AutopilotDecision } from "@lotty/proto/guardrail";

export interface AutopilotState {
  experimentId: string;
  currentStep: number;
  stepStart: Date;
  held: boolean;
  done: boolean;
}

export interface NewDecision {
  id: string;
  experimentId: string;
  action: AutopilotAction;
  fromStep: number;
  toStep: number;
  reason: string;
  checks: JsonObject;
  decideTime: Date;
  actor: string;
  experimentVersion: bigint;
}

interface StateRow {
  experiment_id: string;
  current_step: number;
  step_start_time: Date;
  held: boolean;
  done: boolean;
}

interface DecisionRow {
  id: string;
  experiment_id: string;
  action: number;
  from_step: number;
  to_step: number;
  reason: string;
  checks: JsonObject;
  decide_time: Date;
  actor: string;
}

const toState = (r: StateRow): AutopilotState => ({
  experimentId: r.experiment_id,
  currentStep: r.current_step,
  stepStart: r.step_start_time,
  held: r.held,
  done: r.done,
});

export function toDecision(d: Omit<NewDecision, "experimentVersion">): AutopilotDecision {
  return create(AutopilotDecisionSchema, {
    id: d.id,
    experimentId: d.experimentId,
    action: d.action,
    fromStep: d.fromStep,
    toStep: d.toStep,
    reason: d.reason,
    checks: d.checks,
    decideTime: timestampFromDate(d.decideTime),
    actor: d.actor,
  });
}

export async function getStates(db: Queryable, experimentIds: readonly string[]): Promise<Map<string, AutopilotState>> {
  if (experimentIds.length === 0) return new Map();
  const { rows } = await db.query<StateRow>(
    `SELECT experiment_id, current_step, step_start_time, held, done FROM guardrail.autopilot_state WHERE experiment_id = ANY($1::text[])`,
    [experimentIds],
  );
  return new Map(rows.map((r) => [r.experiment_id, toState(r)]));
}

export async function saveState(db: Queryable, s: AutopilotState, now: Date): Promise<void> {
  await db.query(
    `INSERT INTO guardrail.autopilot_state (experiment_id, current_step, step_start_time, held, done, update_time)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (experiment_id) DO UPDATE SET current_step = $2, step_start_time = $3, held = $4, done = $5, update_time = $6`,
    [s.experimentId, s.currentStep, s.stepStart, s.held, s.done, now],
  );
}

export async function insertDecision(db: Queryable, d: NewDecision): Promise<void> {
  await db.query(
    `INSERT INTO guardrail.autopilot_decisions
       (id, experiment_id, action, from_step, to_step, reason, checks, decide_time, actor, experiment_version)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [d.id, d.experimentId, d.action, d.fromStep, d.toStep, d.reason, JSON.stringify(d.checks), d.decideTime, d.actor, d.experimentVersion.toString()],
  );
}

/** The newest decisions of an experiment, newest first. */
export async function listDecisions(db: Queryable, experimentId: string, limit: number): Promise<AutopilotDecision[]> {
  const { rows } = await db.query<DecisionRow>(
    `SELECT id, experiment_id, action, from_step, to_step, reason, checks, decide_time, actor
     FROM guardrail.autopilot_decisions WHERE experiment_id = $1 ORDER BY decide_time DESC, id DESC LIMIT $2`,
    [experimentId, limit],
  );
  return rows.map((r) =>
    toDecision({
      id: r.id,
      experimentId: r.experiment_id,
      action: r.action as AutopilotAction,
      fromStep: r.from_step,
      toStep: r.to_step,
      reason: r.reason,
      checks: r.checks,
      decideTime: r.decide_time,
      actor: r.actor,
    }),
  );
}
