// Semantic versions per semver.org 2.0.0. Hand-written rather than the `semver` package
// because the hot path compares against a literal parsed once at compile time, and we want
// lenient parsing of attribute values ("v1.6", "2") without allocating SemVer objects.

export interface Version {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  /** Pre-release identifiers; numeric ones without leading zeros. Build metadata is dropped. */
  readonly prerelease: readonly string[];
}

// The regular expression recommended by semver.org.
const STRICT =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

// Attribute values come from app builds and SDKs: allow a leading "v", missing minor/patch
// (taken as 0) and leading zeros.
const LENIENT = /^[vV]?(\d+)(?:\.(\d+)(?:\.(\d+))?)?(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

const NUMERIC = /^\d+$/;

function build(match: RegExpExecArray): Version | undefined {
  const major = Number(match[1]);
  const minor = Number(match[2] ?? 0);
  const patch = Number(match[3] ?? 0);
  if (!Number.isSafeInteger(major) || !Number.isSafeInteger(minor) || !Number.isSafeInteger(patch)) return undefined;
  const prerelease = match[4] === undefined ? [] : match[4].split(".").map(stripLeadingZeros);
  return { major, minor, patch, prerelease };
}

function stripLeadingZeros(id: string): string {
  return NUMERIC.test(id) ? id.replace(/^0+(?=\d)/, "") : id;
}

/** Parses a version exactly as semver.org defines it (used for `semver("...")` literals). */
export function parseSemverStrict(s: string): Version | undefined {
  const match = STRICT.exec(s);
  return match ? build(match) : undefined;
}

/** Parses an attribute value leniently, see LENIENT. */
export function parseVersionLenient(s: string): Version | undefined {
  const match = LENIENT.exec(s);
  return match ? build(match) : undefined;
}

function compareIdentifiers(a: string, b: string): number {
  const aNumeric = NUMERIC.test(a);
  const bNumeric = NUMERIC.test(b);
  if (aNumeric && bNumeric) {
    // Arbitrary-length numbers without leading zeros: longer is larger.
    if (a.length !== b.length) return a.length - b.length;
  } else if (aNumeric !== bNumeric) {
    return aNumeric ? -1 : 1; // numeric identifiers sort below alphanumeric ones
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Semver precedence: negative, zero or positive. */
export function compareVersions(a: Version, b: Version): number {
  if (a.major !== b.major) return a.major - b.major;
  if (a.minor !== b.minor) return a.minor - b.minor;
  if (a.patch !== b.patch) return a.patch - b.patch;
  const ap = a.prerelease;
  const bp = b.prerelease;
  // A version without pre-release ranks above any pre-release of the same core.
  if (ap.length === 0 || bp.length === 0) return bp.length - ap.length;
  const n = Math.min(ap.length, bp.length);
  for (let i = 0; i < n; i++) {
    const c = compareIdentifiers(ap[i], bp[i]);
    if (c !== 0) return c;
  }
  return ap.length - bp.length;
}

/** Canonical text; equal keys ⇔ equal precedence. */
export function versionKey(v: Version): string {
  const core = `${v.major}.${v.minor}.${v.patch}`;
  return v.prerelease.length === 0 ? core : `${core}-${v.prerelease.join(".")}`;
}
