import type { Value } from "@bufbuild/protobuf/wkt";
import { ValueType } from "@lotty/proto/common";
import { invalidArgument, type FieldViolation } from "./errors.js";
import { keyProblem } from "./keys.js";
import { valueMismatch } from "./values.js";

export interface NewFlag {
  key: string;
  description: string;
  valueType: ValueType;
  defaultValue?: Value;
}

export const MAX_DESCRIPTION_LENGTH = 4096;

export function validateNewFlag(f: NewFlag): FieldViolation[] {
  const out: FieldViolation[] = [];
  const key = keyProblem(f.key);
  if (key) out.push({ field: "key", description: key });
  if (f.description.length > MAX_DESCRIPTION_LENGTH) {
    out.push({ field: "description", description: `must be at most ${MAX_DESCRIPTION_LENGTH} characters` });
  }
  if (!Object.values(ValueType).includes(f.valueType) || f.valueType === ValueType.UNSPECIFIED) {
    out.push({ field: "value_type", description: "must be one of bool, string, number, json" });
  } else {
    const dv = valueMismatch(f.valueType, f.defaultValue);
    if (dv) out.push({ field: "default_value", description: dv });
  }
  return out;
}

/** UpdateFlag mask paths; an empty mask means both. */
export const FLAG_UPDATE_PATHS = ["description", "default_value"] as const;
export type FlagUpdatePath = (typeof FLAG_UPDATE_PATHS)[number];

export function resolveFlagMask(paths: readonly string[]): FlagUpdatePath[] {
  if (paths.length === 0) return [...FLAG_UPDATE_PATHS];
  const bad = paths.find((p) => !(FLAG_UPDATE_PATHS as readonly string[]).includes(p));
  if (bad !== undefined) throw invalidArgument("update_mask", `unknown path "${bad}" (allowed: description, default_value)`);
  return paths as FlagUpdatePath[];
}
