// Decide and DecideBatch skip the request-validation interceptor (hot path) and rely on the code
// checks in handlers/validate.ts; this keeps those checks and the protovalidate annotations in
// decision.proto in step: the code refuses exactly what the annotations refuse.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { createValidator } from "@bufbuild/protovalidate";
import { DecideBatchRequestSchema, DecideRequestSchema } from "@lotty/proto/decision";
import { describe, expect, it } from "vitest";
import { validateDecide, validateDecideBatch } from "../src/handlers/validate.js";

const validator = createValidator();
const attrs = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`a${i}`, { kind: { case: "boolValue" as const, value: true } }]));
const accepts = (check: () => void) => {
  try {
    check();
    return true;
  } catch {
    return false;
  }
};

describe("decision request annotations agree with the handlers' code checks", () => {
  const decides: Array<MessageInitShape<typeof DecideRequestSchema>> = [
    { subjectId: "u", flagKey: "f" },
    { subjectId: "", flagKey: "f" },
    { subjectId: "u".repeat(256), flagKey: "f" },
    { subjectId: "u".repeat(257), flagKey: "f" },
    { subjectId: "u", flagKey: "" },
    { subjectId: "u", flagKey: "f".repeat(128) },
    { subjectId: "u", flagKey: "f".repeat(129) },
    { subjectId: "u", flagKey: "f".repeat(1_100_000) },
    // Characters outside the Basic Multilingual Plane: two UTF-16 units, one character each.
    { subjectId: "😀".repeat(256), flagKey: "f" },
    { subjectId: "😀".repeat(257), flagKey: "f" },
    { subjectId: "u", flagKey: "😀".repeat(128) },
    { subjectId: "u", flagKey: "f", attributes: attrs(64) },
    { subjectId: "u", flagKey: "f", attributes: attrs(65) },
  ];
  it.each(decides.map((init) => [JSON.stringify(init).slice(0, 60), init] as const))("Decide %s", (_, init) => {
    const req = create(DecideRequestSchema, init);
    expect(validator.validate(DecideRequestSchema, req).kind === "valid").toBe(accepts(() => validateDecide(req)));
  });

  const batches: Array<MessageInitShape<typeof DecideBatchRequestSchema>> = [
    { subjectId: "u" },
    { subjectId: "u", flagKeys: Array.from({ length: 200 }, (_, i) => `f${i}`) },
    { subjectId: "u", flagKeys: Array.from({ length: 201 }, (_, i) => `f${i}`) },
    { subjectId: "u", flagKeys: ["f", ""] },
    { subjectId: "u", flagKeys: ["f", "f".repeat(128)] },
    { subjectId: "u", flagKeys: ["f", "f".repeat(129)] },
    { subjectId: "", flagKeys: ["f"] },
    { subjectId: "u", attributes: attrs(65) },
  ];
  it.each(batches.map((init) => [JSON.stringify(init).slice(0, 60), init] as const))("DecideBatch %s", (_, init) => {
    const req = create(DecideBatchRequestSchema, init);
    expect(validator.validate(DecideBatchRequestSchema, req).kind === "valid").toBe(accepts(() => validateDecideBatch(req)));
  });
});
