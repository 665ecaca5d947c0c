import { create, fromJson, toJson, type JsonValue } from "@bufbuild/protobuf";
import {
  ExperimentSchema,
  ExperimentStatus,
  ExperimentVersionSchema,
  type Experiment,
  type ExperimentVersion,
} from "@lotty/proto/experiment";
import type { Queryable } from "@lotty/platform/db";
import type { RuleAst } from "@lotty/targeting";
import { big, jsonParam, ts } from "./codec.js";
import type { StoredActor } from "./audit.js";

interface ExperimentRow {
  seq: string;
  doc: JsonValue;
  targeting_ast: RuleAst;
}

export interface StoredExperiment {
  experiment: Experiment;
  targetingAst: RuleAst;
  /** Creation order, the pagination key. */
  seq: string;
}

function toStored(r: ExperimentRow): StoredExperiment {
  return { experiment: fromJson(ExperimentSchema, r.doc), targetingAst: r.targeting_ast, seq: r.seq };
}

function docOf(e: Experiment): string {
  return jsonParam(toJson(ExperimentSchema, e));
}

export async function insertExperiment(q: Queryable, e: Experiment, ast: RuleAst): Promise<void> {
  await q.query(
    `INSERT INTO experiment.experiments (id, flag_key, owner, status, version, doc, targeting_ast)
     VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb)`,
    [e.id, e.flagKey, e.owner, e.status, e.version.toString(), docOf(e), jsonParam(ast)],
  );
}

export async function getExperiment(q: Queryable, id: string): Promise<StoredExperiment | undefined> {
  const { rows } = await q.query<ExperimentRow>(`SELECT seq, doc, targeting_ast FROM experiment.experiments WHERE id = $1`, [id]);
  return rows[0] && toStored(rows[0]);
}

/**
 * Writes the new state only while the stored version is still `expected`: the check and the write
 * are one statement, so of two concurrent callers holding the same version exactly one wins
 * (the other re-reads the row after the winner commits and matches nothing). False when it moved.
 */
export async function replaceExperiment(q: Queryable, e: Experiment, ast: RuleAst, expected: bigint): Promise<boolean> {
  const res = await q.query(
    `UPDATE experiment.experiments
        SET flag_key = $2, owner = $3, status = $4, version = $5, doc = $6::jsonb, targeting_ast = $7::jsonb
      WHERE id = $1 AND version = $8`,
    [e.id, e.flagKey, e.owner, e.status, e.version.toString(), docOf(e), jsonParam(ast), expected.toString()],
  );
  return res.rowCount === 1;
}

export interface ExperimentFilter {
  statuses: readonly ExperimentStatus[];
  flagKey: string;
  owner: string;
  after?: string;
  limit: number;
}

export async function listExperiments(q: Queryable, f: ExperimentFilter): Promise<StoredExperiment[]> {
  const { rows } = await q.query<ExperimentRow>(
    `SELECT seq, doc, targeting_ast FROM experiment.experiments
      WHERE (cardinality($1::int[]) = 0 OR status = ANY($1::int[]))
        AND ($2 = '' OR flag_key = $2) AND ($3 = '' OR owner = $3)
        AND ($4::bigint IS NULL OR seq > $4::bigint)
      ORDER BY seq LIMIT $5`,
    [f.statuses, f.flagKey, f.owner, f.after ?? null, f.limit + 1],
  );
  return rows.map(toStored);
}

/** The flag's running or paused experiment, if any. */
export async function activeExperimentOf(q: Queryable, flagKey: string): Promise<Experiment | undefined> {
  const { rows } = await q.query<ExperimentRow>(
    `SELECT seq, doc, targeting_ast FROM experiment.experiments WHERE flag_key = $1 AND status IN ($2, $3)`,
    [flagKey, ExperimentStatus.RUNNING, ExperimentStatus.PAUSED],
  );
  return rows[0] && toStored(rows[0]).experiment;
}

export async function runningExperiments(q: Queryable): Promise<StoredExperiment[]> {
  const { rows } = await q.query<ExperimentRow>(
    `SELECT seq, doc, targeting_ast FROM experiment.experiments WHERE status = $1 ORDER BY seq`,
    [ExperimentStatus.RUNNING],
  );
  return rows.map(toStored);
}

/** Ids of experiments (in the given statuses, or all) that are members of a domain. */
export async function domainMembers(q: Queryable, domainKey: string, statuses: readonly ExperimentStatus[] = []): Promise<string[]> {
  const { rows } = await q.query<{ id: string }>(
    `SELECT id FROM experiment.experiments
      WHERE doc -> 'domains' @> $1::jsonb AND (cardinality($2::int[]) = 0 OR status = ANY($2::int[]))
      ORDER BY seq`,
    [jsonParam([{ domainKey }]), statuses],
  );
  return rows.map((r) => r.id);
}

interface VersionRow {
  version: string;
  doc: JsonValue;
  actor_id: string;
  actor_kind: number;
  changed_at: Date;
}

export async function insertVersion(q: Queryable, e: Experiment, actor: StoredActor, at: Date): Promise<void> {
  await q.query(
    `INSERT INTO experiment.experiment_versions (experiment_id, version, doc, actor_id, actor_kind, changed_at)
     VALUES ($1, $2, $3::jsonb, $4, $5, $6)`,
    [e.id, e.version.toString(), docOf(e), actor.id, actor.kind, at.toISOString()],
  );
}

/** Versions newest first, below `before` when paging. */
export async function listVersions(q: Queryable, id: string, before: string | undefined, limit: number): Promise<ExperimentVersion[]> {
  const { rows } = await q.query<VersionRow>(
    `SELECT version, doc, actor_id, actor_kind, changed_at FROM experiment.experiment_versions
      WHERE experiment_id = $1 AND ($2::bigint IS NULL OR version < $2::bigint)
      ORDER BY version DESC LIMIT $3`,
    [id, before ?? null, limit + 1],
  );
  return rows.map((r) =>
    create(ExperimentVersionSchema, {
      version: big(r.version),
      experiment: fromJson(ExperimentSchema, r.doc),
      changedBy: { id: r.actor_id, kind: r.actor_kind },
      changeTime: ts(r.changed_at),
    }),
  );
}
