import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { ValueSchema, type Value } from "@bufbuild/protobuf/wkt";
import { ValueType } from "@lotty/proto/common";
import { UsageError } from "./exit-codes.js";

const TYPES: Record<string, ValueType> = {
  bool: ValueType.BOOL,
  string: ValueType.STRING,
  number: ValueType.NUMBER,
  json: ValueType.JSON,
};

export function parseValueType(text: string): ValueType {
  const t = TYPES[text.toLowerCase()];
  if (t === undefined) throw new UsageError(`--type must be one of ${Object.keys(TYPES).join(", ")} (got "${text}")`);
  return t;
}

/** A value given on the command line, read according to the flag's type. */
export function parseValue(text: string, type: ValueType): Value {
  let json: JsonValue;
  switch (type) {
    case ValueType.STRING:
      json = text;
      break;
    case ValueType.BOOL:
      if (text !== "true" && text !== "false") throw new UsageError(`a bool value must be true or false (got "${text}")`);
      json = text === "true";
      break;
    case ValueType.NUMBER:
      json = Number(text);
      if (text.trim() === "" || !Number.isFinite(json)) throw new UsageError(`a number value must be finite (got "${text}")`);
      break;
    default:
      try {
        json = JSON.parse(text) as JsonValue;
      } catch {
        throw new UsageError(`a json value must be valid JSON (got ${text})`);
      }
  }
  return fromJson(ValueSchema, json);
}

export function formatValue(v: Value | undefined): string {
  if (!v) return "";
  switch (v.kind.case) {
    case "stringValue":
      return JSON.stringify(v.kind.value);
    case "boolValue":
    case "numberValue":
      return String(v.kind.value);
    case "nullValue":
      return "null";
    default:
      return JSON.stringify(toPlain(v));
  }
}

function toPlain(v: Value): unknown {
  switch (v.kind.case) {
    case "structValue":
      return Object.fromEntries(Object.entries(v.kind.value.fields).map(([k, x]) => [k, toPlain(x)]));
    case "listValue":
      return v.kind.value.values.map(toPlain);
    case "nullValue":
      return null;
    default:
      return v.kind.value;
  }
}
