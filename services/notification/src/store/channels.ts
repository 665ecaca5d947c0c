import type { Queryable } from "@lotty/platform/db";
import type { ChannelConfig } from "../channels/index.js";
import type { Cursor } from "./pagination.js";

export interface ChannelRecord {
  id: string;
  name: string;
  config: ChannelConfig;
  /** Sealed secret (see secrets/secret-box.ts), or null when secretEnv names it. */
  secretBox: string | null;
  secretEnv: string | null;
  createTime: Date;
  updateTime: Date;
}

interface Row {
  id: string;
  name: string;
  kind: string;
  config: Record<string, unknown>;
  secret_box: string | null;
  secret_env: string | null;
  create_time: Date;
  update_time: Date;
}

function fromRow(r: Row): ChannelRecord {
  return {
    id: r.id,
    name: r.name,
    config: { ...r.config, kind: r.kind } as ChannelConfig,
    secretBox: r.secret_box,
    secretEnv: r.secret_env,
    createTime: new Date(r.create_time),
    updateTime: new Date(r.update_time),
  };
}

function params(c: ChannelRecord): unknown[] {
  const { kind, ...rest } = c.config;
  return [c.id, c.name, kind, JSON.stringify(rest), c.secretBox, c.secretEnv, c.createTime, c.updateTime];
}

export async function insertChannel(q: Queryable, c: ChannelRecord): Promise<void> {
  await q.query(
    `INSERT INTO notification.channels (id, name, kind, config, secret_box, secret_env, create_time, update_time)
     VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8)`,
    params(c),
  );
}

export async function updateChannel(q: Queryable, c: ChannelRecord): Promise<void> {
  await q.query(
    `UPDATE notification.channels SET name = $2, kind = $3, config = $4::jsonb, secret_box = $5, secret_env = $6,
       create_time = $7, update_time = $8 WHERE id = $1`,
    params(c),
  );
}

export async function getChannel(q: Queryable, id: string): Promise<ChannelRecord | undefined> {
  const { rows } = await q.query<Row>("SELECT * FROM notification.channels WHERE id = $1", [id]);
  return rows[0] && fromRow(rows[0]);
}

export async function existingChannelIds(q: Queryable, ids: readonly string[]): Promise<Set<string>> {
  const { rows } = await q.query<{ id: string }>("SELECT id FROM notification.channels WHERE id = ANY($1::text[])", [ids]);
  return new Set(rows.map((r) => r.id));
}

export async function listChannels(q: Queryable, limit: number, after: Cursor | undefined): Promise<ChannelRecord[]> {
  const { rows } = await q.query<Row>(
    `SELECT * FROM notification.channels
     WHERE $1::timestamptz IS NULL OR (create_time, id) > ($1::timestamptz, $2::text)
     ORDER BY create_time, id LIMIT $3`,
    [after?.time ?? null, after?.id ?? "", limit],
  );
  return rows.map(fromRow);
}

export async function deleteChannel(q: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await q.query("DELETE FROM notification.channels WHERE id = $1", [id]);
  return rowCount > 0;
}
