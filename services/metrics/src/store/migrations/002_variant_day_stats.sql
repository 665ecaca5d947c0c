-- Incremental sufficient statistics, so a report reads O(variants × event types × days) rows.
-- The CUPED pre-period below (14 days) is CUPED_PRE_PERIOD_S in src/domain/attribution.ts.

-- No query reads events by type and time (percentiles go through events_subject_idx); the index
-- only cost ingest time.
DROP INDEX metrics.events_type_time_idx;

-- First exposures (unique subjects) per variant and UTC day of exposure.
ALTER TABLE metrics.exposure_daily ADD COLUMN subjects bigint NOT NULL DEFAULT 0;

-- Each exposed subject's whole-run totals per event type: attributed events (cnt, sum) and events
-- in its pre-period (pre_cnt, pre_sum; types that need no exposure only). Ingest applies the
-- change of a subject's contribution (old value out, new in) to variant_day_stats.
CREATE TABLE metrics.subject_totals (
  experiment_id text NOT NULL,
  event_type    text NOT NULL,
  subject_id    text NOT NULL,
  variant       text NOT NULL,
  cohort_day    date NOT NULL,
  cnt           double precision NOT NULL,
  sum           double precision NOT NULL,
  pre_cnt       double precision NOT NULL,
  pre_sum       double precision NOT NULL,
  PRIMARY KEY (experiment_id, event_type, subject_id)
);

-- Per variant, event type and exposure day (cohort): sums over subjects of their per-subject
-- values (c = cnt, s = sum, pc = pre_cnt, ps = pre_sum), squares and cross products.
CREATE TABLE metrics.variant_day_stats (
  experiment_id text NOT NULL,
  event_type    text NOT NULL,
  variant       text NOT NULL,
  day           date NOT NULL,
  subjects      double precision NOT NULL, -- Σ [c > 0]
  cnt           double precision NOT NULL, -- Σ c
  cnt2          double precision NOT NULL, -- Σ c²
  sum           double precision NOT NULL, -- Σ s
  sum2          double precision NOT NULL, -- Σ s²
  cnt_sum       double precision NOT NULL, -- Σ c·s
  pre_subjects  double precision NOT NULL, -- Σ [pc > 0]
  pre_conv      double precision NOT NULL, -- Σ [pc > 0]·[c > 0]
  pre_cnt       double precision NOT NULL, -- Σ pc
  pre_cnt2      double precision NOT NULL, -- Σ pc²
  pre_cnt_cnt   double precision NOT NULL, -- Σ pc·c
  pre_sum       double precision NOT NULL, -- Σ ps
  pre_sum2      double precision NOT NULL, -- Σ ps²
  pre_sum_sum   double precision NOT NULL, -- Σ ps·s
  PRIMARY KEY (experiment_id, event_type, variant, day)
);

-- UTC days that hold attributed events, per experiment: tells whether a window cuts any.
CREATE TABLE metrics.experiment_event_days (
  experiment_id text NOT NULL,
  day           date NOT NULL,
  PRIMARY KEY (experiment_id, day)
);

-- Backfill from what was ingested before this migration.
UPDATE metrics.exposure_daily d SET subjects = f.n
  FROM (SELECT experiment_id, variant, (first_at AT TIME ZONE 'UTC')::date AS day, count(*) AS n
          FROM metrics.exposures GROUP BY 1, 2, 3) f
 WHERE d.experiment_id = f.experiment_id AND d.variant = f.variant AND d.day = f.day;

INSERT INTO metrics.experiment_event_days SELECT DISTINCT experiment_id, day FROM metrics.subject_rollups;

INSERT INTO metrics.subject_totals
SELECT x.experiment_id, t.event_type, x.subject_id, x.variant, (x.first_at AT TIME ZONE 'UTC')::date,
       coalesce(r.cnt, 0), coalesce(r.sum, 0), coalesce(p.cnt, 0), coalesce(p.sum, 0)
  FROM metrics.exposures x
  JOIN (SELECT DISTINCT experiment_id, subject_id, event_type FROM metrics.subject_rollups
        UNION SELECT x.experiment_id, x.subject_id, d.event_type FROM metrics.exposures x JOIN metrics.subject_daily d USING (subject_id)
         WHERE d.day >= ((x.first_at - interval '14 days') AT TIME ZONE 'UTC')::date AND d.day < (x.first_at AT TIME ZONE 'UTC')::date) t
    USING (experiment_id, subject_id)
  LEFT JOIN (SELECT experiment_id, subject_id, event_type, sum(count) AS cnt, sum(sum) AS sum FROM metrics.subject_rollups GROUP BY 1, 2, 3) r
    USING (experiment_id, subject_id, event_type)
  LEFT JOIN LATERAL (SELECT sum(d.count) AS cnt, sum(d.sum) AS sum FROM metrics.subject_daily d
                      WHERE d.subject_id = x.subject_id AND d.event_type = t.event_type
                        AND d.day >= ((x.first_at - interval '14 days') AT TIME ZONE 'UTC')::date
                        AND d.day < (x.first_at AT TIME ZONE 'UTC')::date) p ON true;

INSERT INTO metrics.variant_day_stats
SELECT experiment_id, event_type, variant, cohort_day,
       sum((cnt > 0)::int), sum(cnt), sum(cnt * cnt), sum(sum), sum(sum * sum), sum(cnt * sum),
       sum((pre_cnt > 0)::int), sum((pre_cnt > 0 AND cnt > 0)::int), sum(pre_cnt), sum(pre_cnt * pre_cnt), sum(pre_cnt * cnt),
       sum(pre_sum), sum(pre_sum * pre_sum), sum(pre_sum * sum)
  FROM metrics.subject_totals GROUP BY 1, 2, 3, 4;
