import { create, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import { createMemoryBus, type Bus } from "@lotty/platform/bus";
import { openPglite, type Db } from "@lotty/platform/db";
import { publishEvent, Subjects, type Subject } from "@lotty/platform/events";
import { createLogger } from "@lotty/platform/log";
import type { ServiceModule } from "@lotty/platform/service";
import { validatedRouter } from "@lotty/platform/rpc";
import { GuardrailTriggeredSchema } from "@lotty/proto/events";
import { NotificationService } from "@lotty/proto/notification";
import { createNotificationService, type DeliveryOptions } from "../../src/server.js";

export const FAST: Partial<DeliveryOptions> = {
  pollIntervalMs: 50,
  baseBackoffMs: 20,
  maxBackoffMs: 80,
  sendTimeoutMs: 2000,
  eventRetryDelayMs: 20,
};

export interface Harness {
  db: Db;
  bus: Bus;
  module: ServiceModule;
  client: Client<typeof NotificationService>;
  /** Every log line the service wrote. */
  logs: string[];
  /** Re-creates the module on the same db and bus (a service restart). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function openHarness(delivery: Partial<DeliveryOptions> = {}): Promise<Harness> {
  const db = await openPglite();
  const bus = createMemoryBus();
  const logs: string[] = [];
  const logger = createLogger("notification-test", { level: "debug", destination: { write: (line: string) => void logs.push(line) } });
  const build = async () => {
    const module = await createNotificationService({ db, bus, logger, secretKey: "test-key-0123456789abcdef", delivery: { ...FAST, ...delivery } });
    await module.start();
    return module;
  };
  const module = await build();
  const h: Harness = {
    db,
    bus,
    logs,
    module,
    client: clientFor(module),
    async restart() {
      await h.module.close();
      h.module = await build();
      h.client = clientFor(h.module);
    },
    async close() {
      await h.module.close();
      await bus.close();
      await db.close();
    },
  };
  return h;
}

function clientFor(module: ServiceModule): Client<typeof NotificationService> {
  return createClient(NotificationService, createRouterTransport((r) => module.register(r), validatedRouter()));
}

export async function publish<D extends DescMessage>(bus: Bus, subject: Subject, schema: D, init: MessageInitShape<D>): Promise<void> {
  await publishEvent(bus, subject, schema, create(schema, init));
}

let seq = 0;
export function guardrailEvent(over: MessageInitShape<typeof GuardrailTriggeredSchema> = {}): MessageInitShape<typeof GuardrailTriggeredSchema> {
  seq += 1;
  return {
    eventId: `evt-${seq}-${Math.random().toString(36).slice(2)}`,
    occurTime: timestampFromDate(new Date("2026-11-23T10:00:00Z")),
    triggerId: `trig-${seq}`,
    guardrailId: "gr-1",
    experimentId: "exp-1",
    experimentName: "Checkout button",
    flagKey: "checkout",
    owner: "ana",
    metricKey: "error_rate",
    variant: "b",
    threshold: 0.05,
    observedValue: 0.12,
    windowSeconds: 300n,
    action: "rollback",
    applied: true,
    sweepId: `sweep-${seq}`,
    ruleKind: "threshold",
    ...over,
  };
}

export function publishGuardrail(bus: Bus, over: MessageInitShape<typeof GuardrailTriggeredSchema> = {}) {
  const init = guardrailEvent(over);
  return publish(bus, Subjects.guardrailTriggered, GuardrailTriggeredSchema, init).then(() => init);
}
