import type { ServiceDefinition } from "@lotty/platform/service";
import { createNotificationService } from "./server.js";

export const notificationDefinition: ServiceDefinition = {
  name: "notification",
  defaultPort: 8085,
  // LOTTY_NOTIFICATION_KEY seals channel secrets; unset, a key is generated and kept in the
  // notification database (acceptable for the embedded default, not for production).
  create: ({ db, bus, logger }) =>
    createNotificationService({ db, bus, logger, secretKey: process.env.LOTTY_NOTIFICATION_KEY || undefined }),
};
