import type { Queryable } from "@lotty/platform/db";
import type { ExposureRef } from "../domain/attribution.js";
import type { ValidEvent } from "../domain/event-validation.js";
import type { DailyCount } from "../domain/exposure-tally.js";
import { arrayLiteral, columnsOf } from "./columns.js";

/** Ingest's side of exposures: one row per subject and experiment, decisions, daily counters. */

interface ExposureRow {
  experiment_id: string;
  subject_id: string;
  variant: string;
  first_at: Date;
}

const toRef = (r: ExposureRow): ExposureRef => ({ experimentId: r.experiment_id, subjectId: r.subject_id, variant: r.variant, firstAt: new Date(r.first_at) });

/**
 * Every exposure of these subjects. Read under the subjects' advisory locks, so no other batch
 * adds one meanwhile. LATERAL with OFFSET 0: one primary-key prefix lookup per subject (see
 * storedEventsSince for why the fence).
 */
export async function knownExposures(tx: Queryable, subjects: readonly string[]): Promise<ExposureRef[]> {
  const { rows } = await tx.query<ExposureRow>(
    `SELECT x.* FROM unnest($1::text[]) AS s(subject_id)
       CROSS JOIN LATERAL (SELECT experiment_id, subject_id, variant, first_at FROM metrics.exposures e WHERE e.subject_id = s.subject_id OFFSET 0) x`,
    [arrayLiteral(subjects)],
  );
  return rows.map(toRef);
}

/** The experiment of each known decision id. */
export async function knownDecisions(tx: Queryable, decisionIds: readonly string[]): Promise<Map<string, string>> {
  if (decisionIds.length === 0) return new Map();
  const { rows } = await tx.query<{ decision_id: string; experiment_id: string }>(
    `SELECT x.* FROM unnest($1::text[]) AS s(decision_id)
       CROSS JOIN LATERAL (SELECT decision_id, experiment_id FROM metrics.decisions d WHERE d.decision_id = s.decision_id OFFSET 0) x`,
    [arrayLiteral(decisionIds)],
  );
  return new Map(rows.map((r) => [r.decision_id, r.experiment_id]));
}

/** Records first exposures (the first in batch order wins); returns those this call created. */
export async function insertExposures(tx: Queryable, exposures: readonly ValidEvent[]): Promise<ExposureRef[]> {
  const { rows } = await tx.query<ExposureRow>(
    `INSERT INTO metrics.exposures (experiment_id, subject_id, variant, decision_id, first_at)
     SELECT x, s, v, d, to_timestamp(ms / 1000)
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[]) WITH ORDINALITY AS u(x, s, v, d, ms, i)
      ORDER BY i
     ON CONFLICT (experiment_id, subject_id) DO NOTHING RETURNING experiment_id, subject_id, variant, first_at`,
    columnsOf(exposures, (e) => e.experimentId, (e) => e.subjectId, (e) => e.variant, (e) => e.decisionId, (e) => e.occurTime.getTime()),
  );
  return rows.map(toRef);
}

/** Exposures after the first only add to the subject's exposure count. */
export async function countRepeatedExposures(tx: Queryable, repeats: readonly { experimentId: string; subjectId: string; n: number }[]): Promise<void> {
  if (repeats.length === 0) return;
  await tx.query(
    `UPDATE metrics.exposures x SET exposures = x.exposures + u.n
       FROM unnest($1::text[], $2::text[], $3::bigint[]) AS u(e, s, n)
      WHERE x.experiment_id = u.e AND x.subject_id = u.s`,
    [repeats.map((r) => r.experimentId), repeats.map((r) => r.subjectId), repeats.map((r) => r.n)],
  );
}

/** Records the decision ids of exposures; returns the ids this call added (the first exposure naming one wins). */
export async function insertDecisions(tx: Queryable, exposures: readonly ValidEvent[]): Promise<string[]> {
  const linked = exposures.filter((e) => e.decisionId !== "");
  if (linked.length === 0) return [];
  const { rows } = await tx.query<{ decision_id: string }>(
    `INSERT INTO metrics.decisions (decision_id, experiment_id, subject_id)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT (decision_id) DO NOTHING RETURNING decision_id`,
    columnsOf(linked, (e) => e.decisionId, (e) => e.experimentId, (e) => e.subjectId),
  );
  return rows.map((r) => r.decision_id);
}

/**
 * Per-variant daily counters are shared by every subject; the caller passes them in key order, so
 * two batches lock those rows in the same order and cannot deadlock.
 */
export async function addExposureDaily(tx: Queryable, daily: readonly DailyCount[]): Promise<void> {
  if (daily.length === 0) return;
  await tx.query(
    `INSERT INTO metrics.exposure_daily (experiment_id, variant, day, exposures, subjects)
     SELECT * FROM unnest($1::text[], $2::text[], $3::date[], $4::bigint[], $5::bigint[])
     ON CONFLICT (experiment_id, variant, day) DO UPDATE
       SET exposures = metrics.exposure_daily.exposures + excluded.exposures, subjects = metrics.exposure_daily.subjects + excluded.subjects`,
    columnsOf(daily, (d) => d.experimentId, (d) => d.variant, (d) => d.day, (d) => d.exposures, (d) => d.subjects),
  );
}
