-- Event catalog: event types are data. "exposure" exists out of the box.
CREATE TABLE metrics.event_types (
  key               text PRIMARY KEY,
  description       text NOT NULL DEFAULT '',
  fields            jsonb NOT NULL DEFAULT '[]',
  requires_exposure boolean NOT NULL DEFAULT false,
  archived          boolean NOT NULL DEFAULT false,
  version           bigint NOT NULL DEFAULT 1,
  create_time       timestamptz NOT NULL DEFAULT now()
);
INSERT INTO metrics.event_types (key, description, fields, requires_exposure)
VALUES ('exposure', 'A subject was exposed to a variant of an experiment (experiment_id and variant set).', '[]', false);

-- Every accepted event, once: the primary key is what makes ingestion idempotent across
-- restarts and replicas (INSERT ... ON CONFLICT (event_id) DO NOTHING RETURNING).
CREATE TABLE metrics.events (
  event_id          text PRIMARY KEY,
  type              text NOT NULL,
  decision_id       text NOT NULL DEFAULT '',
  subject_id        text NOT NULL,
  occur_time        timestamptz NOT NULL,
  value             double precision,
  -- Copied from the type at ingest so a later policy change does not re-attribute history.
  requires_exposure boolean NOT NULL,
  experiment_id     text NOT NULL DEFAULT '',
  variant           text NOT NULL DEFAULT ''
);
CREATE INDEX events_subject_idx ON metrics.events (subject_id, occur_time);
-- Percentile metrics read event values of attributed events.
CREATE INDEX events_type_time_idx ON metrics.events (type, occur_time);

-- One row per subject and experiment: the first exposure to arrive fixes variant and time.
CREATE TABLE metrics.exposures (
  experiment_id text NOT NULL,
  subject_id    text NOT NULL,
  variant       text NOT NULL,
  decision_id   text NOT NULL DEFAULT '',
  first_at      timestamptz NOT NULL,
  exposures     bigint NOT NULL DEFAULT 1,
  PRIMARY KEY (experiment_id, subject_id)
);
CREATE INDEX exposures_subject_idx ON metrics.exposures (subject_id);
CREATE INDEX exposures_time_idx ON metrics.exposures (experiment_id, first_at);

-- Decision ids seen on exposures, for attributing events by decision_id.
CREATE TABLE metrics.decisions (
  decision_id   text PRIMARY KEY,
  experiment_id text NOT NULL,
  subject_id    text NOT NULL
);

-- Per-variant per-day exposure counts (every exposure event, not only the first per subject).
CREATE TABLE metrics.exposure_daily (
  experiment_id text NOT NULL,
  variant       text NOT NULL,
  day           date NOT NULL,
  exposures     bigint NOT NULL,
  PRIMARY KEY (experiment_id, variant, day)
);

-- Events of types that require exposure, waiting for it (up to 7 days, then purged).
CREATE TABLE metrics.pending_events (
  event_id    text PRIMARY KEY REFERENCES metrics.events (event_id) ON DELETE CASCADE,
  subject_id  text NOT NULL,
  decision_id text NOT NULL DEFAULT '',
  received_at timestamptz NOT NULL
);
CREATE INDEX pending_subject_idx ON metrics.pending_events (subject_id);
CREATE INDEX pending_decision_idx ON metrics.pending_events (decision_id) WHERE decision_id <> '';
CREATE INDEX pending_received_idx ON metrics.pending_events (received_at);

-- Attributed events rolled up per subject, experiment, event type and UTC day. first_at is the
-- earliest event of the bucket (conversion windows).
CREATE TABLE metrics.subject_rollups (
  experiment_id text NOT NULL,
  variant       text NOT NULL,
  subject_id    text NOT NULL,
  event_type    text NOT NULL,
  day           date NOT NULL,
  count         bigint NOT NULL,
  sum           double precision NOT NULL,
  sum_sq        double precision NOT NULL,
  first_at      timestamptz NOT NULL,
  PRIMARY KEY (experiment_id, event_type, subject_id, day)
);

-- Events of types that do not require exposure, per subject and day regardless of experiment:
-- the CUPED pre-period covariate reads these.
CREATE TABLE metrics.subject_daily (
  subject_id text NOT NULL,
  event_type text NOT NULL,
  day        date NOT NULL,
  count      bigint NOT NULL,
  sum        double precision NOT NULL,
  PRIMARY KEY (event_type, subject_id, day)
);

CREATE TABLE metrics.metrics (
  key                    text PRIMARY KEY,
  name                   text NOT NULL,
  description            text NOT NULL DEFAULT '',
  direction              int NOT NULL,
  type                   int NOT NULL,
  event_type             text NOT NULL,
  denominator_event_type text NOT NULL DEFAULT '',
  conversion_window_s    double precision,
  percentile             double precision NOT NULL DEFAULT 0,
  cap_percentile         double precision NOT NULL DEFAULT 0,
  cap_value              double precision NOT NULL DEFAULT 0,
  archived               boolean NOT NULL DEFAULT false,
  version                bigint NOT NULL DEFAULT 1,
  create_time            timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE metrics.experiment_metrics (
  experiment_id text NOT NULL,
  metric_key    text NOT NULL REFERENCES metrics.metrics (key),
  role          int NOT NULL,
  position      int NOT NULL,
  PRIMARY KEY (experiment_id, metric_key)
);
