import { create } from "@bufbuild/protobuf";
import type { Bus, Subscription } from "@lotty/platform/bus";
import type { Db } from "@lotty/platform/db";
import { Subjects, subscribeEvents } from "@lotty/platform/events";
import type { Logger } from "@lotty/platform/log";
import { ExposureSchema, TrackedEventsSchema, type Exposure } from "@lotty/proto/events";
import { EventSchema, type Event } from "@lotty/proto/metrics";
import { EXPOSURE_TYPE, MAX_BATCH } from "../domain/event-validation.js";
import { subscribeExposureBatches } from "./exposure-batches.js";
import { trackEvents } from "./track.js";

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

/**
 * Durable consumers of exposures and of high-volume event batches. Both go through trackEvents, so
 * validation and idempotency are the ones TrackEvents has; a redelivered message is a duplicate.
 * A store failure throws, so the message is redelivered (at-least-once); invalid items are logged
 * and dropped (redelivering them cannot help).
 */
/** Concurrent consumers of event batches per process (each pulls and stores its own batches). */
export const DEFAULT_EVENT_CONSUMERS = 3;

export async function startConsumers(deps: { db: Db; bus: Bus; logger: Logger; clock: () => Date; eventConsumers?: number }): Promise<Subscription[]> {
  const ingest = async (events: Event[], source: string) => {
    for (let i = 0; i < events.length; i += MAX_BATCH) {
      const res = await trackEvents(deps.db, events.slice(i, i + MAX_BATCH), deps.clock());
      if (res.rejected > 0) deps.logger.warn({ source, rejections: res.rejections.slice(0, 10).map((r) => ({ ...r, $typeName: undefined })) }, "events rejected");
    }
  };
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
    // Several subscriptions to one durable split its messages like replicas do: while one batch
    // waits on Postgres, another is decoded and validated (measured in bench/metrics).
    ...Array.from({ length: deps.eventConsumers ?? DEFAULT_EVENT_CONSUMERS }, () =>
      subscribeEvents(deps.bus, {
        subjects: [Subjects.trackedEvents],
        schema: TrackedEventsSchema,
        durable: EVENTS_DURABLE,
        onUndecodable,
        handler: (batch) => ingest(batch.events, Subjects.trackedEvents),
      }),
    ),
  ]);
}
