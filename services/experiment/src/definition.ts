import type { ServiceDefinition } from "@lotty/platform/service";
import { createExperimentService } from "./server.js";

export const experimentDefinition: ServiceDefinition = {
  name: "experiment",
  defaultPort: 8081,
  create: ({ db, bus, logger }) => createExperimentService({ db, bus, logger }),
};
