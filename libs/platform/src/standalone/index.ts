import { admissionFromConfig } from "../admission/config.js";
import { createHostAuth, isServiceName } from "../auth/host-auth.js";
import { authSettingsFromConfig } from "../auth/settings.js";
import { createNatsBus } from "../bus/index.js";
import { createRedisCache } from "../cache/index.js";
import { loadConfig, type Config } from "../config/index.js";
import { ensureDatabase, openPostgres } from "../db/index.js";
import { createLogger } from "../log/index.js";
import { createRpcServer, onShutdownSignals } from "../rpc/index.js";
import { startSloMonitor } from "../slo/host.js";
import type { ServiceDefinition } from "../service/index.js";
import { createMetricsRegistry, startTelemetry } from "../telemetry/index.js";
import { hostConfigSpec } from "../host/config.js";
import { namespacedBus } from "../host/namespace.js";
import { networkPeers } from "../host/peers.js";

export type HostConfig = Config<typeof hostConfigSpec>;

/** Database URL → (admin URL on the same server, database name), to create it when missing. */
function splitDatabaseUrl(url: string): { admin: string; name: string } {
  const u = new URL(url);
  const name = decodeURIComponent(u.pathname.replace(/^\//, ""));
  u.pathname = "/postgres";
  return { admin: u.toString(), name };
}

/**
 * Runs one service as its own process on real Postgres, Redis and NATS. Everything opened here
 * is closed on SIGTERM in reverse order of dependency: server (drains calls), module (consumers),
 * then bus, cache and database.
 */
export async function runStandalone(def: ServiceDefinition, source: NodeJS.ProcessEnv = process.env): Promise<void> {
  const cfg: HostConfig = loadConfig(hostConfigSpec, source);
  // Auth settings first: a service that would start unprotected by mistake must not start at all.
  const authSettings = authSettingsFromConfig(cfg);
  if (authSettings && !isServiceName(def.name)) throw new Error(`no service identity for "${def.name}"`);
  const auth = authSettings ? createHostAuth(authSettings, () => module.sdkKeys) : undefined;
  const telemetry = await startTelemetry({ serviceName: `lotty-${def.name}`, otlpEndpoint: cfg.OTEL_EXPORTER_OTLP_ENDPOINT });
  const logger = createLogger(def.name, { level: cfg.LOTTY_LOG_LEVEL });
  const databaseUrl = cfg.DATABASE_URL ?? `postgres://postgres@127.0.0.1:5432/lotty_${def.name}`;
  if (cfg.LOTTY_DB_CREATE) {
    const { admin, name } = splitDatabaseUrl(databaseUrl);
    await ensureDatabase(admin, name);
  }
  const db = openPostgres(databaseUrl, { max: cfg.LOTTY_DB_POOL_MAX });
  const ns = cfg.LOTTY_NAMESPACE;
  const nats = await createNatsBus({
    servers: cfg.NATS_URL,
    name: `lotty-${def.name}`,
    ...(ns ? { stream: `LOTTY_${ns.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`, subjects: [`${ns}.>`] } : {}),
  });
  const bus = ns ? namespacedBus(nats, ns) : nats;
  const cache = createRedisCache(cfg.REDIS_URL, { keyPrefix: ns ? `lotty:${ns}:` : "lotty:" });
  const metrics = createMetricsRegistry(def.name);
  const peers = networkPeers(
    {
      experiment: cfg.LOTTY_EXPERIMENT_URL,
      decision: cfg.LOTTY_DECISION_URL,
      metrics: cfg.LOTTY_METRICS_URL,
      guardrail: cfg.LOTTY_GUARDRAIL_URL,
      notification: cfg.LOTTY_NOTIFICATION_URL,
    },
    cfg.LOTTY_RPC_TIMEOUT,
    auth && isServiceName(def.name) ? [auth.peerInterceptor(def.name)] : [],
  );
  const module = await def.create({ db, bus, cache, logger, metrics, peers });
  const slo = startSloMonitor([module], { bus, registry: metrics, logger });
  const server = createRpcServer({
    name: def.name,
    routes: (router) => module.register(router),
    files: [...module.files],
    http: auth ? auth.guardHttp(module.http ?? []) : [...(module.http ?? [])],
    interceptors: auth ? [auth.interceptor] : [],
    metrics,
    logger,
    admission: admissionFromConfig(cfg),
    observers: slo ? [slo.interceptor] : [],
    limits: { readMaxBytes: cfg.LOTTY_RPC_MAX_REQUEST_SIZE },
  });
  const port = source.LOTTY_PORT ? cfg.LOTTY_PORT : def.defaultPort;
  // Started before the port opens: a replica that accepted calls first answered them from an
  // empty ruleset (FLAG_NOT_FOUND) until its start finished (seen in the chaos suite's restarts);
  // a closed port sends clients to another replica instead.
  await module.start();
  const bound = await server.listen(port, cfg.LOTTY_HOST);
  logger.info({ port: bound.port, auth: auth ? "on" : "off" }, `lotty-${def.name} ready`);
  onShutdownSignals(
    [
      () => server.close({ graceMs: cfg.LOTTY_SHUTDOWN_GRACE }),
      () => module.close(),
      async () => slo?.close(),
      () => bus.close(),
      () => cache.close(),
      () => db.close(),
      () => telemetry.shutdown(),
    ],
    logger,
  );
}
