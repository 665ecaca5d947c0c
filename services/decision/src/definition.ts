import { ExperimentService } from "@lotty/proto/experiment";
import type { ServiceDefinition } from "@lotty/platform/service";
import { createDecisionService } from "./server.js";

export const decisionDefinition: ServiceDefinition = {
  name: "decision",
  defaultPort: 8082,
  create: ({ db, bus, cache, logger, peers }) =>
    createDecisionService({ db, bus, cache, logger, experiment: peers.client(ExperimentService) }),
};
