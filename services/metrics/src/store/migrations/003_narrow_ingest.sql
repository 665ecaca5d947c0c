-- Fewer and cheaper index entries per ingested event (measurements in bench/RESULTS.md, issue 5).

-- Keys compare bytewise (collation "C"): every btree insert compares keys with memcmp instead of
-- the locale's strcoll. No query orders these keys for people.
ALTER TABLE metrics.pending_events DROP CONSTRAINT pending_events_event_id_fkey;

-- Experiment and variant of exposure events live in metrics.exposures; nothing read these copies.
ALTER TABLE metrics.events
  DROP COLUMN experiment_id,
  DROP COLUMN variant,
  ALTER COLUMN event_id TYPE text COLLATE "C",
  ALTER COLUMN type TYPE text COLLATE "C",
  ALTER COLUMN decision_id TYPE text COLLATE "C",
  ALTER COLUMN subject_id TYPE text COLLATE "C";

-- Raw events are read by subject only for types that need no exposure (what a first exposure
-- takes over: its pre-period and what arrived before it). Exposures, often most of the events,
-- and events that wait for an exposure are not indexed by subject. Percentiles scan by type.
DROP INDEX metrics.events_subject_idx;
CREATE INDEX events_subject_idx ON metrics.events (subject_id, occur_time) WHERE NOT requires_exposure AND type <> 'exposure';

ALTER TABLE metrics.pending_events
  ALTER COLUMN event_id TYPE text COLLATE "C",
  ALTER COLUMN subject_id TYPE text COLLATE "C",
  ALTER COLUMN decision_id TYPE text COLLATE "C",
  ADD CONSTRAINT pending_events_event_id_fkey FOREIGN KEY (event_id) REFERENCES metrics.events (event_id) ON DELETE CASCADE;

-- Ingest looks exposures up by subject: the primary key leads with it, so the separate subject
-- index goes (reports find an experiment's exposures through exposures_time_idx).
ALTER TABLE metrics.exposures
  ALTER COLUMN experiment_id TYPE text COLLATE "C",
  ALTER COLUMN subject_id TYPE text COLLATE "C",
  DROP CONSTRAINT exposures_pkey,
  ADD PRIMARY KEY (subject_id, experiment_id);
DROP INDEX metrics.exposures_subject_idx;

ALTER TABLE metrics.decisions ALTER COLUMN decision_id TYPE text COLLATE "C";

ALTER TABLE metrics.subject_rollups
  ALTER COLUMN experiment_id TYPE text COLLATE "C",
  ALTER COLUMN event_type TYPE text COLLATE "C",
  ALTER COLUMN subject_id TYPE text COLLATE "C";

ALTER TABLE metrics.subject_totals
  ALTER COLUMN experiment_id TYPE text COLLATE "C",
  ALTER COLUMN event_type TYPE text COLLATE "C",
  ALTER COLUMN subject_id TYPE text COLLATE "C";

-- The CUPED pre-period covariate is read from the subject's raw events (events_subject_idx), once
-- per first exposure on ingest and per subject in reports with another pre-period. The per-subject
-- daily copy of every event cost a row upsert per subject, type and day; it held nothing the raw
-- events do not.
DROP TABLE metrics.subject_daily;
