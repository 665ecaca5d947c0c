import type { ServiceDefinition } from "@lotty/platform/service";
import { ExperimentService } from "@lotty/proto/experiment";
import { MetricsService } from "@lotty/proto/metrics";
import { createGuardrailService } from "./server.js";

export const guardrailDefinition: ServiceDefinition = {
  name: "guardrail",
  defaultPort: 8084,
  create: ({ db, bus, logger, peers }) =>
    createGuardrailService({ db, bus, logger, experiment: peers.client(ExperimentService), metrics: peers.client(MetricsService) }),
};
