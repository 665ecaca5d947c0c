import { ExperimentService } from "@lotty/proto/experiment";
import type { ServiceDefinition } from "@lotty/platform/service";
import { createMetricsService } from "./server.js";

export const metricsDefinition: ServiceDefinition = {
  name: "metrics",
  defaultPort: 8083,
  create: ({ db, bus, logger, peers }) => createMetricsService({ db, bus, logger, experiment: peers.client(ExperimentService) }),
};
