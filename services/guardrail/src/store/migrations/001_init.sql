-- Guardrails, their firings, and the autopilot's progress and decisions.
CREATE TABLE guardrail.guardrails (
  id            uuid PRIMARY KEY,
  experiment_id text NOT NULL,
  metric_key    text NOT NULL,
  window_ms     bigint NOT NULL,
  action        smallint NOT NULL,
  active        boolean NOT NULL,
  rule_kind     text NOT NULL CHECK (rule_kind IN ('threshold', 'relative', 'slo')),
  -- The rule message as proto JSON (ThresholdRule / RelativeRule / SloRule).
  rule          jsonb NOT NULL,
  version       bigint NOT NULL DEFAULT 1,
  create_time   timestamptz NOT NULL,
  update_time   timestamptz NOT NULL
);
CREATE INDEX guardrails_experiment ON guardrail.guardrails (experiment_id, id);

-- No foreign key to guardrails: a deleted guardrail's history stays.
CREATE TABLE guardrail.triggers (
  id                 uuid PRIMARY KEY,
  guardrail_id       uuid NOT NULL,
  experiment_id      text NOT NULL,
  -- Version of the experiment the firing was judged on. One firing per (guardrail, version):
  -- concurrent sweeps that see the same version insert one row, and only its claimant acts.
  experiment_version bigint NOT NULL,
  metric_key         text NOT NULL,
  variant            text NOT NULL,
  threshold          double precision NOT NULL,
  observed_value     double precision NOT NULL,
  window_ms          bigint NOT NULL,
  action             smallint NOT NULL,
  rule_kind          text NOT NULL,
  -- pending: claimed, action in flight; applied; superseded: someone else acted first;
  -- failed: the action errored (a later sweep may claim it again).
  state              text NOT NULL CHECK (state IN ('pending', 'applied', 'superseded', 'failed')),
  claimed_at         timestamptz NOT NULL,
  sweep_id           text NOT NULL,
  fire_time          timestamptz NOT NULL,
  detail             text NOT NULL DEFAULT '',
  UNIQUE (guardrail_id, experiment_version)
);
CREATE INDEX triggers_experiment_time ON guardrail.triggers (experiment_id, fire_time DESC, id DESC);
CREATE INDEX triggers_time ON guardrail.triggers (fire_time DESC, id DESC);

CREATE TABLE guardrail.autopilot_state (
  experiment_id   text PRIMARY KEY,
  current_step    integer NOT NULL,
  step_start_time timestamptz NOT NULL,
  held            boolean NOT NULL DEFAULT false,
  done            boolean NOT NULL DEFAULT false,
  update_time     timestamptz NOT NULL
);

CREATE TABLE guardrail.autopilot_decisions (
  id                 uuid PRIMARY KEY,
  experiment_id      text NOT NULL,
  action             smallint NOT NULL,
  from_step          integer NOT NULL,
  to_step            integer NOT NULL,
  reason             text NOT NULL,
  checks             jsonb NOT NULL,
  decide_time        timestamptz NOT NULL,
  actor              text NOT NULL,
  experiment_version bigint NOT NULL
);
CREATE INDEX autopilot_decisions_experiment ON guardrail.autopilot_decisions (experiment_id, decide_time DESC, id DESC);
