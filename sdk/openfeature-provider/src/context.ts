import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { ValueSchema, type Value } from "@bufbuild/protobuf/wkt";
import type { EvaluationContext, EvaluationContextValue } from "@openfeature/server-sdk";

/** OpenFeature context → Decide's subject and attributes (Dates as ISO strings). */
export function toDecideInput(context: EvaluationContext): { subjectId: string | undefined; attributes: Record<string, Value> } {
  const attributes: Record<string, Value> = {};
  for (const [key, value] of Object.entries(context)) {
    if (key === "targetingKey" || value === undefined) continue;
    attributes[key] = fromJson(ValueSchema, toJson(value));
  }
  return { subjectId: context.targetingKey, attributes };
}

function toJson(v: EvaluationContextValue): JsonValue {
  if (v === null || typeof v === "string" || typeof v === "number" || typeof v === "boolean") return v;
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(toJson);
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJson(x as EvaluationContextValue)]));
}

/** Cache key of one decision: subject, flag and the attributes in a stable order. */
export function cacheKey(subjectId: string, flagKey: string, context: EvaluationContext): string {
  const attrs = Object.keys(context)
    .filter((k) => k !== "targetingKey")
    .sort()
    .map((k) => `${k}=${JSON.stringify(context[k])}`)
    .join("&");
  return `${subjectId}\u0000${flagKey}\u0000${attrs}`;
}
