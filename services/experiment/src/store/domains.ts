import { create } from "@bufbuild/protobuf";
import { ConflictDomainSchema, type ConflictDomain } from "@lotty/proto/experiment";
import type { Queryable } from "@lotty/platform/db";
import { big, ts } from "./codec.js";

interface DomainRow {
  key: string;
  description: string;
  policy: number;
  max_concurrent: number;
  version: string;
  created_at: Date;
  updated_at: Date;
}

const toDomain = (r: DomainRow): ConflictDomain =>
  create(ConflictDomainSchema, {
    key: r.key,
    description: r.description,
    policy: r.policy,
    maxConcurrent: r.max_concurrent,
    version: big(r.version),
    createTime: ts(r.created_at),
    updateTime: ts(r.updated_at),
  });

/** undefined when the key is taken. */
export async function insertDomain(q: Queryable, d: ConflictDomain, now: Date): Promise<ConflictDomain | undefined> {
  const { rows } = await q.query<DomainRow>(
    `INSERT INTO experiment.conflict_domains (key, description, policy, max_concurrent, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (key) DO NOTHING RETURNING *`,
    [d.key, d.description, d.policy, d.maxConcurrent, now.toISOString()],
  );
  return rows[0] && toDomain(rows[0]);
}

export async function getDomain(q: Queryable, key: string): Promise<ConflictDomain | undefined> {
  const { rows } = await q.query<DomainRow>(`SELECT * FROM experiment.conflict_domains WHERE key = $1`, [key]);
  return rows[0] && toDomain(rows[0]);
}

export async function listDomains(q: Queryable, after: string | undefined, limit: number): Promise<ConflictDomain[]> {
  const { rows } = await q.query<DomainRow>(
    `SELECT * FROM experiment.conflict_domains WHERE ($1::text IS NULL OR key > $1) ORDER BY key LIMIT $2`,
    [after ?? null, limit + 1],
  );
  return rows.map(toDomain);
}

export async function domainKeys(q: Queryable): Promise<Set<string>> {
  const { rows } = await q.query<{ key: string }>(`SELECT key FROM experiment.conflict_domains`);
  return new Set(rows.map((r) => r.key));
}

export async function allDomains(q: Queryable): Promise<ConflictDomain[]> {
  const { rows } = await q.query<DomainRow>(`SELECT * FROM experiment.conflict_domains ORDER BY key`);
  return rows.map(toDomain);
}

/** Version-checked write (expected 0 = unconditional); undefined when the version moved. */
export async function updateDomain(q: Queryable, d: ConflictDomain, expected: bigint, now: Date): Promise<ConflictDomain | undefined> {
  const { rows } = await q.query<DomainRow>(
    `UPDATE experiment.conflict_domains
        SET description = $2, policy = $3, max_concurrent = $4, version = version + 1, updated_at = $5
      WHERE key = $1 AND ($6::bigint = 0 OR version = $6::bigint) RETURNING *`,
    [d.key, d.description, d.policy, d.maxConcurrent, now.toISOString(), expected.toString()],
  );
  return rows[0] && toDomain(rows[0]);
}

export async function deleteDomain(q: Queryable, key: string): Promise<boolean> {
  const res = await q.query(`DELETE FROM experiment.conflict_domains WHERE key = $1`, [key]);
  return res.rowCount === 1;
}
