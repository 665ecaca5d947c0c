import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import { createMemoryBus, type Bus } from "@lotty/platform/bus";
import { openPglite, type Db } from "@lotty/platform/db";
import { createLogger } from "@lotty/platform/log";
import type { ServiceModule } from "@lotty/platform/service";
import { validatedRouter } from "@lotty/platform/rpc";
import { ExperimentSchema, ExperimentService, VariantSchema } from "@lotty/proto/experiment";
import { EventFieldType, EventSchema, MetricsService, type Event, type EventTypeSchema } from "@lotty/proto/metrics";
import { Writable } from "node:stream";
import { afterAll, beforeAll } from "vitest";
import { createMetricsService } from "../src/server.js";

export const NOW = new Date("2026-11-23T12:00:00Z");
export const HOUR = 3_600_000;

export interface Arm {
  name: string;
  weight: number;
  control?: boolean;
}

/** In-memory experiment service: GetExperiment only, from a map the test fills. */
export function fakeExperiments() {
  const experiments = new Map<string, Arm[]>();
  const impl = {
    async getExperiment(req: { id: string }) {
      const arms = experiments.get(req.id);
      if (!arms) throw new ConnectError(`experiment ${req.id} not found`, Code.NotFound);
      return {
        experiment: create(ExperimentSchema, {
          id: req.id,
          variants: arms.map((a) => create(VariantSchema, { name: a.name, weight: a.weight, control: a.control ?? false })),
        }),
      };
    },
  };
  return { experiments, impl };
}

const silent = createLogger("metrics-test", { level: "silent", destination: new Writable({ write: (_c, _e, cb) => cb() }) });

/** A started metrics module behind a router transport, with its client. */
export async function startModule(db: Db, bus: Bus, experiments: ReturnType<typeof fakeExperiments>) {
  let module!: ServiceModule;
  const experimentTransport = createRouterTransport((r) => r.service(ExperimentService, experiments.impl));
  module = await createMetricsService({ db, bus, logger: silent, experiment: createClient(ExperimentService, experimentTransport), clock: () => NOW });
  const transport = createRouterTransport((r) => {
    module.register(r);
    r.service(ExperimentService, experiments.impl);
  }, validatedRouter());
  await module.start();
  const client: Client<typeof MetricsService> = createClient(MetricsService, transport);
  return { module, client };
}

/** An event type with a required numeric value (what value metrics read). */
export const valued = (key: string): EventTypeInit => ({ key, requiresExposure: false, fields: [{ name: "value", type: EventFieldType.NUMBER, required: true }] });
type EventTypeInit = MessageInitShape<typeof EventTypeSchema>;

/**
 * A test file's module: a fresh in-memory PGlite, a memory bus, fake experiments and the given
 * event types, started before the file's tests and closed after them. Its fields are set once
 * the tests run.
 */
export function fixture(eventTypes: readonly EventTypeInit[]) {
  const f = {} as Awaited<ReturnType<typeof openFixture>>;
  beforeAll(async () => Object.assign(f, await openFixture(eventTypes)), 30_000);
  afterAll(() => f.close());
  return f;
}

async function openFixture(eventTypes: readonly EventTypeInit[]) {
  const db = await openPglite();
  const bus = createMemoryBus();
  const exps = fakeExperiments();
  const h = await startModule(db, bus, exps);
  for (const eventType of eventTypes) await h.client.createEventType({ eventType });
  const close = async () => {
    await h.module.close();
    await bus.close();
    await db.close();
  };
  return { db, bus, exps, h, close };
}

/** Event fields a test sets. */
export type EventInit = Omit<Partial<Event>, "$typeName" | "$unknown">;

let seq = 0;
/** An event at NOW − hoursAgo. */
export function ev(over: EventInit & { hoursAgo?: number }): Event {
  const { hoursAgo = 1, ...rest } = over;
  return create(EventSchema, { eventId: `ev-${++seq}`, timestamp: timestampFromDate(new Date(NOW.getTime() - hoursAgo * HOUR)), ...rest });
}

export function exposure(experimentId: string, subjectId: string, variant: string, over: EventInit & { hoursAgo?: number } = {}): Event {
  return ev({ type: "exposure", experimentId, subjectId, variant, hoursAgo: 10, ...over });
}
