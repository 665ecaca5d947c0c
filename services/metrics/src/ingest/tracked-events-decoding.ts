import { fromBinary } from "@bufbuild/protobuf";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { TrackedEventsSchema, type TrackedEvents } from "@lotty/proto/events";
import { EventSchema, type Event } from "@lotty/proto/metrics";

/**
 * Decodes a lotty.metrics.events payload into what `fromBinary(TrackedEventsSchema, bytes)` returns.
 *
 * Written here because protobuf-es's reflective decoder cost about 6 µs per event, a quarter of the
 * consumer's CPU per event (bench/metrics/ingest-profile.ts); its wire reader does the work here.
 * Only the common shape is read by hand: an event with properties (a Struct), a field this reader
 * does not know or an unexpected wire type is decoded whole by protobuf-es, so the result is the
 * library's either way (test/tracked-events-decoding.test.ts compares the two).
 */
export function decodeTrackedEvents(bytes: Uint8Array): TrackedEvents {
  const reader = new BinaryReader(bytes);
  const events: Event[] = [];
  while (reader.pos < reader.len) {
    const [no, wireType] = reader.tag();
    if (no !== 1 || wireType !== WireType.LengthDelimited) return fromBinary(TrackedEventsSchema, bytes);
    const event = reader.bytes();
    events.push(readEvent(event) ?? fromBinary(EventSchema, event));
  }
  return { $typeName: "lotty.events.v1.TrackedEvents", events };
}

/** Event's string fields by field number. */
const STRING_FIELDS = new Map<number, "eventId" | "type" | "decisionId" | "subjectId" | "experimentId" | "variant">([
  [1, "eventId"],
  [2, "type"],
  [3, "decisionId"],
  [4, "subjectId"],
  [8, "experimentId"],
  [9, "variant"],
]);

/** An event without properties or unknown fields; undefined for anything else. */
function readEvent(bytes: Uint8Array): Event | undefined {
  const r = new BinaryReader(bytes);
  const e: Event = { $typeName: "lotty.metrics.v1.Event", eventId: "", type: "", decisionId: "", subjectId: "", experimentId: "", variant: "" };
  while (r.pos < r.len) {
    const [no, wireType] = r.tag();
    if (no === 6) {
      if (wireType !== WireType.Bit64) return undefined;
      e.value = r.double();
      continue;
    }
    if (wireType !== WireType.LengthDelimited) return undefined;
    const field = STRING_FIELDS.get(no);
    if (field !== undefined) e[field] = r.string();
    else if (no === 5) {
      const t = readTimestamp(r.bytes(), e.timestamp);
      if (!t) return undefined;
      e.timestamp = t;
    } else return undefined;
  }
  return e;
}

/** A Timestamp; a repeated one merges into the earlier one, as protobuf requires. */
function readTimestamp(bytes: Uint8Array, earlier: Timestamp | undefined): Timestamp | undefined {
  const r = new BinaryReader(bytes);
  const t: Timestamp = { $typeName: "google.protobuf.Timestamp", seconds: earlier?.seconds ?? 0n, nanos: earlier?.nanos ?? 0 };
  while (r.pos < r.len) {
    const [no, wireType] = r.tag();
    if (wireType !== WireType.Varint) return undefined;
    if (no === 1) t.seconds = BigInt(r.int64());
    else if (no === 2) t.nanos = r.int32();
    else return undefined;
  }
  return t;
}
