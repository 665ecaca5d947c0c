-- Sticky assignments: the first writer wins (insert ... on conflict do nothing).
CREATE TABLE decision.assignments (
  subject_id    text        NOT NULL,
  experiment_id text        NOT NULL,
  variant       text        NOT NULL,
  assigned_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (subject_id, experiment_id)
);

-- When experiments completed or were archived: starts each subject's cooldown.
CREATE TABLE decision.experiment_ends (
  experiment_id text        PRIMARY KEY,
  ended_at      timestamptz NOT NULL
);
