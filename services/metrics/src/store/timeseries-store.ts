import type { Db } from "@lotty/platform/db";
import type { Metric } from "@lotty/proto/metrics";
import type { VariantAggregate } from "../domain/report.js";
import { capSql, iso, toAggregate, valueSql } from "./report-store.js";

/**
 * Whether cumulativeAggregates answers a metric: a winsorization threshold at a percentile moves
 * with every day's distribution, so such metrics are aggregated day by day (metricAggregates).
 */
export const cumulativeSupported = (m: Metric): boolean => !(m.capPercentile > 0);

/**
 * Per-variant statistics of one metric (no covariate) for each of several window ends, from one
 * pass over the experiment's per-subject daily rollups: element k equals
 * metricAggregates(experiment, m, { start, end: ends[k] }, 0), variants without subjects left out.
 *
 * A subject's value changes at points in time: a rollup row counts from the later of its day's
 * start and the subject's exposure (what metricAggregates counts for an end after both). Each
 * point adds the change of the subject's y, y², d, d², y·d (new running value minus the previous
 * one) to the first end after it; summing the changes of ends up to k gives the statistics at k.
 * The per-end recomputation read every subject once per day of the series.
 */
export async function cumulativeAggregates(db: Db, experimentId: string, m: Metric, start: Date | undefined, ends: readonly Date[]): Promise<VariantAggregate[][]> {
  if (ends.length === 0) return [];
  const params = [experimentId, iso(start), `{${ends.map((e) => e.toISOString()).join(",")}}`];
  return db.transaction(async (tx) => {
    // One pass over the whole experiment: hash joins and in-memory sorts. Planned with statistics
    // that lag behind ingest, it became a nested loop of index probes, 1.3× the time at 1 M events.
    await tx.query("SET LOCAL enable_nestloop = off");
    await tx.query("SET LOCAL work_mem = '64MB'");
    const changes = await tx.query<Record<string, number | string>>(changesSql(m), [...params, m.eventType, m.denominatorEventType]);
    const entries = await tx.query<{ variant: string; k: number; n: string }>(ENTRIES_SQL, params);
    return accumulate(ends.length, entries.rows, changes.rows);
  });
}

// $1 experiment, $2 window start or null, $3 the ends (ascending); width_bucket(t, ends) is how
// many ends are ≤ t: the index of the first end after t.
const SUBJECTS = `experiment_id = $1 AND ($2::timestamptz IS NULL OR first_at >= $2) AND first_at < ($3::timestamptz[])[cardinality($3::timestamptz[])]`;

/** Subjects exposed in the window, per variant and first end after their exposure. */
const ENTRIES_SQL = `SELECT variant, width_bucket(first_at, $3::timestamptz[]) AS k, count(*) AS n FROM metrics.exposures WHERE ${SUBJECTS} GROUP BY 1, 2`;

/** Per variant and end, the summed changes of subjects' y, y², d, d², y·d ($4 event type, $5 denominator type). */
function changesSql(m: Metric): string {
  const v = valueSql(m);
  return `WITH subj AS (
       SELECT subject_id, variant, first_at FROM metrics.exposures WHERE ${SUBJECTS}
     ), points AS (
       SELECT s.subject_id, s.variant, s.first_at, greatest(s.first_at, r.day::timestamp AT TIME ZONE 'UTC') AS t,
              coalesce(sum(r.count) FILTER (WHERE r.event_type = $4), 0)::float8 AS cnt,
              coalesce(sum(r.sum) FILTER (WHERE r.event_type = $4), 0)::float8 AS num,
              coalesce(sum(r.sum) FILTER (WHERE r.event_type = $5), 0)::float8 AS den,
              min(r.first_at) FILTER (WHERE r.event_type = $4) AS first_event
         FROM subj s JOIN metrics.subject_rollups r ON r.experiment_id = $1 AND r.subject_id = s.subject_id AND r.event_type IN ($4, $5)
        WHERE $2::timestamptz IS NULL OR r.day >= ($2::timestamptz AT TIME ZONE 'UTC')::date
        GROUP BY 1, 2, 3, 4
     ), running AS (
       SELECT subject_id, variant, first_at, t,
              sum(cnt) OVER w AS cnt, sum(num) OVER w AS num, sum(den) OVER w AS den, min(first_event) OVER w AS first_event
         FROM points WINDOW w AS (PARTITION BY subject_id ORDER BY t)
     ), vals AS (
       -- valueSql reads a subject's running aggregates as a.* and its exposure as s.first_at.
       SELECT a.subject_id, a.variant, a.t, ${v.y} AS y, ${v.d}::float8 AS d
         FROM running a CROSS JOIN LATERAL (SELECT a.first_at) s
     ), capped AS (
       SELECT subject_id, variant, t, ${capSql(m)} AS y, d FROM vals
     ), moves AS (
       SELECT variant, width_bucket(t, $3::timestamptz[]) AS k,
              y - lag(y, 1, 0::float8) OVER w AS sy, y * y - lag(y * y, 1, 0::float8) OVER w AS syy,
              d - lag(d, 1, 0::float8) OVER w AS sd, d * d - lag(d * d, 1, 0::float8) OVER w AS sdd,
              y * d - lag(y * d, 1, 0::float8) OVER w AS syd
         FROM capped WINDOW w AS (PARTITION BY subject_id ORDER BY t)
     )
     SELECT variant, k, sum(sy) AS sy, sum(syy) AS syy, sum(sd) AS sd, sum(sdd) AS sdd, sum(syd) AS syd
       FROM moves WHERE k < cardinality($3::timestamptz[]) GROUP BY 1, 2`;
}

/** Running totals over the ends of each variant's subject entries and value changes per end. */
function accumulate(ends: number, entries: readonly { variant: string; k: number; n: string }[], changes: readonly Record<string, number | string>[]): VariantAggregate[][] {
  const key = (variant: unknown, k: unknown) => `${Number(k)}\u0000${String(variant)}`;
  const entered = new Map(entries.map((e) => [key(e.variant, e.k), Number(e.n)]));
  const moved = new Map(changes.map((c) => [key(c.variant, c.k), toAggregate({ sx: 0, sxx: 0, sxy: 0, ...c, n: 0 })]));
  const totals = [...new Set(entries.map((e) => e.variant))].sort().map((variant) => toAggregate({ variant, n: 0, sy: 0, syy: 0, sd: 0, sdd: 0, syd: 0, sx: 0, sxx: 0, sxy: 0 }));
  const out: VariantAggregate[][] = [];
  for (let k = 0; k < ends; k++) {
    for (const t of totals) {
      t.n += entered.get(key(t.variant, k)) ?? 0;
      const c = moved.get(key(t.variant, k));
      if (!c) continue;
      t.sumY += c.sumY;
      t.sumY2 += c.sumY2;
      t.sumD += c.sumD;
      t.sumD2 += c.sumD2;
      t.sumYD += c.sumYD;
    }
    out.push(totals.filter((t) => t.n > 0).map((t) => ({ ...t })));
  }
  return out;
}
