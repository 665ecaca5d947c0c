import type { Queryable } from "@lotty/platform/db";
import type { RollupAccumulator } from "../domain/attribution.js";
import { tupleKey } from "../domain/keys.js";
import { columnsOf } from "./columns.js";

/**
 * Per-subject rollups kept on ingest: per-day rows (subject_rollups, for reports that cut the run),
 * whole-run totals (subject_totals) and, from their changes, per-variant cohort-day statistics
 * (variant_day_stats, what whole-run reports read).
 */

/** Days with attributed events per experiment (a report checks whether its window cuts any). */
export async function markEventDays(tx: Queryable, acc: RollupAccumulator): Promise<void> {
  const distinct = new Map<string, [experimentId: string, day: string]>();
  for (const d of acc.deltas()) distinct.set(tupleKey(d.experimentId, d.day), [d.experimentId, d.day]);
  if (distinct.size === 0) return;
  // In key order, so concurrent batches insert shared rows in one order.
  const days = [...distinct.keys()].sort().map((k) => distinct.get(k)!);
  await tx.query(
    `INSERT INTO metrics.experiment_event_days (experiment_id, day)
     SELECT * FROM unnest($1::text[], $2::date[]) ON CONFLICT DO NOTHING`,
    [days.map((d) => d[0]), days.map((d) => d[1])],
  );
}

/**
 * Per-subject contribution to each variant_day_stats column, from one subject's values (columns
 * named with prefix t): c = cnt, s = sum, pc = pre_cnt, ps = pre_sum.
 */
const CONTRIBUTIONS: [column: string, expr: (t: string) => string][] = [
  ["subjects", (t) => `(${t}cnt > 0)::int`],
  ["cnt", (t) => `${t}cnt`],
  ["cnt2", (t) => `${t}cnt * ${t}cnt`],
  ["sum", (t) => `${t}sum`],
  ["sum2", (t) => `${t}sum * ${t}sum`],
  ["cnt_sum", (t) => `${t}cnt * ${t}sum`],
  ["pre_subjects", (t) => `(${t}pre_cnt > 0)::int`],
  ["pre_conv", (t) => `(${t}pre_cnt > 0 AND ${t}cnt > 0)::int`],
  ["pre_cnt", (t) => `${t}pre_cnt`],
  ["pre_cnt2", (t) => `${t}pre_cnt * ${t}pre_cnt`],
  ["pre_cnt_cnt", (t) => `${t}pre_cnt * ${t}cnt`],
  ["pre_sum", (t) => `${t}pre_sum`],
  ["pre_sum2", (t) => `${t}pre_sum * ${t}pre_sum`],
  ["pre_sum_sum", (t) => `${t}pre_sum * ${t}sum`],
];
const STAT_COLUMNS = CONTRIBUTIONS.map(([c]) => c);

/**
 * The old row is the new one minus the delta (read back from RETURNING, never by a second lookup
 * that the planner may turn into a scan of the whole table). Counts are integers in float8, so
 * exact; sums may differ from a recomputation by rounding in the last bits.
 */
const APPLY_TOTALS_SQL = `
  WITH d AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::date[], $6::float8[], $7::float8[], $8::float8[], $9::float8[])
      AS d(experiment_id, event_type, subject_id, variant, cohort_day, cnt, sum, pre_cnt, pre_sum)
  ), up AS (
    INSERT INTO metrics.subject_totals AS t (experiment_id, event_type, subject_id, variant, cohort_day, cnt, sum, pre_cnt, pre_sum)
    SELECT * FROM d
    ON CONFLICT (experiment_id, event_type, subject_id) DO UPDATE SET
      cnt = t.cnt + excluded.cnt, sum = t.sum + excluded.sum, pre_cnt = t.pre_cnt + excluded.pre_cnt, pre_sum = t.pre_sum + excluded.pre_sum
    RETURNING t.*
  ), pair AS (
    SELECT n.experiment_id, n.event_type, n.variant, n.cohort_day,
           n.cnt, n.sum, n.pre_cnt, n.pre_sum,
           n.cnt - d.cnt AS old_cnt, n.sum - d.sum AS old_sum, n.pre_cnt - d.pre_cnt AS old_pre_cnt, n.pre_sum - d.pre_sum AS old_pre_sum
      FROM up n JOIN d USING (experiment_id, event_type, subject_id)
  )
  INSERT INTO metrics.variant_day_stats AS v (experiment_id, event_type, variant, day, ${STAT_COLUMNS.join(", ")})
  SELECT experiment_id, event_type, variant, cohort_day,
         ${CONTRIBUTIONS.map(([, f]) => `sum(${f("p.")} - ${f("p.old_")})`).join(", ")}
    FROM pair p
   GROUP BY 1, 2, 3, 4
   ORDER BY 1, 2, 3, 4
  ON CONFLICT (experiment_id, event_type, variant, day) DO UPDATE SET
    ${STAT_COLUMNS.map((c) => `${c} = v.${c} + excluded.${c}`).join(", ")}`;

/**
 * Applies per-subject total changes and, in the same statement, the change of each subject's
 * contribution (new value in, old value out) to its variant's cohort-day statistics. The subjects'
 * advisory locks are held, so no other batch changes these rows meanwhile.
 */
export async function applySubjectTotals(tx: Queryable, acc: RollupAccumulator): Promise<void> {
  const t = acc.totals();
  if (t.length === 0) return;
  await tx.query(
    APPLY_TOTALS_SQL,
    columnsOf(t, (r) => r.experimentId, (r) => r.eventType, (r) => r.subjectId, (r) => r.variant, (r) => r.cohortDay, (r) => r.count, (r) => r.sum, (r) => r.preCount, (r) => r.preSum),
  );
}

/** Adds the batch's per-subject, per-day changes; the subjects' advisory locks order writers. */
export async function upsertRollups(tx: Queryable, acc: RollupAccumulator): Promise<void> {
  const d = acc.deltas();
  if (d.length === 0) return;
  await tx.query(
    `INSERT INTO metrics.subject_rollups
       (experiment_id, variant, subject_id, event_type, day, count, sum, sum_sq, first_at)
     SELECT x, v, s, t, day, n, sum, sum_sq, to_timestamp(ms / 1000)
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::date[], $6::bigint[], $7::float8[], $8::float8[], $9::float8[])
         AS u(x, v, s, t, day, n, sum, sum_sq, ms)
     ON CONFLICT (experiment_id, event_type, subject_id, day) DO UPDATE SET
       count = metrics.subject_rollups.count + excluded.count,
       sum = metrics.subject_rollups.sum + excluded.sum,
       sum_sq = metrics.subject_rollups.sum_sq + excluded.sum_sq,
       first_at = least(metrics.subject_rollups.first_at, excluded.first_at)`,
    columnsOf(d, (r) => r.experimentId, (r) => r.variant, (r) => r.subjectId, (r) => r.eventType, (r) => r.day, (r) => r.count, (r) => r.sum, (r) => r.sumSq, (r) => r.firstAt.getTime()),
  );
}
