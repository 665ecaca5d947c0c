import type { Client } from "@connectrpc/connect";
import type { Bus } from "@lotty/platform/bus";
import type { Db } from "@lotty/platform/db";
import type { Logger } from "@lotty/platform/log";
import type { ExperimentService } from "@lotty/proto/experiment";
import type { MetricsService } from "@lotty/proto/metrics";

/** What the handlers share: the store, the bus, the peers and the clock. */
export interface Ctx {
  db: Db;
  bus: Bus;
  logger: Logger;
  experiment: Client<typeof ExperimentService>;
  metrics: Client<typeof MetricsService>;
  clock: () => Date;
}

/** How the service names itself in the experiment service's audit log and in decisions. */
export const SERVICE_ACTOR = "service:guardrail";
