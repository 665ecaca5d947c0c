import type { Client } from "@connectrpc/connect";
import type { Bus, Subscription } from "@lotty/platform/bus";
import { loadMigrations, migrate, type Db } from "@lotty/platform/db";
import type { Logger } from "@lotty/platform/log";
import type { ServiceModule } from "@lotty/platform/service";
import type { ExperimentService } from "@lotty/proto/experiment";
import { MetricsService, file_lotty_metrics_v1_metrics } from "@lotty/proto/metrics";
import { metricsHandlers } from "./handlers/metrics-handlers.js";
import { startConsumers } from "./ingest/consumers.js";
import { createReporting } from "./reporting.js";
import { purgePending } from "./store/event-log.js";

/** Events that need an exposure wait this long for it, then are dropped uncounted. */
export const PENDING_HORIZON_MS = 7 * 86_400_000;
const PURGE_EVERY_MS = 3_600_000;

export interface MetricsServiceDeps {
  db: Db;
  bus: Bus;
  experiment: Client<typeof ExperimentService>;
  logger: Logger;
  clock?: () => Date;
  /** Concurrent transactions storing lotty.metrics.events batches, default DEFAULT_EVENT_CONSUMERS. */
  eventConsumers?: number;
}

/** The metrics (report) service: event catalog, ingestion with attribution, metric definitions, reports. */
export async function createMetricsService(deps: MetricsServiceDeps): Promise<ServiceModule> {
  const clock = deps.clock ?? (() => new Date());
  await migrate(deps.db, "metrics", loadMigrations(new URL("./store/migrations/", import.meta.url)));
  const reporting = createReporting({ db: deps.db, experiment: deps.experiment, clock });
  let subscriptions: Subscription[] = [];
  let purgeTimer: NodeJS.Timeout | undefined;

  const purge = async () => {
    try {
      const n = await purgePending(deps.db, new Date(clock().getTime() - PENDING_HORIZON_MS));
      if (n > 0) deps.logger.info({ dropped: n }, "pending events expired without exposure");
    } catch (err) {
      deps.logger.warn({ err }, "pending purge failed; retrying next hour");
    }
  };

  return {
    name: "metrics",
    services: [MetricsService],
    files: [file_lotty_metrics_v1_metrics],
    register: (router) => {
      router.service(MetricsService, metricsHandlers({ db: deps.db, reporting, clock }));
    },
    async start() {
      subscriptions = await startConsumers({ db: deps.db, bus: deps.bus, logger: deps.logger, clock, eventConsumers: deps.eventConsumers });
      await purge();
      purgeTimer = setInterval(() => void purge(), PURGE_EVERY_MS);
      purgeTimer.unref();
    },
    async close() {
      clearInterval(purgeTimer);
      await Promise.all(subscriptions.map((s) => s.close()));
      subscriptions = [];
    },
  };
}
