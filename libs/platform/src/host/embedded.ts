import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { createRouterTransport } from "@connectrpc/connect";
// Direct module imports: the embedded default never loads the NATS, Redis or pg clients.
import { createMemoryBus } from "../bus/memory.js";
import { createMemoryCache } from "../cache/memory.js";
import { openPglite } from "../db/pglite.js";
import { createLogger, type Logger } from "../log/index.js";
import { createRpcServer } from "../rpc/index.js";
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
}

const defaultTemplate = new URL("../../../../node_modules/.cache/lotty/pglite-template.tgz", import.meta.url).pathname;

export interface EmbeddedLotty {
  readonly port: number;
  readonly modules: readonly ServiceModule[];
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
  const modules: ServiceModule[] = [];
  for (const def of defs) {
    modules.push(await def.create({ db, bus, cache, logger: createLogger(def.name, { level: logger.level }), metrics, peers }));
  }
  const routes = (router: Parameters<ServiceModule["register"]>[0]) => {
    for (const m of modules) m.register(router);
  };
  peers.bind(createRouterTransport(routes));
  const server = createRpcServer({
    name: "lotty",
    routes,
    files: modules.flatMap((m) => [...m.files]),
    http: modules.flatMap((m) => [...(m.http ?? [])]),
    metrics,
    logger,
  });
  const bound = await server.listen(opts.port, opts.host);
  for (const m of modules) await m.start();

  let closing: Promise<void> | undefined;
  return {
    port: bound.port,
    modules,
    close() {
      closing ??= (async () => {
        await server.close({ graceMs: 5_000 });
        for (const m of [...modules].reverse()) await m.close();
        await bus.close();
        await cache.close();
        await db.close();
      })();
      return closing;
    },
  };
}
