import type { Queryable } from "@lotty/platform/db";
import type { RuleSpec } from "../domain/rules.js";
import type { Cursor } from "./pagination.js";

export interface RuleRecord {
  id: string;
  spec: RuleSpec;
  createTime: Date;
}

interface Row {
  id: string;
  spec: RuleSpec;
  create_time: Date;
}

const fromRow = (r: Row): RuleRecord => ({ id: r.id, spec: r.spec, createTime: new Date(r.create_time) });

export async function insertRule(q: Queryable, r: RuleRecord): Promise<void> {
  await q.query("INSERT INTO notification.rules (id, spec, create_time) VALUES ($1, $2::jsonb, $3)", [r.id, JSON.stringify(r.spec), r.createTime]);
}

export async function updateRule(q: Queryable, r: RuleRecord): Promise<void> {
  await q.query("UPDATE notification.rules SET spec = $2::jsonb WHERE id = $1", [r.id, JSON.stringify(r.spec)]);
}

export async function getRule(q: Queryable, id: string): Promise<RuleRecord | undefined> {
  const { rows } = await q.query<Row>("SELECT * FROM notification.rules WHERE id = $1", [id]);
  return rows[0] && fromRow(rows[0]);
}

export async function enabledRules(q: Queryable): Promise<RuleRecord[]> {
  const { rows } = await q.query<Row>("SELECT * FROM notification.rules WHERE (spec->>'enabled')::boolean ORDER BY create_time, id");
  return rows.map(fromRow);
}

export async function listRules(q: Queryable, limit: number, after: Cursor | undefined): Promise<RuleRecord[]> {
  const { rows } = await q.query<Row>(
    `SELECT * FROM notification.rules
     WHERE $1::timestamptz IS NULL OR (create_time, id) > ($1::timestamptz, $2::text)
     ORDER BY create_time, id LIMIT $3`,
    [after?.time ?? null, after?.id ?? "", limit],
  );
  return rows.map(fromRow);
}

export async function deleteRule(q: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await q.query("DELETE FROM notification.rules WHERE id = $1", [id]);
  return rowCount > 0;
}
