import { ExperimentService } from "@lotty/proto/experiment";
import type { ServiceDefinition } from "@lotty/platform/service";
import { decisionConfigFromEnv } from "./env.js";
import { createDecisionService } from "./server.js";

export const decisionDefinition: ServiceDefinition = {
  name: "decision",
  defaultPort: 8082,
  create: ({ db, bus, cache, logger, metrics, peers }) =>
    createDecisionService({
      db,
      bus,
      cache,
      logger,
      metrics,
      experiment: peers.client(ExperimentService),
      config: decisionConfigFromEnv(process.env),
    }),
};
