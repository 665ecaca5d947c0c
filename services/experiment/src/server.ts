import type { ConnectRouter } from "@connectrpc/connect";
import type { Bus } from "@lotty/platform/bus";
import { loadMigrations, migrate, type Db } from "@lotty/platform/db";
import type { Logger } from "@lotty/platform/log";
import type { ServiceModule } from "@lotty/platform/service";
import { ExperimentService, file_lotty_experiment_v1_experiment_service } from "@lotty/proto/experiment";
import { experimentServiceImpl } from "./handlers/index.js";

export interface ExperimentServiceDeps {
  db: Db;
  bus: Bus;
  logger: Logger;
  /** Injectable for tests; defaults to the wall clock. */
  clock?: () => Date;
}

/** Builds the experiment service: migrates its schema, then serves ExperimentService. */
export async function createExperimentService(deps: ExperimentServiceDeps): Promise<ServiceModule> {
  await migrate(deps.db, "experiment", loadMigrations(new URL("./store/migrations/", import.meta.url)));
  const impl = experimentServiceImpl({ ...deps, clock: deps.clock ?? (() => new Date()) });
  return {
    name: "experiment",
    services: [ExperimentService],
    files: [file_lotty_experiment_v1_experiment_service],
    register(router: ConnectRouter) {
      router.service(ExperimentService, impl);
    },
    // No consumers or timers: the service is request-driven.
    async start() {},
    async close() {},
  };
}
