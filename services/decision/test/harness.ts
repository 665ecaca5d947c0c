import { Code, ConnectError, createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import type { Bus } from "@lotty/platform/bus";
import type { Cache } from "@lotty/platform/cache";
import type { Db } from "@lotty/platform/db";
import { validatedRouter } from "@lotty/platform/rpc";
import { DecisionService } from "@lotty/proto/decision";
import { ExperimentService, type Ruleset } from "@lotty/proto/experiment";
import { pino } from "pino";
import { createDecisionService, type DecisionConfig, type DecisionServiceModule } from "../src/server.js";

export const silentLogger = pino({ level: "silent" });

/** A stand-in experiment service: serves `ruleset`, or fails while `down` is set. */
export class FakeExperimentService {
  down = false;
  calls = 0;
  constructor(public ruleset: Ruleset) {}

  client(): Client<typeof ExperimentService> {
    return createClient(
      ExperimentService,
      createRouterTransport(({ service }) => {
        service(ExperimentService, {
          getRuleset: (req) => {
            this.calls++;
            if (this.down) throw new ConnectError("experiment service down", Code.Unavailable);
            if (req.ifNewerThan >= this.ruleset.version) return { notModified: true };
            return { ruleset: this.ruleset };
          },
        });
      }),
    );
  }
}

export interface Harness {
  module: DecisionServiceModule;
  client: Client<typeof DecisionService>;
  close(): Promise<void>;
}

/** Creates and starts the module; the client reaches it through an in-memory router transport. */
export async function startDecision(deps: {
  db: Db;
  bus: Bus;
  cache: Cache;
  experiment: FakeExperimentService;
  config?: Partial<DecisionConfig>;
}): Promise<Harness> {
  const module = await createDecisionService({
    db: deps.db,
    bus: deps.bus,
    cache: deps.cache,
    experiment: deps.experiment.client(),
    logger: silentLogger,
    config: { exposureRetryMs: 20, ...deps.config },
  });
  await module.start();
  const client = createClient(DecisionService, createRouterTransport((router) => module.register(router), validatedRouter()));
  return { module, client, close: () => module.close() };
}

/** Flip `down` to make a wrapped dependency fail. */
export interface Outage {
  down: boolean;
}

/** A cache whose calls reject during the outage (Redis down). */
export function breakableCache(inner: Cache, outage: Outage): Cache {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const v: unknown = Reflect.get(target, prop, receiver);
      if (typeof v !== "function" || prop === "close") return v;
      return (...args: unknown[]) => (outage.down ? Promise.reject(new Error("redis down")) : v.apply(target, args));
    },
  });
}

/** A db whose queries reject during the outage (Postgres down). */
export function breakableDb(inner: Db, outage: Outage): Db {
  return {
    kind: inner.kind,
    query: (sql, params) => (outage.down ? Promise.reject(new Error("postgres down")) : inner.query(sql, params)),
    transaction: (fn) => (outage.down ? Promise.reject(new Error("postgres down")) : inner.transaction(fn)),
    ping: () => inner.ping(),
    close: () => inner.close(),
  };
}

/** A bus whose publishes reject during the outage (NATS down). */
export function breakableBus(inner: Bus, outage: Outage): Bus {
  return {
    publish: (subject, data, opts) => (outage.down ? Promise.reject(new Error("nats down")) : inner.publish(subject, data, opts)),
    subscribe: (opts) => inner.subscribe(opts),
    isConnected: () => !outage.down,
    close: () => inner.close(),
  };
}
