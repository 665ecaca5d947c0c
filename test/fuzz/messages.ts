// Random and mutated requests driven by the message descriptors, so every field of every RPC
// gets values of its own type in awkward shapes (the typed client cannot send wrong wire types;
// wrong JSON shapes go through `wrongJson`).
import { clone, create, fromBinary, ScalarType, type DescField, type DescMessage, type Message } from "@bufbuild/protobuf";
import { FieldMaskSchema, ValueSchema } from "@bufbuild/protobuf/wkt";
import { OVERLONG, randomDouble, randomInt32, randomInt64, randomString, type Rng } from "./random.js";

type Obj = Record<string, unknown>;
const MAX_DEPTH = 4;

function randomScalar(rng: Rng, t: ScalarType): unknown {
  switch (t) {
    case ScalarType.STRING:
      return randomString(rng);
    case ScalarType.BOOL:
      return rng.chance(0.5);
    case ScalarType.BYTES:
      return rng.bytes(rng.int(0, 64));
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return randomDouble(rng);
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return randomInt64(rng);
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return randomInt64(rng, true);
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return randomInt32(rng, true);
    default:
      return randomInt32(rng);
  }
}

/** A google.protobuf.Value nested `depth` levels deep (deep JSON in flag values, metadata). */
function deepValue(rng: Rng, depth: number): Obj {
  if (depth <= 0) return { kind: { case: "stringValue", value: randomString(rng) } };
  const inner = create(ValueSchema, deepValue(rng, depth - 1));
  return rng.chance(0.5)
    ? { kind: { case: "listValue", value: { values: [inner] } } }
    : { kind: { case: "structValue", value: { fields: { [randomString(rng).slice(0, 40)]: inner } } } };
}

function randomValueOf(rng: Rng, field: DescField, depth: number, siblings: DescMessage | undefined): unknown {
  switch (field.fieldKind) {
    case "scalar":
      return randomScalar(rng, field.scalar);
    case "enum":
      return rng.chance(0.8) ? rng.pick(field.enum.values).number : rng.pick([-1, 99, 2_147_483_647]);
    case "message":
      return randomSub(rng, field.message, depth + 1, siblings);
    case "list": {
      const n = rng.chance(0.1) ? rng.int(100, 1200) : rng.int(0, 4);
      return Array.from({ length: n }, () => randomElement(rng, field, depth + 1 + (n > 4 ? MAX_DEPTH : 0), siblings));
    }
    case "map": {
      const out: Obj = {};
      const n = rng.chance(0.1) ? rng.int(65, 300) : rng.int(0, 4);
      for (let i = 0; i < n; i++) {
        const key = field.mapKey === ScalarType.STRING ? randomString(rng).slice(0, rng.pick([10, 200, 5000])) : String(randomInt32(rng));
        out[key] =
          field.mapKind === "scalar"
            ? randomScalar(rng, field.scalar)
            : field.mapKind === "enum"
              ? rng.pick(field.enum.values).number
              : randomSub(rng, field.message, depth + 1 + (n > 4 ? MAX_DEPTH : 0), siblings);
      }
      return out;
    }
  }
}

function randomElement(rng: Rng, field: DescField & { fieldKind: "list" }, depth: number, siblings: DescMessage | undefined): unknown {
  if (field.listKind === "scalar") return randomScalar(rng, field.scalar);
  if (field.listKind === "enum") return rng.pick(field.enum.values).number;
  return randomSub(rng, field.message, depth, siblings);
}

/** Field names of the entity an update mask would name (the request's other message field). */
function maskPaths(rng: Rng, entity: DescMessage | undefined): string[] {
  const names = entity ? entity.fields.map((f) => f.name) : [];
  return Array.from({ length: rng.int(0, 4) }, () => (names.length > 0 && rng.chance(0.8) ? rng.pick(names) : randomString(rng)));
}

/** An init object for `desc` with a random subset of fields set to random values. */
function randomMessageInit(rng: Rng, desc: DescMessage, depth = 0, siblings?: DescMessage): Obj {
  if (desc.typeName === ValueSchema.typeName) return deepValue(rng, rng.chance(0.1) ? rng.int(20, 90) : rng.int(0, 2));
  if (desc.typeName === FieldMaskSchema.typeName) return { paths: maskPaths(rng, siblings) };
  const out: Obj = {};
  if (depth > MAX_DEPTH) return out;
  const entity = desc.fields.find((f) => f.fieldKind === "message" && f.message.typeName !== FieldMaskSchema.typeName)?.message;
  for (const field of desc.fields) {
    if (!rng.chance(depth === 0 ? 0.7 : 0.5)) continue;
    setField(out, field, randomValueOf(rng, field, depth, entity ?? siblings));
  }
  return out;
}

export function randomMessage(rng: Rng, desc: DescMessage): Message {
  return create(desc, randomMessageInit(rng, desc));
}

// Sub-messages are built as messages, not init objects: `create` keeps a message it is given
// as it is, so a plain object set inside a cloned request would never be converted.
function randomSub(rng: Rng, desc: DescMessage, depth: number, siblings: DescMessage | undefined): Message {
  return create(desc, randomMessageInit(rng, desc, depth, siblings));
}

/** Random bytes read as the message (skipped when they are not a valid encoding). */
export function messageFromBytes(rng: Rng, desc: DescMessage): Message | undefined {
  try {
    return fromBinary(desc, rng.bytes(rng.int(0, 200)));
  } catch {
    return undefined;
  }
}

function setField(target: Obj, field: DescField, value: unknown): void {
  if (field.oneof) target[field.oneof.localName] = value === undefined ? { case: undefined } : { case: field.localName, value };
  else target[field.localName] = value;
}

function isSet(target: Obj, field: DescField): boolean {
  if (field.oneof) return (target[field.oneof.localName] as { case?: string } | undefined)?.case === field.localName;
  const v = target[field.localName];
  return Array.isArray(v) ? v.length > 0 : v !== undefined && v !== "" && v !== 0 && v !== 0n && v !== false;
}

function getField(target: Obj, field: DescField): unknown {
  return field.oneof ? (target[field.oneof.localName] as { value?: unknown }).value : target[field.localName];
}

/** A number next to, opposite or far from `current`, still representable in the field's type. */
function nearby(rng: Rng, t: ScalarType, current: number | bigint): unknown {
  if (typeof current === "bigint") {
    const v = rng.pick([-current, current + 1n, current - 1n, current * 1_000_000n]);
    return t === ScalarType.UINT64 || t === ScalarType.FIXED64 ? BigInt.asUintN(64, v) : BigInt.asIntN(64, v);
  }
  if (t === ScalarType.DOUBLE || t === ScalarType.FLOAT) return rng.pick([-current, current * 1e9, current + 1e-9, Number.NaN, -1]);
  const v = rng.pick([-current, current * 1000, current + 1, current - 1, -1]);
  return t === ScalarType.UINT32 || t === ScalarType.FIXED32 ? v >>> 0 : v | 0;
}

/** One mutation somewhere in `msg` (in place): a field cleared, replaced, stretched or repeated. */
function mutateOnce(rng: Rng, desc: DescMessage, msg: Obj, depth = 0): void {
  const set = desc.fields.filter((f) => isSet(msg, f));
  // Walk into a set sub-message half the time, so deep fields of valid requests get hit too.
  const sub = set.filter((f) => f.fieldKind === "message" && f.message.typeName !== ValueSchema.typeName);
  if (sub.length > 0 && depth < MAX_DEPTH && rng.chance(0.5)) {
    const f = rng.pick(sub);
    if (f.fieldKind === "message") return mutateOnce(rng, f.message, getField(msg, f) as Obj, depth + 1);
  }
  const field = set.length > 0 && rng.chance(0.7) ? rng.pick(set) : rng.pick(desc.fields);
  if (!field) return;
  const current = getField(msg, field);
  switch (rng.int(0, 4)) {
    case 0:
      setField(msg, field, field.fieldKind === "list" ? [] : field.fieldKind === "map" ? {} : undefined);
      return;
    case 1:
      if (typeof current === "string") return setField(msg, field, rng.chance(0.5) ? current + "x".repeat(OVERLONG) : `${current}${randomString(rng)}`);
      if (field.fieldKind === "scalar" && (typeof current === "number" || typeof current === "bigint")) {
        return setField(msg, field, nearby(rng, field.scalar, current));
      }
      if (Array.isArray(current) && current.length > 0) {
        return setField(msg, field, Array.from({ length: rng.pick([2, 201, 1001, 1500]) }, (_, i) => current[i % current.length]));
      }
      break;
    case 2:
      if (Array.isArray(current) && current.length > 0) {
        const copy = [...current];
        if (field.fieldKind === "list") copy[rng.int(0, copy.length - 1)] = randomElement(rng, field, depth + 1, undefined);
        return setField(msg, field, copy);
      }
      break;
  }
  setField(msg, field, randomValueOf(rng, field, depth + 1, undefined));
}

/** A copy of a valid request with one to three mutations. */
export function mutate(rng: Rng, desc: DescMessage, valid: Message): Message {
  const copy = clone(desc, valid) as unknown as Obj;
  for (let i = rng.int(1, 3); i > 0; i--) mutateOnce(rng, desc, copy);
  // Re-create so nested init objects become messages.
  return create(desc, copy as never);
}

const IDENTITY = new Set(["id", "key", "experiment_id"]);
const overlong = (rng: Rng) => `${"x".repeat(OVERLONG + rng.int(0, 2000))}${rng.pick(["", "😀", "\u0000"])}`;

/**
 * A valid change to seed data made certainly invalid: a stale expected version where the RPC has
 * one, else an over-long string in a field the change names (every string is bounded at 10k
 * characters), else an identity that names nothing. Random mutations come first, the poison last.
 */
export function poison(rng: Rng, desc: DescMessage, valid: Message): Message {
  const copy = clone(desc, valid) as unknown as Obj;
  for (let i = rng.int(0, 2); i > 0; i--) mutateOnce(rng, desc, copy);
  const version = desc.fields.find((f) => f.name === "expected_version");
  const entityField = desc.fields.find((f) => f.fieldKind === "message" && f.message.typeName !== FieldMaskSchema.typeName);
  const mask = desc.fields.find((f) => f.fieldKind === "message" && f.message.typeName === FieldMaskSchema.typeName);
  if (version) {
    const v = (valid as unknown as Obj)[version.localName] as bigint;
    copy[version.localName] = v + rng.pick([1n, 2n, 1000n]);
  } else if (entityField?.fieldKind === "message") {
    const entity = ((copy[entityField.localName] as Obj | undefined) ?? create(entityField.message)) as Obj;
    const target = rng.pick(entityField.message.fields.filter((f) => f.fieldKind === "scalar" && f.scalar === ScalarType.STRING && !IDENTITY.has(f.name)));
    entity[target.localName] = overlong(rng);
    copy[entityField.localName] = entity;
    if (mask) copy[mask.localName] = create(FieldMaskSchema, { paths: [...(((copy[mask.localName] as { paths?: string[] } | undefined)?.paths) ?? []), target.name] });
  } else {
    const texts = desc.fields.filter((f) => f.fieldKind === "scalar" && f.scalar === ScalarType.STRING && !IDENTITY.has(f.name));
    if (texts.length > 0) copy[rng.pick(texts).localName] = overlong(rng);
    else {
      const id = desc.fields.find((f) => IDENTITY.has(f.name))!;
      const v = (valid as unknown as Obj)[id.localName] as string;
      copy[id.localName] = rng.pick([` ${v}`, `${v}\u0000`, `${v}${overlong(rng)}`]);
    }
  }
  return create(desc, copy as never);
}

/** The request as Connect JSON with fields of the wrong JSON type (parsed by the server itself). */
export function wrongJson(rng: Rng, desc: DescMessage, depth = 0): Obj {
  const out: Obj = {};
  for (const f of desc.fields) {
    if (!rng.chance(0.5)) continue;
    out[f.jsonName] = rng.pick<() => unknown>([
      () => rng.int(-5, 5),
      () => "1e999",
      () => null,
      () => [randomString(rng)],
      () => ({ nested: depth < 3 && f.fieldKind === "message" ? wrongJson(rng, f.message, depth + 1) : true }),
      () => randomString(rng),
      () => rng.chance(0.5),
      () => -1.5,
      () => Array.from({ length: 60 }).reduce<unknown>((acc) => [acc], 0),
    ])();
  }
  return out;
}
