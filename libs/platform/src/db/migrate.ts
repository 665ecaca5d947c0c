import { ExponentialBackoff, handleWhen, retry } from "cockatiel";
import { createHash } from "node:crypto";
import type { Db, Migration } from "./types.js";

const SCHEMA_NAME = /^[a-z_][a-z0-9_]*$/;

/** Stable signed 64-bit advisory-lock key for a schema (same in every process and release). */
export function migrationLockKey(schema: string): bigint {
  return createHash("sha256").update(`lotty:migrate:${schema}`).digest().readBigInt64BE(0);
}

interface Applied {
  id: number;
  name: string;
}

/**
 * Applies pending migrations to `schema` in one transaction, under an advisory lock, so replicas
 * starting together serialise here and each migration runs exactly once. Ids recorded in the
 * database beyond the last known one are tolerated (an older release restarting during a rolling
 * deploy); a recorded id whose name differs, or that is missing below the last known id, means
 * the history was changed and is refused.
 *
 * A migration's DDL can deadlock with the traffic of a running older replica (a rolling deploy:
 * the new replica alters a table the old one is writing to). Postgres then aborts one side; when
 * that is the migration, its transaction rolled back whole, so it is retried.
 */
export async function migrate(db: Db, schema: string, migrations: Migration[]): Promise<{ applied: number[] }> {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`migrate: invalid schema name "${schema}"`);
  const sorted = [...migrations].sort((a, b) => a.id - b.id);
  return deadlockRetry.execute(() => applyPending(db, schema, sorted));
}

const DEADLOCK_DETECTED = "40P01";
const deadlockRetry = retry(
  handleWhen((err) => (err as { code?: unknown }).code === DEADLOCK_DETECTED),
  { maxAttempts: 5, backoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 2000 }) },
);

async function applyPending(db: Db, schema: string, sorted: Migration[]): Promise<{ applied: number[] }> {
  const lastKnown = sorted.length > 0 ? sorted[sorted.length - 1].id : 0;
  return db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock($1::bigint)", [migrationLockKey(schema).toString()]);
    await tx.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await tx.query(
      `CREATE TABLE IF NOT EXISTS ${schema}.schema_migrations (
         id int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const { rows } = await tx.query<Applied>(`SELECT id, name FROM ${schema}.schema_migrations ORDER BY id`);
    const known = new Map(sorted.map((m) => [m.id, m.name]));
    for (const r of rows) {
      const name = known.get(r.id);
      if (name === undefined ? r.id <= lastKnown : name !== r.name) {
        throw new Error(
          `migrate ${schema}: database records migration ${r.id} "${r.name}" but the code has ${
            name === undefined ? "no such migration" : `"${name}"`
          }; refusing to run on a changed history`,
        );
      }
    }

    const done = new Set(rows.map((r) => r.id));
    const applied: number[] = [];
    for (const m of sorted.filter((m) => !done.has(m.id))) {
      await tx.query(m.sql);
      await tx.query(`INSERT INTO ${schema}.schema_migrations (id, name) VALUES ($1, $2)`, [m.id, m.name]);
      applied.push(m.id);
    }
    return { applied };
  });
}
