import type { JsonValue } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { EventFieldType, RejectionReason, type Event } from "@lotty/proto/metrics";

/** An event type as ingestion needs it. */
export interface EventTypeRule {
  key: string;
  archived: boolean;
  requiresExposure: boolean;
  fields: { name: string; type: EventFieldType; required: boolean }[];
}

export interface RejectionDetail {
  reason: RejectionReason;
  field: string;
  message: string;
}

/** A valid event, normalised for storage. */
export interface ValidEvent {
  eventId: string;
  type: string;
  decisionId: string;
  subjectId: string;
  occurTime: Date;
  value: number | null;
  requiresExposure: boolean;
  experimentId: string;
  variant: string;
}

export const EXPOSURE_TYPE = "exposure";
export const MAX_BATCH = 1000;
/** Clock skew tolerated on event timestamps. */
export const MAX_FUTURE_MS = 5 * 60 * 1000;
const ID = /^[A-Za-z0-9_.:-]{1,128}$/;
/** The field name that refers to Event.value rather than to a property. */
const VALUE_FIELD = "value";

const reject = (reason: RejectionReason, field: string, message: string) => ({ ok: false as const, rejection: { reason, field, message } });

/**
 * Checks one event against the catalog. The first failing rule wins, in the order a producer
 * would fix them: id, type, subject, timestamp, exposure fields, then the type's fields.
 */
export function validateEvent(
  event: Event,
  types: ReadonlyMap<string, EventTypeRule>,
  now: Date,
): { ok: true; event: ValidEvent } | { ok: false; rejection: RejectionDetail } {
  if (!ID.test(event.eventId)) {
    return reject(RejectionReason.MALFORMED_ID, "event_id", "event_id must be 1..128 characters of [A-Za-z0-9_.:-]");
  }
  const type = types.get(event.type);
  if (!type) return reject(RejectionReason.UNKNOWN_TYPE, "type", `unknown event type "${event.type}"`);
  if (type.archived) return reject(RejectionReason.ARCHIVED_TYPE, "type", `event type "${event.type}" is archived`);
  if (event.subjectId === "") return reject(RejectionReason.MISSING_SUBJECT, "subject_id", "subject_id is required");
  if (event.decisionId !== "" && !ID.test(event.decisionId)) {
    return reject(RejectionReason.MALFORMED_ID, "decision_id", "decision_id must be 1..128 characters of [A-Za-z0-9_.:-]");
  }
  if (!event.timestamp) return reject(RejectionReason.MISSING_FIELD, "timestamp", "timestamp is required");
  const occurTime = timestampDate(event.timestamp);
  if (occurTime.getTime() > now.getTime() + MAX_FUTURE_MS) {
    return reject(RejectionReason.FUTURE_TIMESTAMP, "timestamp", "timestamp is more than 5 minutes in the future");
  }
  if (type.key === EXPOSURE_TYPE) {
    if (event.experimentId === "") return reject(RejectionReason.MISSING_FIELD, "experiment_id", "exposure events need experiment_id");
    if (event.variant === "") return reject(RejectionReason.MISSING_FIELD, "variant", "exposure events need variant");
  }
  if (event.value !== undefined && !Number.isFinite(event.value)) {
    return reject(RejectionReason.MISTYPED_FIELD, "value", "value must be a finite number");
  }
  for (const field of type.fields) {
    const problem = checkField(field, event);
    if (problem) return { ok: false, rejection: problem };
  }
  return {
    ok: true,
    event: {
      eventId: event.eventId,
      type: type.key,
      decisionId: event.decisionId,
      subjectId: event.subjectId,
      occurTime,
      value: event.value ?? null,
      requiresExposure: type.requiresExposure,
      experimentId: event.experimentId,
      variant: event.variant,
    },
  };
}

function checkField(field: EventTypeRule["fields"][number], event: Event): RejectionDetail | undefined {
  if (field.name === VALUE_FIELD) {
    if (event.value === undefined && field.required) {
      return { reason: RejectionReason.MISSING_FIELD, field: "value", message: "value is required for this event type" };
    }
    return undefined;
  }
  const path = `properties.${field.name}`;
  const v = event.properties?.[field.name];
  if (v === undefined || v === null) {
    return field.required ? { reason: RejectionReason.MISSING_FIELD, field: path, message: `${path} is required` } : undefined;
  }
  return matchesType(v, field.type)
    ? undefined
    : { reason: RejectionReason.MISTYPED_FIELD, field: path, message: `${path} must be ${fieldTypeName(field.type)}` };
}

function matchesType(v: JsonValue, type: EventFieldType): boolean {
  switch (type) {
    case EventFieldType.STRING:
      return typeof v === "string";
    case EventFieldType.NUMBER:
      return typeof v === "number" && Number.isFinite(v);
    case EventFieldType.BOOL:
      return typeof v === "boolean";
    case EventFieldType.TIMESTAMP:
      return typeof v === "string" && !Number.isNaN(Date.parse(v));
    default:
      return true;
  }
}

function fieldTypeName(type: EventFieldType): string {
  return EventFieldType[type]?.toLowerCase() ?? "unspecified";
}
