import { fromBinary } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import type { Bus, Subscription } from "@lotty/platform/bus";
import type { Cache } from "@lotty/platform/cache";
import { loadMigrations, migrate, type Db } from "@lotty/platform/db";
import { Subjects } from "@lotty/platform/events";
import type { Logger } from "@lotty/platform/log";
import { createGuard } from "@lotty/platform/resilience";
import type { ServiceModule } from "@lotty/platform/service";
import { DecisionService, file_lotty_decision_v1_decision } from "@lotty/proto/decision";
import { ExperimentStatusChangedSchema } from "@lotty/proto/events";
import type { ExperimentService } from "@lotty/proto/experiment";
import { Registry } from "prom-client";
import { resolveConfig, type DecisionConfig } from "./config.js";
import { Decider } from "./decider.js";
import { ExposurePublisher, type ExposureStats } from "./exposures/publisher.js";
import { ofrepRoutes } from "./handlers/ofrep.js";
import { registerRpc } from "./handlers/rpc.js";
import { RulesetHolder } from "./ruleset/holder.js";
import { AssignmentStore, ExperimentEndStore } from "./store/assignments.js";
import { ExperimentEnds } from "./store/experiment-ends.js";
import { AssignmentHistory, KnownAssignments } from "./store/history.js";

export type { DecisionConfig } from "./config.js";

export interface DecisionServiceDeps {
  db: Db;
  bus: Bus;
  cache: Cache;
  experiment: Client<typeof ExperimentService>;
  logger: Logger;
  config?: Partial<DecisionConfig>;
  /** Where the service's metrics go (a private registry when absent). */
  metrics?: Registry;
}

export interface DecisionServiceModule extends ServiceModule {
  /** Exposure publishing counters (published, still buffered, dropped). */
  exposureStats(): ExposureStats;
  /** Forces a ruleset refresh (what an event does); resolves once it is done. */
  refreshRuleset(): Promise<void>;
}

const RULESET_SUBJECTS = [Subjects.experimentChanged, Subjects.flagChanged, Subjects.experimentStatusChanged];

export async function createDecisionService(deps: DecisionServiceDeps): Promise<DecisionServiceModule> {
  const config = resolveConfig(deps.config);
  const logger = deps.logger;
  const registry = deps.metrics ?? new Registry();
  await migrate(deps.db, "decision", loadMigrations(new URL("./store/migrations/", import.meta.url)));

  const guards = {
    cache: createGuard("redis", { timeoutMs: config.timeouts.cacheMs, halfOpenAfterMs: config.circuitHalfOpenMs }),
    db: createGuard("postgres", { timeoutMs: config.timeouts.dbMs, halfOpenAfterMs: config.circuitHalfOpenMs }),
    experiment: createGuard("experiment-service", { timeoutMs: config.timeouts.experimentMs, failureThreshold: 3, halfOpenAfterMs: config.circuitHalfOpenMs }),
    bus: createGuard("nats", { timeoutMs: config.timeouts.busMs, halfOpenAfterMs: config.circuitHalfOpenMs }),
  };
  const store = new AssignmentStore(deps.db);
  const ends = new ExperimentEnds(new ExperimentEndStore(deps.db), guards.db, logger);
  const holder = new RulesetHolder({ experiment: deps.experiment, cache: deps.cache, guards, logger });
  const exposures =
    config.exposures === "off"
      ? undefined
      : new ExposurePublisher(deps.bus, guards.bus, logger, registry, {
          capacity: config.exposureBufferSize,
          batchSize: 500,
          // ~30k decisions/s need either; both keep a batch far below NATS's 1 MiB max_payload.
          maxBatchSize: 4_000,
          maxInFlight: 4,
          retryMs: config.exposureRetryMs,
        });
  const decider = new Decider({
    holder,
    history: new AssignmentHistory(deps.cache, store, guards, config.assignmentCacheTtlMs),
    store,
    dbGuard: guards.db,
    ends,
    known: new KnownAssignments(config.knownSubjects),
    exposures,
    writeMode: config.assignmentWrite,
    logger,
    registry,
  });

  const subscriptions: Subscription[] = [];
  let resyncTimer: NodeJS.Timeout | undefined;
  const refresh = (why: string, run: () => Promise<void> = () => holder.refresh()): void => {
    run().catch((err: unknown) => logger.warn({ err, why }, "ruleset refresh failed; serving the last good one"));
  };

  return {
    name: "decision",
    services: [DecisionService],
    files: [file_lotty_decision_v1_decision],
    register: (router) => registerRpc(router, { decider, holder, store, dbGuard: guards.db, ends }),
    http: ofrepRoutes(decider, holder),
    exposureStats: () => exposures?.stats() ?? { published: 0, buffered: 0, dropped: 0 },
    refreshRuleset: () => holder.refresh(),
    async start() {
      await Promise.all([holder.load(), ends.reload()]);
      // Ephemeral: every replica sees every change and refreshes its own copy.
      subscriptions.push(
        await deps.bus.subscribe({
          subjects: RULESET_SUBJECTS,
          handler: async (msg) => {
            // Status changes also carry end times; the holder decides how to apply each change.
            if (msg.subject === Subjects.experimentStatusChanged) {
              try {
                ends.apply(fromBinary(ExperimentStatusChangedSchema, msg.data));
              } catch (err) {
                logger.warn({ err }, "undecodable experiment status change");
              }
            }
            refresh(msg.subject, () => holder.onChange(msg.subject, msg.data));
          },
        }),
        await ends.subscribeDurable(deps.bus),
      );
      resyncTimer = setInterval(() => {
        refresh("resync");
        void ends.reload();
      }, config.resyncIntervalMs);
      resyncTimer.unref();
    },
    async close() {
      clearInterval(resyncTimer);
      await Promise.all(subscriptions.splice(0).map((s) => s.close()));
      await exposures?.close();
    },
  };
}
