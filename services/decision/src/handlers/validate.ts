import type { Value } from "@bufbuild/protobuf/wkt";
import { invalidArgument } from "@lotty/platform/rpc";

export const LIMITS = { subjectIdMax: 256, attributesMax: 64, batchFlagsMax: 200 } as const;

export function validateSubject(subjectId: string, field = "subject_id"): void {
  if (subjectId.length === 0 || subjectId.length > LIMITS.subjectIdMax) {
    throw invalidArgument(field, `must be 1..${LIMITS.subjectIdMax} characters, got ${subjectId.length}`);
  }
}

export function validateAttributes(attributes: { readonly [key: string]: Value }, field = "attributes"): void {
  const n = Object.keys(attributes).length;
  if (n > LIMITS.attributesMax) throw invalidArgument(field, `at most ${LIMITS.attributesMax} entries, got ${n}`);
}

export function validateFlagKey(flagKey: string, field = "flag_key"): void {
  if (flagKey.length === 0) throw invalidArgument(field, "is required");
}

export function validateFlagKeys(flagKeys: readonly string[]): void {
  if (flagKeys.length > LIMITS.batchFlagsMax) throw invalidArgument("flag_keys", `at most ${LIMITS.batchFlagsMax} flags, got ${flagKeys.length}`);
  flagKeys.forEach((k, i) => validateFlagKey(k, `flag_keys[${i}]`));
}
