import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { TrackedEventsSchema } from "@lotty/proto/events";
import { EventSchema } from "@lotty/proto/metrics";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeTrackedEvents } from "../src/ingest/tracked-events-decoding.js";

const json: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small" }, fc.constant(null), fc.double({ noNaN: true }), fc.string(), fc.boolean(), fc.array(tie("value"), { maxLength: 3 }), fc.dictionary(fc.string(), tie("value"), { maxKeys: 3 })),
})).value;

const event = fc.record(
  {
    eventId: fc.string(),
    type: fc.string(),
    decisionId: fc.string(),
    subjectId: fc.string({ unit: "grapheme" }),
    timestamp: fc.record({ seconds: fc.bigInt(-62135596800n, 253402300799n), nanos: fc.integer({ min: 0, max: 999_999_999 }) }),
    value: fc.double(),
    properties: fc.dictionary(fc.string(), json, { maxKeys: 4 }),
    experimentId: fc.string(),
    variant: fc.string(),
  },
  { requiredKeys: [] },
);

const encode = (events: MessageInitShape<typeof EventSchema>[]) => toBinary(TrackedEventsSchema, create(TrackedEventsSchema, { events }));

describe("decodeTrackedEvents", () => {
  it("returns what protobuf-es's fromBinary returns, for any events", () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 8 }), (events) => {
        const bytes = encode(events as MessageInitShape<typeof EventSchema>[]);
        expect(decodeTrackedEvents(bytes)).toEqual(fromBinary(TrackedEventsSchema, bytes));
      }),
      { numRuns: 500 },
    );
  });

  it("keeps unknown fields and merges a repeated timestamp as protobuf-es does", () => {
    const known = toBinary(EventSchema, create(EventSchema, { eventId: "e1", type: "buy", subjectId: "u1", timestamp: { seconds: 10n, nanos: 5 } }));
    const withUnknown = new BinaryWriter().raw(known).tag(15, WireType.Varint).uint32(7).finish();
    const repeatedTime = new BinaryWriter().raw(known).tag(5, WireType.LengthDelimited).bytes(new BinaryWriter().tag(2, WireType.Varint).int32(9).finish()).finish();
    const bytes = new BinaryWriter().tag(1, WireType.LengthDelimited).bytes(withUnknown).tag(1, WireType.LengthDelimited).bytes(repeatedTime).finish();
    const decoded = decodeTrackedEvents(bytes);
    expect(decoded).toEqual(fromBinary(TrackedEventsSchema, bytes));
    expect(decoded.events[0].$unknown).toHaveLength(1);
    expect(decoded.events[1].timestamp).toMatchObject({ seconds: 10n, nanos: 9 });
  });

  it("rejects a truncated payload as fromBinary does", () => {
    const bytes = encode([{ eventId: "e1", type: "buy", subjectId: "u1" }]).subarray(0, 6);
    expect(() => fromBinary(TrackedEventsSchema, bytes)).toThrow();
    expect(() => decodeTrackedEvents(bytes)).toThrow();
  });
});
