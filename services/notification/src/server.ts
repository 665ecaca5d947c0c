import type { Logger } from "@lotty/platform/log";
import type { ServiceModule } from "@lotty/platform/service";
import { NotificationService, file_lotty_notification_v1_notification } from "@lotty/proto/notification";

/**
 * The notification service's contract is served, but its RPCs are not built yet: every call answers
 * UNIMPLEMENTED (tracked as an open issue). It exists so both run modes host all five services.
 */
export async function createNotificationService(deps: { logger: Logger }): Promise<ServiceModule> {
  return {
    name: "notification",
    services: [NotificationService],
    files: [file_lotty_notification_v1_notification],
    register: (router) => {
      router.service(NotificationService, {});
    },
    start: async () => deps.logger.debug("notification service started"),
    close: async () => {},
  };
}
