import { create } from "@bufbuild/protobuf";
import { FlagSchema, type Flag } from "@lotty/proto/experiment";
import type { Queryable } from "@lotty/platform/db";
import { big, jsonParam, ts, valueFromJson, valueToJson } from "./codec.js";

interface FlagRow {
  key: string;
  description: string;
  value_type: number;
  default_value: unknown;
  archived: boolean;
  version: string;
  created_at: Date;
  updated_at: Date;
}

function toFlag(r: FlagRow): Flag {
  return create(FlagSchema, {
    key: r.key,
    description: r.description,
    valueType: r.value_type,
    defaultValue: valueFromJson(r.default_value),
    archived: r.archived,
    version: big(r.version),
    createTime: ts(r.created_at),
    updateTime: ts(r.updated_at),
  });
}

/** Inserts a flag; undefined when the key is taken. */
export async function insertFlag(q: Queryable, f: Flag, now: Date): Promise<Flag | undefined> {
  const { rows } = await q.query<FlagRow>(
    `INSERT INTO experiment.flags (key, description, value_type, default_value, created_at, updated_at)
     VALUES ($1, $2, $3, $4::jsonb, $5, $5) ON CONFLICT (key) DO NOTHING RETURNING *`,
    [f.key, f.description, f.valueType, jsonParam(valueToJson(f.defaultValue)), now.toISOString()],
  );
  return rows[0] && toFlag(rows[0]);
}

export async function getFlag(q: Queryable, key: string): Promise<Flag | undefined> {
  const { rows } = await q.query<FlagRow>(`SELECT * FROM experiment.flags WHERE key = $1`, [key]);
  return rows[0] && toFlag(rows[0]);
}

/** Reads and row-locks a flag for the rest of the transaction. */
export async function lockFlag(q: Queryable, key: string): Promise<Flag | undefined> {
  const { rows } = await q.query<FlagRow>(`SELECT * FROM experiment.flags WHERE key = $1 FOR UPDATE`, [key]);
  return rows[0] && toFlag(rows[0]);
}

export interface FlagFilter {
  query: string;
  includeArchived: boolean;
  after?: string;
  limit: number;
}

export async function listFlags(q: Queryable, f: FlagFilter): Promise<Flag[]> {
  const { rows } = await q.query<FlagRow>(
    `SELECT * FROM experiment.flags
      WHERE ($1 = '' OR strpos(key, $1) > 0 OR strpos(lower(description), lower($1)) > 0)
        AND ($2 OR NOT archived) AND ($3::text IS NULL OR key > $3)
      ORDER BY key LIMIT $4`,
    [f.query, f.includeArchived, f.after ?? null, f.limit + 1],
  );
  return rows.map(toFlag);
}

/**
 * Writes description, default value and archived, bumping the version, only while the version is
 * still `expected` (0 = unconditional); undefined when it moved.
 */
export async function updateFlag(q: Queryable, f: Flag, expected: bigint, now: Date): Promise<Flag | undefined> {
  const { rows } = await q.query<FlagRow>(
    `UPDATE experiment.flags
        SET description = $2, default_value = $3::jsonb, archived = $4, version = version + 1, updated_at = $5
      WHERE key = $1 AND ($6::bigint = 0 OR version = $6::bigint) RETURNING *`,
    [f.key, f.description, jsonParam(valueToJson(f.defaultValue)), f.archived, now.toISOString(), expected.toString()],
  );
  return rows[0] && toFlag(rows[0]);
}

/** Non-archived flags, for the ruleset. */
export async function liveFlags(q: Queryable): Promise<Flag[]> {
  const { rows } = await q.query<FlagRow>(`SELECT * FROM experiment.flags WHERE NOT archived ORDER BY key`);
  return rows.map(toFlag);
}
