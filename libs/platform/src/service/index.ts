import type { DescFile, DescService } from "@bufbuild/protobuf";
import type { Client, ConnectRouter } from "@connectrpc/connect";
import type { Registry } from "prom-client";
import type { SdkKeyVerifier } from "../auth/sdk-keys.js";
import type { Bus } from "../bus/types.js";
import type { Cache } from "../cache/types.js";
import type { Db } from "../db/types.js";
import type { Logger } from "../log/index.js";
import type { HttpRoute } from "../rpc/http-routes.js";

export type { HttpRoute };

/**
 * One bounded context, ready to be hosted: alone in its own process (services/<name>/src/main.ts)
 * or beside the others in the embedded default (apps/embedded). Hosting never reaches into a
 * service's internals; it only registers routes and drives the lifecycle.
 */
export interface ServiceModule {
  /** Short name: "experiment", "decision", ... */
  readonly name: string;
  /** The Connect services this module serves (health reports each by typeName). */
  readonly services: readonly DescService[];
  /** Proto files served, for gRPC reflection. */
  readonly files: readonly DescFile[];
  register(router: ConnectRouter): void;
  readonly http?: readonly HttpRoute[];
  /** The SDK keys this service accepts (decision, metrics); the host's auth interceptor asks it. */
  readonly sdkKeys?: SdkKeyVerifier;
  /** Starts consumers and timers; called once routes are reachable. */
  start(): Promise<void>;
  /** Stops consumers and timers. Does not close shared db/bus/cache (the host owns them). */
  close(): Promise<void>;
}

/** What a host hands a service: its store, the shared bus and cache, and its peers. */
export interface HostDeps {
  db: Db;
  bus: Bus;
  cache: Cache;
  logger: Logger;
  metrics: Registry;
  peers: Peers;
}

/** Clients for other services, reached over gRPC (standalone) or in memory (embedded). */
export interface Peers {
  client<T extends DescService>(service: T): Client<T>;
}

/** How to build one service from host dependencies; services export one from definition.ts. */
export interface ServiceDefinition {
  readonly name: string;
  /** Default port when the service runs alone (LOTTY_PORT overrides). */
  readonly defaultPort: number;
  create(deps: HostDeps): Promise<ServiceModule>;
}
