import { create } from "@bufbuild/protobuf";
import type { Bus, Subscription } from "@lotty/platform/bus";
import type { Db } from "@lotty/platform/db";
import { Subjects, subscribeEvents } from "@lotty/platform/events";
import type { Logger } from "@lotty/platform/log";
import { ExposureSchema, TrackedEventsSchema, type Exposure } from "@lotty/proto/events";
import { EventSchema, type Event } from "@lotty/proto/metrics";
import { EXPOSURE_TYPE, MAX_BATCH } from "../domain/event-validation.js";
import { subscribeExposureBatches } from "./exposure-batches.js";
import { groupingStore } from "./grouping.js";
import { trackEvents } from "./track.js";
import { decodeTrackedEvents } from "./tracked-events-decoding.js";

export const EXPOSURES_DURABLE = "metrics-exposures";
export const EVENTS_DURABLE = "metrics-events";

/** A published decision as an exposure event; undefined for decisions outside any experiment. */
export function exposureEvent(x: Exposure): Event | undefined {
  if (x.experimentId === "") return undefined;
  return create(EventSchema, {
    eventId: x.eventId,
    type: EXPOSURE_TYPE,
    decisionId: x.decisionId,
    subjectId: x.subjectId,
    timestamp: x.occurTime,
    experimentId: x.experimentId,
    variant: x.variant,
  });
}

/** Concurrent transactions storing lotty.metrics.events batches, per process. */
export const DEFAULT_EVENT_CONSUMERS = 3;
/**
 * Messages (of up to MAX_BATCH events) one transaction takes together when they queue up: a
 * transaction per message spent about a fifth more CPU per event (bench/metrics/ingest-profile.ts).
 */
const MESSAGES_PER_TRANSACTION = 5;

/**
 * Durable consumers of exposures and of high-volume event batches. All go through trackEvents, so
 * validation and idempotency are the ones TrackEvents has; a redelivered message is a duplicate.
 * A store failure throws, so the message is redelivered (at-least-once); invalid items are logged
 * and dropped (redelivering them cannot help).
 */
export async function startConsumers(deps: { db: Db; bus: Bus; logger: Logger; clock: () => Date; eventConsumers?: number }): Promise<Subscription[]> {
  const store = async (events: Event[], source: string) => {
    const res = await trackEvents(deps.db, events, deps.clock());
    if (res.rejected > 0) deps.logger.warn({ source, rejections: res.rejections.slice(0, 10).map((r) => ({ ...r, $typeName: undefined })) }, "events rejected");
  };
  const ingest = async (events: Event[], source: string) => {
    for (let i = 0; i < events.length; i += MAX_BATCH) await store(events.slice(i, i + MAX_BATCH), source);
  };
  const transactions = deps.eventConsumers ?? DEFAULT_EVENT_CONSUMERS;
  const grouped = groupingStore((events: Event[]) => store(events, Subjects.trackedEvents), { slots: transactions, maxItems: MESSAGES_PER_TRANSACTION * MAX_BATCH });
  const onUndecodable = (subject: string, err: unknown) => deps.logger.warn({ subject, err }, "undecodable message dropped");
  return Promise.all([
    subscribeEvents(deps.bus, {
      subjects: [Subjects.exposure],
      schema: ExposureSchema,
      durable: EXPOSURES_DURABLE,
      onUndecodable,
      handler: async (x) => {
        const e = exposureEvent(x);
        if (e) await ingest([e], Subjects.exposure);
      },
    }),
    subscribeExposureBatches(deps.bus, { ingest, onUndecodable }),
    // Subscriptions to one durable split its messages like replicas do. Each holds one message in
    // its handler until stored: enough of them fill every running transaction and have the next
    // one's messages waiting when a transaction ends (with fewer, a freed slot would start on the
    // first message to arrive, alone).
    ...Array.from({ length: (transactions + 1) * MESSAGES_PER_TRANSACTION }, () =>
      subscribeEvents(deps.bus, {
        subjects: [Subjects.trackedEvents],
        schema: TrackedEventsSchema,
        decode: decodeTrackedEvents,
        durable: EVENTS_DURABLE,
        onUndecodable,
        handler: async (batch) => {
          for (let i = 0; i < batch.events.length; i += MAX_BATCH) await grouped(batch.events.slice(i, i + MAX_BATCH));
        },
      }),
    ),
  ]);
}
