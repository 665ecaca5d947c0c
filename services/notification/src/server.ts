import type { Bus, Subscription } from "@lotty/platform/bus";
import { loadMigrations, migrate, type Db } from "@lotty/platform/db";
import type { Logger } from "@lotty/platform/log";
import type { ServiceModule } from "@lotty/platform/service";
import { NotificationService, file_lotty_notification_v1_notification } from "@lotty/proto/notification";
import { DEFAULT_DELIVERY_OPTIONS, type DeliveryOptions } from "./delivery/options.js";
import { createSend } from "./delivery/send.js";
import { createWorker } from "./delivery/worker.js";
import { channelHandlers } from "./handlers/channels.js";
import { deliveryHandlers } from "./handlers/deliveries.js";
import { ruleHandlers } from "./handlers/rules.js";
import { consumeEvents } from "./intake/consumer.js";
import { createIntake } from "./intake/intake.js";
import { resolveSecretKey } from "./secrets/key.js";
import { createSecretBox } from "./secrets/secret-box.js";

export type { DeliveryOptions } from "./delivery/options.js";

export interface NotificationDeps {
  db: Db;
  bus: Bus;
  logger: Logger;
  clock?: () => Date;
  /**
   * Seals stored channel secrets (AES-256-GCM). Production: LOTTY_NOTIFICATION_KEY. When absent a
   * key is generated once and kept in the notification schema (fine for the embedded default).
   */
  secretKey?: string;
  fetch?: typeof fetch;
  /** Outbox tuning; tests shorten intervals. */
  delivery?: Partial<DeliveryOptions>;
}

/**
 * Channels, rules and reliable delivery: events from a durable bus consumer become outbox rows in
 * the same transaction as their processed mark; a worker sends them with retries and dead letters.
 */
export async function createNotificationService(deps: NotificationDeps): Promise<ServiceModule> {
  const clock = deps.clock ?? (() => new Date());
  const options: DeliveryOptions = { ...DEFAULT_DELIVERY_OPTIONS, ...deps.delivery };
  await migrate(deps.db, "notification", loadMigrations(new URL("./store/migrations/", import.meta.url)));
  const box = createSecretBox(await resolveSecretKey(deps.db, deps.logger, deps.secretKey));
  const send = createSend({ box, fetch: deps.fetch ?? fetch, clock, timeoutMs: options.sendTimeoutMs });
  const worker = createWorker({ db: deps.db, logger: deps.logger, clock, send, options });
  const onQueued = (due: Date) => worker.wake(due);
  const intake = createIntake({ db: deps.db, logger: deps.logger, clock, onQueued });
  let subscription: Subscription | undefined;

  return {
    name: "notification",
    services: [NotificationService],
    files: [file_lotty_notification_v1_notification],
    register(router) {
      router.service(NotificationService, {
        ...channelHandlers({ db: deps.db, box, clock, send }),
        ...ruleHandlers({ db: deps.db, clock }),
        ...deliveryHandlers({ db: deps.db, clock, onQueued }),
      });
    },
    async start() {
      subscription = await consumeEvents({ bus: deps.bus, logger: deps.logger, retryDelayMs: options.eventRetryDelayMs, intake });
      worker.start();
    },
    async close() {
      await subscription?.close();
      await worker.close();
    },
  };
}
