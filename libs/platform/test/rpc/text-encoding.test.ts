import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { getTextEncoding } from "@bufbuild/protobuf/wire";
import { DecideRequestSchema } from "@lotty/proto/decision";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { useBufferTextEncoding } from "../../src/rpc/text-encoding.js";

describe("useBufferTextEncoding", () => {
  const encoder = new TextEncoder();
  // Any code units, lone surrogates included.
  const anyString = fc.oneof(fc.string({ unit: "binary" }), fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)) }));

  it("encodes every string to the bytes TextEncoder gives, and protobuf-es round-trips through it", () => {
    useBufferTextEncoding();
    const { encodeUtf8 } = getTextEncoding();
    fc.assert(
      fc.property(anyString, (s) => {
        expect(Buffer.from(encodeUtf8(s)).equals(Buffer.from(encoder.encode(s)))).toBe(true);
        const message = create(DecideRequestSchema, { subjectId: s, flagKey: "f" });
        // What TextEncoder would have written, read back.
        expect(fromBinary(DecideRequestSchema, toBinary(DecideRequestSchema, message)).subjectId).toBe(new TextDecoder().decode(encoder.encode(s)));
      }),
    );
  });

  it("is idempotent and keeps protobuf-es's decoding", () => {
    const before = getTextEncoding();
    useBufferTextEncoding();
    useBufferTextEncoding();
    const after = getTextEncoding();
    expect([after.decodeUtf8, after.checkUtf8]).toEqual([before.decodeUtf8, before.checkUtf8]);
    expect(after.encodeUtf8("héllo")).toBeInstanceOf(Buffer);
  });
});
