import type { Value } from "@bufbuild/protobuf/wkt";
import { invalidArgument } from "@lotty/platform/rpc";
import type { DecideBatchRequest, DecideRequest } from "@lotty/proto/decision";

export const LIMITS = { subjectIdMax: 256, flagKeyMax: 128, attributesMax: 64, batchFlagsMax: 200 } as const;

/**
 * Whether s has more than max characters counted as protovalidate's max_len counts them (code
 * points). Its UTF-16 length bounds that from above, so the count runs only for long strings, and
 * stops at max + 1.
 */
function longerThan(s: string, max: number): boolean {
  if (s.length <= max) return false;
  let n = 0;
  for (const _ of s) if (++n > max) return true;
  return false;
}

export function validateSubject(subjectId: string, field = "subject_id"): void {
  if (subjectId.length === 0 || longerThan(subjectId, LIMITS.subjectIdMax)) {
    throw invalidArgument(field, subjectId.length === 0 ? "is required" : `must be at most ${LIMITS.subjectIdMax} characters`);
  }
}

function validateAttributes(attributes: { readonly [key: string]: Value }, field = "attributes"): void {
  const n = Object.keys(attributes).length;
  if (n > LIMITS.attributesMax) throw invalidArgument(field, `at most ${LIMITS.attributesMax} entries, got ${n}`);
}

function validateFlagKey(flagKey: string, field = "flag_key"): void {
  if (flagKey.length === 0) throw invalidArgument(field, "is required");
  // No flag has a longer key; and each decision's key travels in its exposure, so an unbounded
  // one could make a single exposure larger than a NATS message may be.
  if (longerThan(flagKey, LIMITS.flagKeyMax)) throw invalidArgument(field, `at most ${LIMITS.flagKeyMax} characters`);
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
