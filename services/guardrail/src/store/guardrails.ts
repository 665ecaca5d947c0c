import { create, fromJson, toJson, type JsonValue } from "@bufbuild/protobuf";
import { durationFromMs, durationMs, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Queryable } from "@lotty/platform/db";
import {
  GuardrailSchema,
  RelativeRuleSchema,
  SloRuleSchema,
  ThresholdRuleSchema,
  type Guardrail,
  type GuardrailAction,
} from "@lotty/proto/guardrail";
import type { RuleKind } from "../domain/rules.js";

interface GuardrailRow {
  id: string;
  experiment_id: string;
  metric_key: string;
  window_ms: string;
  action: number;
  active: boolean;
  rule_kind: RuleKind;
  rule: JsonValue;
  version: string;
  create_time: Date;
  update_time: Date;
}

const COLUMNS = "id, experiment_id, metric_key, window_ms, action, active, rule_kind, rule, version, create_time, update_time";

function ruleOf(kind: RuleKind, json: JsonValue): Guardrail["rule"] {
  switch (kind) {
    case "threshold":
      return { case: "threshold", value: fromJson(ThresholdRuleSchema, json) };
    case "relative":
      return { case: "relative", value: fromJson(RelativeRuleSchema, json) };
    case "slo":
      return { case: "slo", value: fromJson(SloRuleSchema, json) };
  }
}

/** The rule as stored: its kind and its message as proto JSON. */
function ruleColumns(rule: Guardrail["rule"]): { kind: RuleKind; json: JsonValue } {
  switch (rule.case) {
    case "threshold":
      return { kind: "threshold", json: toJson(ThresholdRuleSchema, rule.value) };
    case "relative":
      return { kind: "relative", json: toJson(RelativeRuleSchema, rule.value) };
    case "slo":
      return { kind: "slo", json: toJson(SloRuleSchema, rule.value) };
    default:
      throw new Error("guardrail without a rule reached the store");
  }
}

function toGuardrail(r: GuardrailRow): Guardrail {
  return create(GuardrailSchema, {
    id: r.id,
    experimentId: r.experiment_id,
    metricKey: r.metric_key,
    window: durationFromMs(Number(r.window_ms)),
    action: r.action as GuardrailAction,
    active: r.active,
    rule: ruleOf(r.rule_kind, r.rule),
    createTime: timestampFromDate(r.create_time),
    updateTime: timestampFromDate(r.update_time),
    version: BigInt(r.version),
  });
}

export function ruleKindOf(g: Guardrail): RuleKind {
  return ruleColumns(g.rule).kind;
}

export async function insertGuardrail(db: Queryable, g: Guardrail, now: Date): Promise<Guardrail> {
  const rule = ruleColumns(g.rule);
  const { rows } = await db.query<GuardrailRow>(
    `INSERT INTO guardrail.guardrails (${COLUMNS})
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $9) RETURNING ${COLUMNS}`,
    [g.id, g.experimentId, g.metricKey, durationMs(g.window!), g.action, g.active, rule.kind, JSON.stringify(rule.json), now],
  );
  return toGuardrail(rows[0]);
}

export async function getGuardrail(db: Queryable, id: string): Promise<Guardrail | undefined> {
  const { rows } = await db.query<GuardrailRow>(`SELECT ${COLUMNS} FROM guardrail.guardrails WHERE id = $1`, [id]);
  return rows[0] && toGuardrail(rows[0]);
}

/** Up to limit+1 guardrails ordered by id, after a key, optionally of one experiment. */
export async function listGuardrails(db: Queryable, q: { experimentId: string; after?: string; limit: number }): Promise<Guardrail[]> {
  const { rows } = await db.query<GuardrailRow>(
    `SELECT ${COLUMNS} FROM guardrail.guardrails
     WHERE ($1 = '' OR experiment_id = $1) AND ($2::uuid IS NULL OR id > $2::uuid)
     ORDER BY id LIMIT $3`,
    [q.experimentId, q.after ?? null, q.limit + 1],
  );
  return rows.map(toGuardrail);
}

/** Active guardrails of these experiments, grouped by experiment. */
export async function activeGuardrails(db: Queryable, experimentIds: readonly string[]): Promise<Map<string, Guardrail[]>> {
  const out = new Map<string, Guardrail[]>();
  if (experimentIds.length === 0) return out;
  const { rows } = await db.query<GuardrailRow>(
    `SELECT ${COLUMNS} FROM guardrail.guardrails WHERE active AND experiment_id = ANY($1::text[]) ORDER BY id`,
    [experimentIds],
  );
  for (const r of rows) {
    const g = toGuardrail(r);
    out.set(g.experimentId, [...(out.get(g.experimentId) ?? []), g]);
  }
  return out;
}

/** Writes the updatable fields when the stored version is still `version`; undefined if it moved. */
export async function updateGuardrail(db: Queryable, g: Guardrail, version: bigint, now: Date): Promise<Guardrail | undefined> {
  const rule = ruleColumns(g.rule);
  const { rows } = await db.query<GuardrailRow>(
    `UPDATE guardrail.guardrails
     SET window_ms = $3, action = $4, active = $5, rule = $6, version = version + 1, update_time = $7
     WHERE id = $1 AND version = $2 RETURNING ${COLUMNS}`,
    [g.id, version.toString(), durationMs(g.window!), g.action, g.active, JSON.stringify(rule.json), now],
  );
  return rows[0] && toGuardrail(rows[0]);
}

export async function deleteGuardrail(db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await db.query(`DELETE FROM guardrail.guardrails WHERE id = $1`, [id]);
  return rowCount > 0;
}
