import type { ServiceDefinition } from "@lotty/platform/service";
import { createGuardrailService } from "./server.js";

export const guardrailDefinition: ServiceDefinition = {
  name: "guardrail",
  defaultPort: 8084,
  create: ({ logger }) => createGuardrailService({ logger }),
};
