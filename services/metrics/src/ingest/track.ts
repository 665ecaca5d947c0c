import { create } from "@bufbuild/protobuf";
import type { Db } from "@lotty/platform/db";
import { RejectionSchema, TrackEventsResponseSchema, type Event, type TrackEventsResponse } from "@lotty/proto/metrics";
import { validateEvent, type ValidEvent } from "../domain/event-validation.js";
import { eventTypeRules } from "../store/catalog-store.js";
import { ingestEvents } from "../store/ingest-store.js";

/**
 * The one ingestion path (TrackEvents, lotty.metrics.events and exposures alike): validates each
 * item against the catalog, stores the valid ones idempotently, and reports per-item rejections.
 * The caller bounds the batch size.
 */
export async function trackEvents(db: Db, events: readonly Event[], now: Date): Promise<TrackEventsResponse> {
  const rules = await eventTypeRules(db, events.map((e) => e.type));
  const out = create(TrackEventsResponseSchema);
  const valid: ValidEvent[] = [];
  events.forEach((event, index) => {
    const r = validateEvent(event, rules, now);
    if (r.ok) valid.push(r.event);
    else out.rejections.push(create(RejectionSchema, { index, eventId: event.eventId, ...r.rejection }));
  });
  const { accepted, duplicates } = await ingestEvents(db, valid);
  out.accepted = accepted;
  out.duplicates = duplicates;
  out.rejected = out.rejections.length;
  return out;
}
