import type { Value } from "@bufbuild/protobuf/wkt";
import { ValueType } from "@lotty/proto/common";

const TYPE_NAMES: Record<ValueType, string> = {
  [ValueType.UNSPECIFIED]: "unspecified",
  [ValueType.BOOL]: "bool",
  [ValueType.STRING]: "string",
  [ValueType.NUMBER]: "number",
  [ValueType.JSON]: "json",
};

export function valueTypeName(t: ValueType): string {
  return TYPE_NAMES[t] ?? String(t);
}

/** Why `value` does not fit `type`, or undefined when it does. JSON accepts any value but null. */
export function valueMismatch(type: ValueType, value: Value | undefined): string | undefined {
  const kind = value?.kind.case;
  if (!value || kind === undefined) return "is required";
  const ok =
    type === ValueType.BOOL
      ? kind === "boolValue"
      : type === ValueType.STRING
        ? kind === "stringValue"
        : type === ValueType.NUMBER
          ? kind === "numberValue" && Number.isFinite(value.kind.value)
          : type === ValueType.JSON
            ? kind !== "nullValue"
            : false;
  return ok ? undefined : `must be a ${valueTypeName(type)} value (got ${kind.replace(/Value$/, "")})`;
}
