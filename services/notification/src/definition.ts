import type { ServiceDefinition } from "@lotty/platform/service";
import { createNotificationService } from "./server.js";

export const notificationDefinition: ServiceDefinition = {
  name: "notification",
  defaultPort: 8085,
  create: ({ logger }) => createNotificationService({ logger }),
};
