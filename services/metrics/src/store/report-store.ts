import type { Queryable } from "@lotty/platform/db";
import { MetricType, type Metric } from "@lotty/proto/metrics";
import { durationSeconds } from "../domain/definition-validation.js";
import type { VariantAggregate } from "../domain/report.js";
import { SUBJECT_INDEXED } from "./event-log.js";

/** Half-open [start, end); undefined = unbounded. */
export interface Window {
  start?: Date;
  end?: Date;
}

export const iso = (d?: Date) => (d ? d.toISOString() : null);

/** Only finite numbers are inlined into SQL (validated definitions), so this cannot inject. */
function literal(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`non-finite SQL literal ${x}`);
  return `${x}::float8`;
}

/** Per-subject value expressions (y, denominator d, pre-period covariate x) by metric type. */
export function valueSql(m: Metric): { y: string; d: string; x: string } {
  switch (m.type) {
    case MetricType.CONVERSION: {
      const within = m.conversionWindow
        ? ` AND a.first_event < s.first_at + make_interval(secs => ${literal(durationSeconds(m.conversionWindow))})`
        : "";
      return { y: `(a.first_event IS NOT NULL${within})::int::float8`, d: "0", x: "(p.cnt > 0)::int::float8" };
    }
    case MetricType.COUNT:
      return { y: "a.cnt", d: "0", x: "p.cnt" };
    case MetricType.SUM:
      return { y: "a.num", d: "0", x: "p.num" };
    case MetricType.MEAN:
      return { y: "a.num", d: "a.cnt", x: "0" };
    default:
      return { y: "a.num", d: "a.den", x: "0" };
  }
}

export function capSql(m: Metric): string {
  if (m.capValue > 0) return `least(y, ${literal(m.capValue)})`;
  if (m.capPercentile > 0) {
    // Winsorization threshold over all exposed subjects of the window, both variants pooled.
    return `least(y, (SELECT percentile_cont(${literal(m.capPercentile / 100)}) WITHIN GROUP (ORDER BY y) FROM vals))`;
  }
  return "y";
}

/**
 * Per-variant sufficient statistics of one metric, computed in SQL from per-subject rollups
 * (never raw events): every subject exposed in the window is a unit, with 0 when it has no events.
 * Rollups are per UTC day, so the window's first and last partial days count whole for events
 * (subjects are selected by exact exposure time). The covariate is the same metric over
 * [exposure − prePeriod, exposure day) from the subject's raw events (index range per subject).
 */
export async function metricAggregates(db: Queryable, experimentId: string, m: Metric, w: Window, prePeriodSeconds: number): Promise<VariantAggregate[]> {
  const v = valueSql(m);
  const { rows } = await db.query<Record<string, number | string>>(
    `WITH subj AS (
       SELECT variant, subject_id, first_at FROM metrics.exposures
        WHERE experiment_id = $1 AND ($2::timestamptz IS NULL OR first_at >= $2) AND ($3::timestamptz IS NULL OR first_at < $3)
     ), vals AS (
       -- One index lookup per subject and table (LATERAL aggregates), so the plan stays linear in
       -- subjects whatever the statistics say. Joined as whole sets instead, the two aggregates were
       -- planned as a nested loop over each other while statistics lagged behind ingest (minutes).
       SELECT s.variant, ${v.y} AS y, ${v.d}::float8 AS d, ${v.x}::float8 AS x
         FROM subj s
        CROSS JOIN LATERAL (
          SELECT coalesce(sum(r.count) FILTER (WHERE r.event_type = $4), 0)::float8 AS cnt,
                 coalesce(sum(r.sum) FILTER (WHERE r.event_type = $4), 0)::float8 AS num,
                 coalesce(sum(r.sum) FILTER (WHERE r.event_type = $5), 0)::float8 AS den,
                 min(r.first_at) FILTER (WHERE r.event_type = $4) AS first_event
            FROM metrics.subject_rollups r
           WHERE r.experiment_id = $1 AND r.subject_id = s.subject_id AND r.event_type IN ($4, $5)
             AND ($2::timestamptz IS NULL OR r.day >= ($2::timestamptz AT TIME ZONE 'UTC')::date)
             AND ($3::timestamptz IS NULL OR r.day < ($3::timestamptz AT TIME ZONE 'UTC'))) a
        -- The covariate over UTC days [day(exposure − pre-period), day(exposure)), from raw events of
        -- types that need no exposure (exposures themselves excluded).
        CROSS JOIN LATERAL (
          SELECT count(*)::float8 AS cnt, coalesce(sum(e.value), 0)::float8 AS num
            FROM metrics.events e
           WHERE $6::float8 > 0 AND e.subject_id = s.subject_id AND e.type = $4 AND ${SUBJECT_INDEXED}
             AND e.occur_time >= ((s.first_at - make_interval(secs => $6::float8)) AT TIME ZONE 'UTC')::date::timestamp AT TIME ZONE 'UTC'
             AND e.occur_time < (s.first_at AT TIME ZONE 'UTC')::date::timestamp AT TIME ZONE 'UTC') p
     ), capped AS (
       SELECT variant, ${capSql(m)} AS y, d, x FROM vals
     )
     SELECT variant, count(*)::float8 AS n, sum(y) AS sy, sum(y * y) AS syy, sum(d) AS sd, sum(d * d) AS sdd, sum(y * d) AS syd,
            sum(x) AS sx, sum(x * x) AS sxx, sum(x * y) AS sxy
       FROM capped GROUP BY variant`,
    [experimentId, iso(w.start), iso(w.end), m.eventType, m.denominatorEventType, prePeriodSeconds],
  );
  return rows.map(toAggregate);
}

/**
 * Percentile of event values per variant, over events of exposed subjects from their exposure
 * on. This reads raw events of the type (a scan, O(events)); percentiles do not roll up exactly.
 */
export async function percentileValues(db: Queryable, experimentId: string, m: Metric, w: Window): Promise<{ variant: string; n: number; value: number }[]> {
  const { rows } = await db.query<{ variant: string; n: string; value: number }>(
    `SELECT x.variant, count(*) AS n, percentile_cont($4::float8) WITHIN GROUP (ORDER BY e.value) AS value
       FROM metrics.exposures x
       JOIN metrics.events e ON e.subject_id = x.subject_id AND e.type = $5 AND e.value IS NOT NULL AND e.occur_time >= x.first_at
        AND ($3::timestamptz IS NULL OR e.occur_time < $3)
      WHERE x.experiment_id = $1 AND ($2::timestamptz IS NULL OR x.first_at >= $2) AND ($3::timestamptz IS NULL OR x.first_at < $3)
      GROUP BY x.variant`,
    [experimentId, iso(w.start), iso(w.end), m.percentile / 100, m.eventType],
  );
  return rows.map((r) => ({ variant: r.variant, n: Number(r.n), value: Number(r.value) }));
}

/**
 * Exposure events (per-variant daily aggregates) and unique subjects per variant in the window.
 * When the window holds every exposure, unique subjects come from the daily first-exposure
 * counters (O(days)); otherwise exposures are counted by exact time (O(subjects)).
 */
export async function traffic(db: Queryable, experimentId: string, w: Window, coversAll: boolean): Promise<Map<string, { exposures: number; subjects: number }>> {
  const days = `($2::timestamptz IS NULL OR day >= ($2::timestamptz AT TIME ZONE 'UTC')::date) AND ($3::timestamptz IS NULL OR day < ($3::timestamptz AT TIME ZONE 'UTC'))`;
  const { rows } = await db.query<{ variant: string; exposures: string | null; subjects: string | null }>(
    coversAll
      ? `SELECT variant, sum(exposures) FILTER (WHERE ${days}) AS exposures, sum(subjects) AS subjects
           FROM metrics.exposure_daily WHERE experiment_id = $1 GROUP BY variant`
      : `WITH s AS (
           SELECT variant, count(*) AS subjects FROM metrics.exposures
            WHERE experiment_id = $1 AND ($2::timestamptz IS NULL OR first_at >= $2) AND ($3::timestamptz IS NULL OR first_at < $3)
            GROUP BY variant
         ), e AS (
           SELECT variant, sum(exposures) AS exposures FROM metrics.exposure_daily WHERE experiment_id = $1 AND ${days} GROUP BY variant
         )
         SELECT variant, e.exposures, s.subjects FROM s FULL JOIN e USING (variant)`,
    [experimentId, iso(w.start), iso(w.end)],
  );
  return new Map(rows.map((r) => [r.variant, { exposures: Number(r.exposures ?? 0), subjects: Number(r.subjects ?? 0) }]));
}

/**
 * Whether the window holds every exposure and every day with attributed events of the experiment
 * (always so without bounds). Then per-subject values over the window are whole-run values and the
 * incremental per-variant statistics answer exactly. Index lookups only.
 */
export async function windowCoversAll(db: Queryable, experimentId: string, w: Window): Promise<boolean> {
  if (!w.start && !w.end) return true;
  const { rows } = await db.query<{ covers: boolean }>(
    `SELECT ($2::timestamptz IS NULL OR (
               coalesce((SELECT min(first_at) FROM metrics.exposures WHERE experiment_id = $1) >= $2, true)
           AND coalesce((SELECT min(day) FROM metrics.experiment_event_days WHERE experiment_id = $1) >= ($2::timestamptz AT TIME ZONE 'UTC')::date, true)))
        AND ($3::timestamptz IS NULL OR (
               coalesce((SELECT max(first_at) FROM metrics.exposures WHERE experiment_id = $1) < $3, true)
           AND coalesce((SELECT max(day) FROM metrics.experiment_event_days WHERE experiment_id = $1) < ($3::timestamptz AT TIME ZONE 'UTC'), true))) AS covers`,
    [experimentId, iso(w.start), iso(w.end)],
  );
  return rows[0].covers;
}

/** variant_day_stats columns (summed over days) that make y, d and the covariate x of a metric. */
interface StatColumns {
  y: string;
  y2: string;
  d?: [d: string, d2: string, yd: string];
  x?: [x: string, x2: string, xy: string];
}

/**
 * The metrics the incremental statistics serve: one event type, no per-metric cut of per-subject
 * values (conversion window, capping), and the covariate over the pre-period ingest keeps (or none).
 * Others (ratio, capped, windowed conversion, other pre-periods, percentile) read per-subject rows.
 */
export function statColumns(m: Metric, prePeriodSeconds: number, keptPrePeriodSeconds: number): StatColumns | undefined {
  if (m.capValue > 0 || m.capPercentile > 0) return undefined;
  if (prePeriodSeconds !== 0 && prePeriodSeconds !== keptPrePeriodSeconds) return undefined;
  const cuped = prePeriodSeconds > 0;
  switch (m.type) {
    case MetricType.CONVERSION:
      if (m.conversionWindow) return undefined;
      return { y: "subjects", y2: "subjects", x: cuped ? ["pre_subjects", "pre_subjects", "pre_conv"] : undefined };
    case MetricType.COUNT:
      return { y: "cnt", y2: "cnt2", x: cuped ? ["pre_cnt", "pre_cnt2", "pre_cnt_cnt"] : undefined };
    case MetricType.SUM:
      return { y: "sum", y2: "sum2", x: cuped ? ["pre_sum", "pre_sum2", "pre_sum_sum"] : undefined };
    case MetricType.MEAN:
      return { y: "sum", y2: "sum2", d: ["cnt", "cnt2", "cnt_sum"] };
    default:
      return undefined;
  }
}

/**
 * Per-variant sufficient statistics of one metric over the whole run, from the incremental
 * per-variant, per-exposure-day statistics: O(variants × days) rows, whatever the event volume.
 * Equal to metricAggregates when windowCoversAll holds (subjects without events contribute 0).
 */
export async function statsAggregates(db: Queryable, experimentId: string, eventType: string, c: StatColumns): Promise<VariantAggregate[]> {
  const col = (name: string | undefined) => (name ? `coalesce(s.${name}, 0)` : "0");
  const { rows } = await db.query<Record<string, number | string>>(
    `WITH n AS (
       SELECT variant, sum(subjects)::float8 AS n FROM metrics.exposure_daily WHERE experiment_id = $1 GROUP BY variant
     ), s AS (
       SELECT variant, ${["subjects", "cnt", "cnt2", "sum", "sum2", "cnt_sum", "pre_subjects", "pre_conv", "pre_cnt", "pre_cnt2", "pre_cnt_cnt", "pre_sum", "pre_sum2", "pre_sum_sum"]
         .map((k) => `sum(${k}) AS ${k}`)
         .join(", ")}
         FROM metrics.variant_day_stats WHERE experiment_id = $1 AND event_type = $2 GROUP BY variant
     )
     SELECT n.variant, n.n, ${col(c.y)} AS sy, ${col(c.y2)} AS syy, ${col(c.d?.[0])} AS sd, ${col(c.d?.[1])} AS sdd, ${col(c.d?.[2])} AS syd,
            ${col(c.x?.[0])} AS sx, ${col(c.x?.[1])} AS sxx, ${col(c.x?.[2])} AS sxy
       FROM n LEFT JOIN s USING (variant) WHERE n.n > 0`,
    [experimentId, eventType],
  );
  return rows.map(toAggregate);
}

export function toAggregate(r: Record<string, number | string>): VariantAggregate {
  return {
    variant: String(r.variant),
    n: Number(r.n),
    sumY: Number(r.sy),
    sumY2: Number(r.syy),
    sumD: Number(r.sd),
    sumD2: Number(r.sdd),
    sumYD: Number(r.syd),
    sumX: Number(r.sx),
    sumX2: Number(r.sxx),
    sumXY: Number(r.sxy),
  };
}

/** First and last exposure time in the window (bounds of the daily time series). */
export async function exposureSpan(db: Queryable, experimentId: string, w: Window): Promise<{ first: Date; last: Date } | undefined> {
  const { rows } = await db.query<{ first: Date | null; last: Date | null }>(
    `SELECT min(first_at) AS first, max(first_at) AS last FROM metrics.exposures
      WHERE experiment_id = $1 AND ($2::timestamptz IS NULL OR first_at >= $2) AND ($3::timestamptz IS NULL OR first_at < $3)`,
    [experimentId, iso(w.start), iso(w.end)],
  );
  const r = rows[0];
  return r?.first && r.last ? { first: new Date(r.first), last: new Date(r.last) } : undefined;
}
