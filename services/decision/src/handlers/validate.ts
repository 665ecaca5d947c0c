import type { Value } from "@bufbuild/protobuf/wkt";
import { invalidArgument } from "@lotty/platform/rpc";
import type { DecideBatchRequest, DecideRequest } from "@lotty/proto/decision";

export const LIMITS = { subjectIdMax: 256, attributesMax: 64, batchFlagsMax: 200 } as const;

export function validateSubject(subjectId: string, field = "subject_id"): void {
  if (subjectId.length === 0 || subjectId.length > LIMITS.subjectIdMax) {
    throw invalidArgument(field, `must be 1..${LIMITS.subjectIdMax} characters, got ${subjectId.length}`);
  }
}

function validateAttributes(attributes: { readonly [key: string]: Value }, field = "attributes"): void {
  const n = Object.keys(attributes).length;
  if (n > LIMITS.attributesMax) throw invalidArgument(field, `at most ${LIMITS.attributesMax} entries, got ${n}`);
}

function validateFlagKey(flagKey: string, field = "flag_key"): void {
  if (flagKey.length === 0) throw invalidArgument(field, "is required");
}

function validateFlagKeys(flagKeys: readonly string[]): void {
  if (flagKeys.length > LIMITS.batchFlagsMax) throw invalidArgument("flag_keys", `at most ${LIMITS.batchFlagsMax} flags, got ${flagKeys.length}`);
  flagKeys.forEach((k, i) => validateFlagKey(k, `flag_keys[${i}]`));
}

// Decide and DecideBatch skip the platform's protovalidate interceptor (hot path), so these
// checks are theirs; test/annotations.test.ts keeps them in step with decision.proto's rules.

export function validateDecide(req: Pick<DecideRequest, "subjectId" | "flagKey" | "attributes">): void {
  validateSubject(req.subjectId);
  validateFlagKey(req.flagKey);
  validateAttributes(req.attributes);
}

export function validateDecideBatch(req: Pick<DecideBatchRequest, "subjectId" | "flagKeys" | "attributes">): void {
  validateSubject(req.subjectId);
  validateAttributes(req.attributes);
  validateFlagKeys(req.flagKeys);
}
