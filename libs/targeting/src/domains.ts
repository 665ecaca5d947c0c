import type { Literal } from "./ast.js";
import { dateAttributeToDay, parseIsoDate } from "./date.js";
import { compareVersions, parseSemverStrict, parseVersionLenient, versionKey, type Version } from "./semver.js";

// A domain says how an attribute value is coerced to a literal's type and how two values of
// that type compare. Coercion returns undefined on a type mismatch; the `typeof` checks also
// make inherited Object.prototype members (functions) and non-primitive junk a mismatch.

export type Key = string | number | boolean;

interface Domain<T> {
  coerce(value: unknown): T | undefined;
  compare(a: T, b: T): number;
  /** Primitive identity for IN lookups: keyOf(a) === keyOf(b) ⇔ compare(a, b) === 0. */
  keyOf(value: unknown): Key | undefined;
}

// Decimal numbers only: Number() alone would also accept "", "0x1f", "0b1" and " ".
const NUMERIC_STRING = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

function toNumber(value: unknown): number | undefined {
  if (typeof value === "number") return value === value ? value : undefined;
  if (typeof value !== "string" || !NUMERIC_STRING.test(value)) return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

function toString(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function toBoolean(value: unknown): boolean | undefined {
  if (typeof value === "boolean") return value;
  return value === "true" ? true : value === "false" ? false : undefined;
}

function toDay(value: unknown): number | undefined {
  return typeof value === "string" ? dateAttributeToDay(value) : undefined;
}

function toVersion(value: unknown): Version | undefined {
  return typeof value === "string" ? parseVersionLenient(value) : undefined;
}

const subtract = (a: number, b: number): number => a - b;
const ordinal = <T extends string | boolean>(a: T, b: T): number => (a < b ? -1 : a > b ? 1 : 0);

const numberDomain: Domain<number> = { coerce: toNumber, compare: subtract, keyOf: toNumber };
const stringDomain: Domain<string> = { coerce: toString, compare: ordinal, keyOf: toString };
const booleanDomain: Domain<boolean> = { coerce: toBoolean, compare: ordinal, keyOf: toBoolean };
const dateDomain: Domain<number> = { coerce: toDay, compare: subtract, keyOf: toDay };
const semverDomain: Domain<Version> = {
  coerce: toVersion,
  compare: compareVersions,
  keyOf: (value) => {
    const v = toVersion(value);
    return v === undefined ? undefined : versionKey(v);
  },
};

/** The day number of a date literal; throws on an invalid one (compile time only). */
export function dateLiteralDay(value: string): number {
  const day = parseIsoDate(value);
  if (day === undefined) throw new RangeError(`invalid date literal "${value}"`);
  return day;
}

/** The version of a semver literal; throws on an invalid one (compile time only). */
export function semverLiteralVersion(value: string): Version {
  const v = parseSemverStrict(value);
  if (v === undefined) throw new RangeError(`invalid semver literal "${value}"`);
  return v;
}

function against<T>(domain: Domain<T>, literal: T): (value: unknown) => number {
  return (value) => {
    const x = domain.coerce(value);
    return x === undefined ? Number.NaN : domain.compare(x, literal);
  };
}

/**
 * Compares an attribute value with the literal: the sign of (value - literal), or NaN when the
 * value is missing or cannot be coerced (so every ordering test on it is false).
 */
export function comparatorFor(lit: Literal): (value: unknown) => number {
  switch (lit.type) {
    case "string": return against(stringDomain, lit.value);
    case "number": return against(numberDomain, lit.value);
    case "boolean": return against(booleanDomain, lit.value);
    case "date": return against(dateDomain, dateLiteralDay(lit.value));
    case "semver": return against(semverDomain, semverLiteralVersion(lit.value));
  }
}

/** The literal's IN-lookup key and the coercion that maps attribute values to such keys. */
export function keyFor(lit: Literal): { key: Key; keyOf: (value: unknown) => Key | undefined } {
  switch (lit.type) {
    case "string": return { key: lit.value, keyOf: stringDomain.keyOf };
    case "number": return { key: lit.value, keyOf: numberDomain.keyOf };
    case "boolean": return { key: lit.value, keyOf: booleanDomain.keyOf };
    case "date": return { key: dateLiteralDay(lit.value), keyOf: dateDomain.keyOf };
    case "semver": return { key: versionKey(semverLiteralVersion(lit.value)), keyOf: semverDomain.keyOf };
  }
}
