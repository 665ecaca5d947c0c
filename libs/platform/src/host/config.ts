import { env } from "../config/index.js";

/** Environment of every Lotty process; the README's configuration table is generated from it. */
export const hostConfigSpec = {
  LOTTY_PORT: env.port({ default: 8080, doc: "Port serving gRPC, gRPC-Web, Connect, OFREP and /metrics. Standalone services default to their own port (experiment 8081, decision 8082, metrics 8083, guardrail 8084, notification 8085) when unset." }),
  LOTTY_HOST: env.string({ default: "127.0.0.1", doc: "Interface to listen on; `0.0.0.0` in containers." }),
  LOTTY_DATA_DIR: env.string({ default: "./.lotty", doc: "Embedded default only: where the embedded Postgres (PGlite) keeps its data." }),
  DATABASE_URL: env.url({ optional: true, protocols: ["postgres:", "postgresql:"], secret: true, doc: "Standalone services: this service's own Postgres database, e.g. `postgres://postgres@127.0.0.1:5432/lotty_experiment`." }),
  LOTTY_DB_CREATE: env.bool({ default: true, doc: "Standalone services: create the database named in DATABASE_URL when it is missing." }),
  LOTTY_DB_POOL_MAX: env.int({ default: 10, min: 1, max: 200, doc: "Standalone services: Postgres pool size." }),
  REDIS_URL: env.url({ default: "redis://127.0.0.1:6379", protocols: ["redis:", "rediss:"], secret: true, doc: "Standalone services: Redis for the decision cache and ruleset snapshots." }),
  NATS_URL: env.string({ default: "nats://127.0.0.1:4222", doc: "Standalone services: NATS server(s) with JetStream, comma-separated." }),
  LOTTY_NAMESPACE: env.string({ optional: true, doc: "Standalone services: isolates this installation on shared NATS/Redis (subjects, durable consumers and cache keys get this prefix)." }),
  LOTTY_EXPERIMENT_URL: env.url({ default: "http://127.0.0.1:8081", doc: "Standalone services: base URL of the experiment service." }),
  LOTTY_DECISION_URL: env.url({ default: "http://127.0.0.1:8082", doc: "Standalone services: base URL of the decision service." }),
  LOTTY_METRICS_URL: env.url({ default: "http://127.0.0.1:8083", doc: "Standalone services: base URL of the metrics service." }),
  LOTTY_GUARDRAIL_URL: env.url({ default: "http://127.0.0.1:8084", doc: "Standalone services: base URL of the guardrail service." }),
  LOTTY_NOTIFICATION_URL: env.url({ default: "http://127.0.0.1:8085", doc: "Standalone services: base URL of the notification service." }),
  LOTTY_RPC_TIMEOUT: env.durationMs({ default: 5000, doc: "Deadline of calls to peer services." }),
  LOTTY_SHUTDOWN_GRACE: env.durationMs({ default: 10_000, doc: "How long in-flight calls may finish after SIGTERM." }),
  LOTTY_LOG_LEVEL: env.oneOf(["trace", "debug", "info", "warn", "error", "silent"] as const, { default: "info", doc: "Log level (JSON logs on stdout)." }),
  OTEL_EXPORTER_OTLP_ENDPOINT: env.url({ optional: true, doc: "OTLP/HTTP endpoint for traces (e.g. `http://otel-collector:4318`); unset = tracing off, at no cost." }),
};
