// Conversions between proto values and what the tables hold (jsonb, timestamptz, int8 as text).
import { fromJson, toJson, type JsonValue } from "@bufbuild/protobuf";
import { timestampFromDate, ValueSchema, type Timestamp, type Value } from "@bufbuild/protobuf/wkt";

/** jsonb parameters are sent as text so pg and PGlite treat them alike. */
export function jsonParam(v: unknown): string {
  return JSON.stringify(v);
}

export function valueToJson(v: Value | undefined): JsonValue {
  return v ? toJson(ValueSchema, v) : null;
}

export function valueFromJson(j: unknown): Value {
  return fromJson(ValueSchema, j as JsonValue);
}

export function ts(d: Date | string | null | undefined): Timestamp | undefined {
  return d == null ? undefined : timestampFromDate(new Date(d));
}

/** int8 columns arrive as strings (no precision loss) on both backends. */
export function big(v: string | number | bigint): bigint {
  return BigInt(v);
}

export const UNIQUE_VIOLATION = "23505";

export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: string; constraint?: string; message?: string };
  if (e?.code !== UNIQUE_VIOLATION) return false;
  return constraint === undefined || e.constraint === constraint || (e.message ?? "").includes(constraint);
}
