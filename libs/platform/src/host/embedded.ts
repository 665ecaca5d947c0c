import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { createRouterTransport } from "@connectrpc/connect";
import type { AdmissionOptions } from "../admission/index.js";
import { createHostAuth, isServiceName } from "../auth/host-auth.js";
import { DEFAULT_AUDIENCE, DEFAULT_ISSUER, mintUserToken } from "../auth/jwt.js";
import { loadOrCreateLocalSecrets } from "../auth/local.js";
import type { Role } from "../auth/policy.js";
import type { AuthSettings } from "../auth/settings.js";
// Direct module imports: the embedded default never loads the NATS, Redis or pg clients.
import { createMemoryBus } from "../bus/memory.js";
import { createMemoryCache } from "../cache/memory.js";
import { openPglite } from "../db/pglite.js";
import { createLogger, type Logger } from "../log/index.js";
import { createRpcServer, type RpcLimits } from "../rpc/index.js";
import { startSloMonitor } from "../slo/host.js";
import type { ServiceDefinition, ServiceModule } from "../service/index.js";
import { createMetricsRegistry } from "../telemetry/index.js";
import { lateBoundPeers } from "./peers.js";

export interface EmbeddedOptions {
  port: number;
  host: string;
  /** PGlite data lives under <dataDir>/pgdata; undefined = in memory (tests). */
  dataDir?: string;
  logger?: Logger;
  /** Dump of an empty cluster that spares initdb on a first start (made at npm install). */
  pgliteTemplate?: string;
  /**
   * Who may call: settings (user token key, service token secret), or false for no checks (a
   * trusted network; the x-lotty-actor header names callers). Unset: secrets generated for this
   * process, so tests get auth on without configuration (mint tokens with `auth.mintToken`).
   */
  auth?: AuthSettings | false;
  /** Priority load shedding (main.ts passes LOTTY_ADMISSION_*); none when absent. */
  admission?: AdmissionOptions;
  /** Request size bounds (main.ts passes LOTTY_RPC_MAX_REQUEST_SIZE); the server's defaults when absent. */
  limits?: RpcLimits;
}

export interface EmbeddedAuth {
  readonly settings: AuthSettings;
  /** A user token for this instance; only when user tokens are signed with a secret (HS256). */
  mintToken(opts: { sub: string; roles: readonly Role[]; ttlSeconds?: number }): Promise<string>;
}

const defaultTemplate = new URL("../../../../node_modules/.cache/lotty/pglite-template.tgz", import.meta.url).pathname;

export interface EmbeddedLotty {
  readonly port: number;
  readonly modules: readonly ServiceModule[];
  /** Undefined when auth is off. */
  readonly auth?: EmbeddedAuth;
  close(): Promise<void>;
}

/**
 * All services in one process: one embedded Postgres (PGlite) with a schema per service (five
 * PGlite instances would cost about five times the memory and start time), the in-process bus
 * and cache. Services reach each other only through their Connect interfaces.
 */
export async function startEmbedded(defs: readonly ServiceDefinition[], opts: EmbeddedOptions): Promise<EmbeddedLotty> {
  const logger = opts.logger ?? createLogger("lotty");
  let pgdata: string | undefined;
  if (opts.dataDir !== undefined) {
    pgdata = join(resolve(opts.dataDir), "pgdata");
    mkdirSync(pgdata, { recursive: true });
  }
  const db = await openPglite(pgdata, { template: opts.pgliteTemplate ?? defaultTemplate });
  const bus = createMemoryBus();
  const cache = createMemoryCache();
  const metrics = createMetricsRegistry("lotty");
  const peers = lateBoundPeers();
  const settings = opts.auth ?? embeddedSecrets(undefined);
  const modules: ServiceModule[] = [];
  // The first module holding SDK keys (the decision service's ruleset) answers for the whole process.
  const auth = settings ? createHostAuth(settings, () => modules.find((m) => m.sdkKeys)?.sdkKeys) : undefined;
  for (const def of defs) {
    // A module without a service identity (a test's own) calls its peers anonymously.
    const own = auth && isServiceName(def.name) ? peers.as(auth.serviceToken(def.name)) : peers;
    modules.push(await def.create({ db, bus, cache, logger: createLogger(def.name, { level: logger.level }), metrics, peers: own }));
  }
  const routes = (router: Parameters<ServiceModule["register"]>[0]) => {
    for (const m of modules) m.register(router);
  };
  // In-process calls pass the same checks as calls from outside.
  peers.bind(createRouterTransport(routes, auth ? { router: { interceptors: [auth.interceptor] } } : undefined));
  const http = modules.flatMap((m) => [...(m.http ?? [])]);
  const slo = startSloMonitor(modules, { bus, registry: metrics, logger });
  const server = createRpcServer({
    name: "lotty",
    routes,
    files: modules.flatMap((m) => [...m.files]),
    http: auth ? auth.guardHttp(http) : http,
    interceptors: auth ? [auth.interceptor] : [],
    metrics,
    logger,
    admission: opts.admission,
    observers: slo ? [slo.interceptor] : [],
    limits: opts.limits,
  });
  // Modules start before the port opens, so no call is answered by a module still starting.
  for (const m of modules) await m.start();
  const bound = await server.listen(opts.port, opts.host);

  let closing: Promise<void> | undefined;
  return {
    port: bound.port,
    modules,
    auth: settings ? embeddedAuth(settings) : undefined,
    close() {
      closing ??= (async () => {
        await server.close({ graceMs: 5_000 });
        await slo?.close();
        for (const m of [...modules].reverse()) await m.close();
        await bus.close();
        await cache.close();
        await db.close();
      })();
      return closing;
    },
  };
}

/** Fresh secrets for this process (tests); main.ts passes the data directory's own. */
function embeddedSecrets(dataDir: string | undefined): AuthSettings {
  const { secrets } = loadOrCreateLocalSecrets(dataDir);
  return {
    jwt: { issuer: DEFAULT_ISSUER, audience: DEFAULT_AUDIENCE, key: { kind: "secret", secret: secrets.jwtSecret }, algorithms: ["HS256"] },
    serviceSecret: secrets.serviceSecret,
  };
}

function embeddedAuth(settings: AuthSettings): EmbeddedAuth {
  return {
    settings,
    mintToken({ sub, roles, ttlSeconds = 3600 }) {
      const key = settings.jwt.key;
      if (key.kind !== "secret") return Promise.reject(new Error("tokens are minted by your identity provider (no local JWT secret)"));
      return mintUserToken({ secret: key.secret, sub, roles, ttlSeconds, issuer: settings.jwt.issuer, audience: settings.jwt.audience });
    },
  };
}
