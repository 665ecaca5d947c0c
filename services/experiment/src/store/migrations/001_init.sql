-- Flags: what Decide is asked about.
CREATE TABLE experiment.flags (
  key           text PRIMARY KEY,
  description   text NOT NULL DEFAULT '',
  value_type    int NOT NULL,
  default_value jsonb NOT NULL,
  archived      boolean NOT NULL DEFAULT false,
  version       bigint NOT NULL DEFAULT 1,
  created_at    timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL
);

-- Experiments: indexed columns for filtering and the one-active-per-flag rule; `doc` holds the
-- full Experiment (proto JSON) and `targeting_ast` the rule compiled at write time.
CREATE TABLE experiment.experiments (
  id            text PRIMARY KEY,
  seq           bigserial NOT NULL UNIQUE,
  flag_key      text NOT NULL REFERENCES experiment.flags (key),
  owner         text NOT NULL,
  status        int NOT NULL,
  version       bigint NOT NULL,
  doc           jsonb NOT NULL,
  targeting_ast jsonb NOT NULL
);
CREATE INDEX experiments_flag ON experiment.experiments (flag_key);
CREATE INDEX experiments_status ON experiment.experiments (status);
-- A flag has at most one running (4) or paused (5) experiment; enforced here so two concurrent
-- starts cannot both win.
CREATE UNIQUE INDEX experiments_one_active_per_flag ON experiment.experiments (flag_key) WHERE status IN (4, 5);

-- Every version of every experiment, kept.
CREATE TABLE experiment.experiment_versions (
  experiment_id text NOT NULL REFERENCES experiment.experiments (id),
  version       bigint NOT NULL,
  doc           jsonb NOT NULL,
  actor_id      text NOT NULL,
  actor_kind    int NOT NULL,
  changed_at    timestamptz NOT NULL,
  PRIMARY KEY (experiment_id, version)
);

CREATE TABLE experiment.audit_events (
  id                 text PRIMARY KEY,
  seq                bigserial NOT NULL UNIQUE,
  experiment_id      text NOT NULL,
  action             text NOT NULL,
  actor_id           text NOT NULL,
  actor_kind         int NOT NULL,
  from_status        text NOT NULL DEFAULT '',
  to_status          text NOT NULL DEFAULT '',
  metadata           jsonb NOT NULL DEFAULT '{}',
  occurred_at        timestamptz NOT NULL,
  experiment_version bigint NOT NULL
);
CREATE INDEX audit_events_experiment ON experiment.audit_events (experiment_id, seq);

CREATE TABLE experiment.approver_groups (
  owner         text PRIMARY KEY,
  approvers     jsonb NOT NULL,
  min_approvals int NOT NULL
);

CREATE TABLE experiment.conflict_domains (
  key            text PRIMARY KEY,
  description    text NOT NULL DEFAULT '',
  policy         int NOT NULL,
  max_concurrent int NOT NULL,
  version        bigint NOT NULL DEFAULT 1,
  created_at     timestamptz NOT NULL,
  updated_at     timestamptz NOT NULL
);

-- Single-row tables: the global participation policy and the ruleset version counter.
CREATE TABLE experiment.participation_policy (
  singleton                  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  max_concurrent_experiments int NOT NULL,
  cooldown_seconds           bigint NOT NULL
);
INSERT INTO experiment.participation_policy VALUES (true, 3, 604800);

CREATE TABLE experiment.ruleset_state (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  version   bigint NOT NULL
);
INSERT INTO experiment.ruleset_state VALUES (true, 1);

CREATE TABLE experiment.sdk_keys (
  id          text PRIMARY KEY,
  seq         bigserial NOT NULL UNIQUE,
  name        text NOT NULL,
  environment text NOT NULL,
  prefix      text NOT NULL,
  key_hash    text NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL,
  revoked_at  timestamptz
);
