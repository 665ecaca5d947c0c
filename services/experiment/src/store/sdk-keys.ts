import { create } from "@bufbuild/protobuf";
import { RulesetSdkKeySchema, SdkKeySchema, type RulesetSdkKey, type SdkKey } from "@lotty/proto/experiment";
import type { Queryable } from "@lotty/platform/db";
import { ts } from "./codec.js";

interface KeyRow {
  id: string;
  seq: string;
  name: string;
  environment: string;
  prefix: string;
  key_hash: string;
  created_at: Date;
  revoked_at: Date | null;
}

const toKey = (r: KeyRow): SdkKey =>
  create(SdkKeySchema, {
    id: r.id,
    name: r.name,
    environment: r.environment,
    prefix: r.prefix,
    revoked: r.revoked_at !== null,
    createTime: ts(r.created_at),
    revokeTime: ts(r.revoked_at),
  });

export async function insertSdkKey(
  q: Queryable,
  k: { id: string; name: string; environment: string; prefix: string; hash: string },
  now: Date,
): Promise<SdkKey> {
  const { rows } = await q.query<KeyRow>(
    `INSERT INTO experiment.sdk_keys (id, name, environment, prefix, key_hash, created_at)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
    [k.id, k.name, k.environment, k.prefix, k.hash, now.toISOString()],
  );
  return toKey(rows[0]);
}

export async function listSdkKeys(
  q: Queryable,
  f: { includeRevoked: boolean; after?: string; limit: number },
): Promise<Array<{ seq: string; key: SdkKey }>> {
  const { rows } = await q.query<KeyRow>(
    `SELECT * FROM experiment.sdk_keys WHERE ($1 OR revoked_at IS NULL) AND ($2::bigint IS NULL OR seq > $2::bigint)
      ORDER BY seq LIMIT $3`,
    [f.includeRevoked, f.after ?? null, f.limit + 1],
  );
  return rows.map((r) => ({ seq: r.seq, key: toKey(r) }));
}

/** Revokes once; undefined when no such key, `changed` false when it was already revoked. */
export async function revokeSdkKey(q: Queryable, id: string, now: Date): Promise<{ key: SdkKey; changed: boolean } | undefined> {
  const upd = await q.query<KeyRow>(
    `UPDATE experiment.sdk_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING *`,
    [id, now.toISOString()],
  );
  if (upd.rows[0]) return { key: toKey(upd.rows[0]), changed: true };
  const { rows } = await q.query<KeyRow>(`SELECT * FROM experiment.sdk_keys WHERE id = $1`, [id]);
  return rows[0] && { key: toKey(rows[0]), changed: false };
}

export async function activeSdkKeys(q: Queryable): Promise<RulesetSdkKey[]> {
  const { rows } = await q.query<KeyRow>(`SELECT * FROM experiment.sdk_keys WHERE revoked_at IS NULL ORDER BY seq`);
  return rows.map((r) => create(RulesetSdkKeySchema, { id: r.id, keyHash: r.key_hash, environment: r.environment }));
}
