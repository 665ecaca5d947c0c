import type { Value } from "@bufbuild/protobuf/wkt";
import type { AttributeValue, Attributes } from "@lotty/targeting";

/** Request attributes (protobuf Values) as targeting sees them: null, lists and structs are dropped. */
export function toAttributes(values: { readonly [key: string]: Value }): Attributes {
  const out: Record<string, AttributeValue> = {};
  for (const key in values) {
    const kind = values[key].kind;
    if (kind.case === "stringValue" || kind.case === "numberValue" || kind.case === "boolValue") out[key] = kind.value;
  }
  return out;
}
