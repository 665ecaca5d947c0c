-- Channels: non-secret config as JSON; the one secret per channel is stored AES-256-GCM encrypted
-- (secret_box) or named by an environment variable (secret_env), never in plain text.
CREATE TABLE notification.channels (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  kind        text NOT NULL,
  config      jsonb NOT NULL,
  secret_box  text,
  secret_env  text,
  create_time timestamptz NOT NULL,
  update_time timestamptz NOT NULL
);

CREATE TABLE notification.rules (
  id          text PRIMARY KEY,
  spec        jsonb NOT NULL,
  create_time timestamptz NOT NULL
);

-- One row per consumed event id: a redelivered event finds its mark and is not sent twice.
CREATE TABLE notification.processed_events (
  event_id     text PRIMARY KEY,
  subject      text NOT NULL,
  processed_at timestamptz NOT NULL
);

-- Last time a message with this dedup key went out for a rule.
CREATE TABLE notification.dedup_marks (
  rule_id   text NOT NULL,
  dedup_key text NOT NULL,
  sent_at   timestamptz NOT NULL,
  PRIMARY KEY (rule_id, dedup_key)
);

-- The outbox and delivery log in one: a pending row is the stored decision to send.
CREATE TABLE notification.deliveries (
  id              text PRIMARY KEY,
  rule_id         text NOT NULL,
  channel_id      text NOT NULL,
  event_type      text NOT NULL,
  group_key       text NOT NULL,
  event_ids       text[] NOT NULL,
  items           jsonb NOT NULL,
  template        text NOT NULL DEFAULT '',
  status          text NOT NULL,
  attempts        int NOT NULL DEFAULT 0,
  last_error      text NOT NULL DEFAULT '',
  create_time     timestamptz NOT NULL,
  -- Further events of the same group may join the message until then.
  open_until      timestamptz,
  next_attempt_at timestamptz,
  lease_until     timestamptz,
  deliver_time    timestamptz
);

CREATE INDEX deliveries_due ON notification.deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_rule_channel ON notification.deliveries (rule_id, channel_id, create_time);
CREATE INDEX deliveries_created ON notification.deliveries (create_time DESC, id DESC);
CREATE INDEX deliveries_event_ids ON notification.deliveries USING gin (event_ids);

-- Service-owned settings, e.g. the generated secret key in embedded mode.
CREATE TABLE notification.settings (
  key   text PRIMARY KEY,
  value text NOT NULL
);
