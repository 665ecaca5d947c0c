import { create } from "@bufbuild/protobuf";
import { durationFromMs, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Queryable } from "@lotty/platform/db";
import { TriggerSchema, type GuardrailAction, type Trigger } from "@lotty/proto/guardrail";
import type { RuleKind } from "../domain/rules.js";

export type TriggerState = "pending" | "applied" | "superseded" | "failed";

export interface NewTrigger {
  id: string;
  guardrailId: string;
  experimentId: string;
  experimentVersion: bigint;
  metricKey: string;
  variant: string;
  threshold: number;
  observed: number;
  windowMs: number;
  action: GuardrailAction;
  ruleKind: RuleKind;
  sweepId: string;
  detail: string;
}

interface TriggerRow {
  id: string;
  guardrail_id: string;
  experiment_id: string;
  metric_key: string;
  variant: string;
  threshold: number;
  observed_value: number;
  window_ms: string;
  action: number;
  state: TriggerState;
  fire_time: Date;
  detail: string;
}

const COLUMNS = "id, guardrail_id, experiment_id, metric_key, variant, threshold, observed_value, window_ms, action, state, fire_time, detail";

function toTrigger(r: TriggerRow): Trigger {
  return create(TriggerSchema, {
    id: r.id,
    guardrailId: r.guardrail_id,
    experimentId: r.experiment_id,
    metricKey: r.metric_key,
    variant: r.variant,
    threshold: r.threshold,
    observedValue: r.observed_value,
    window: durationFromMs(Number(r.window_ms)),
    action: r.action as GuardrailAction,
    applied: r.state === "applied",
    fireTime: timestampFromDate(r.fire_time),
    detail: r.detail,
  });
}

/**
 * Records a firing and claims the right to act on it. One row exists per (guardrail, experiment
 * version): of several sweeps judging the same version, exactly one gets the claim (the insert
 * is atomic under the unique constraint). A row left pending past the lease (its sweep died
 * mid-action) or failed may be claimed again, so a crash cannot silence a guardrail.
 * Returns the claimed row's id, or undefined when another sweep holds it or already finished it.
 */
export async function claimTrigger(db: Queryable, t: NewTrigger, now: Date, leaseMs: number): Promise<string | undefined> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO guardrail.triggers AS t
       (id, guardrail_id, experiment_id, experiment_version, metric_key, variant, threshold, observed_value,
        window_ms, action, rule_kind, state, claimed_at, sweep_id, fire_time, detail)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'pending', $12, $13, $12, $14)
     ON CONFLICT (guardrail_id, experiment_version) DO UPDATE
       SET state = 'pending', claimed_at = EXCLUDED.claimed_at, sweep_id = EXCLUDED.sweep_id,
           observed_value = EXCLUDED.observed_value, detail = EXCLUDED.detail
       WHERE t.state = 'failed' OR (t.state = 'pending' AND t.claimed_at < $15)
     RETURNING t.id`,
    [
      t.id, t.guardrailId, t.experimentId, t.experimentVersion.toString(), t.metricKey, t.variant, t.threshold, t.observed,
      t.windowMs, t.action, t.ruleKind, now, t.sweepId, t.detail, new Date(now.getTime() - leaseMs),
    ],
  );
  return rows[0]?.id;
}

/** Records how the claimed firing's action ended. */
export async function finishTrigger(db: Queryable, id: string, state: Exclude<TriggerState, "pending">, detail: string): Promise<Trigger> {
  const { rows } = await db.query<TriggerRow>(
    `UPDATE guardrail.triggers SET state = $2, detail = $3 WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, state, detail],
  );
  return toTrigger(rows[0]);
}

/** Newest first; the key is "<fire_time ISO>|<id>". Returns up to limit+1 rows. */
export async function listTriggers(db: Queryable, q: { experimentId: string; after?: string; limit: number }): Promise<Trigger[]> {
  const [afterTime, afterId] = q.after ? splitKey(q.after) : [null, null];
  const { rows } = await db.query<TriggerRow>(
    `SELECT ${COLUMNS} FROM guardrail.triggers
     WHERE ($1 = '' OR experiment_id = $1)
       AND ($2::timestamptz IS NULL OR (fire_time, id) < ($2::timestamptz, $3::uuid))
     ORDER BY fire_time DESC, id DESC LIMIT $4`,
    [q.experimentId, afterTime, afterId, q.limit + 1],
  );
  return rows.map(toTrigger);
}

export function triggerKey(t: Trigger): string {
  const ms = Number(t.fireTime!.seconds) * 1000 + Math.floor(t.fireTime!.nanos / 1e6);
  return `${new Date(ms).toISOString()}|${t.id}`;
}

function splitKey(key: string): [string, string] {
  const i = key.indexOf("|");
  return [key.slice(0, i), key.slice(i + 1)];
}
