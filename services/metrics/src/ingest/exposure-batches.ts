import type { Bus, Subscription } from "@lotty/platform/bus";
import { Subjects, subscribeEvents } from "@lotty/platform/events";
import { ExposureBatchSchema, type Exposure } from "@lotty/proto/events";
import type { Event } from "@lotty/proto/metrics";
import { exposureEvent } from "./consumers.js";

export const EXPOSURE_BATCHES_DURABLE = "metrics-exposure-batches";

/** Experiment exposures of a batch as events; decisions outside any experiment are left out. */
export function exposureBatchEvents(exposures: readonly Exposure[]): Event[] {
  const events: Event[] = [];
  for (const x of exposures) {
    const e = exposureEvent(x);
    if (e) events.push(e);
  }
  return events;
}

/**
 * Durable consumer of ExposureBatch messages. Each exposure goes through the same ingestion as a
 * single exposure (idempotent per event id), so a redelivered batch only adds duplicates.
 */
export function subscribeExposureBatches(
  bus: Bus,
  opts: {
    ingest: (events: Event[], source: string) => Promise<void>;
    onUndecodable: (subject: string, err: unknown) => void;
  },
): Promise<Subscription> {
  return subscribeEvents(bus, {
    subjects: [Subjects.exposureBatches],
    schema: ExposureBatchSchema,
    durable: EXPOSURE_BATCHES_DURABLE,
    onUndecodable: opts.onUndecodable,
    handler: async (batch) => {
      const events = exposureBatchEvents(batch.exposures);
      if (events.length > 0) await opts.ingest(events, Subjects.exposureBatches);
    },
  });
}
