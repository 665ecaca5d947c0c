/** A seeded PRNG (mulberry32): the fuzz run is reproducible from its seed, and small enough to hand-write. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(0, 255);
    return out;
  }
}

/** Over every string bound the platform has (10k characters for free text). */
export const OVERLONG = 10_001;

const ODD_CHARS = ["\u0000", "\u202e", "\ud800", "\udfff", "\u0301", "😀", "👨‍👩‍👧", "𝕏", "\ufeff", "\n", "\t", "\\", '"', "'", "%", "$", "{", "}", "\u00a0", "İ", "ß"];
const SHAPES = [
  "",
  " ",
  "a",
  "-",
  "null",
  "undefined",
  "NaN",
  "0",
  "-1",
  "9223372036854775808",
  "1e309",
  "' OR 1=1 --",
  "'); DROP TABLE flags; --",
  "${jndi:ldap://x}",
  "../../etc/passwd",
  "http://127.0.0.1:9/x",
  "file:///etc/passwd",
  'country == "US"',
  'country == "US" && (',
  "not not not",
  "[[[[[[[[[[",
  '{"a":',
  "2026-02-30T25:61:61Z",
  "-P1D",
  "fuzz.key",
];

/** Strings of every awkward shape: empty, odd unicode, injection-looking, over-long, huge. */
export function randomString(rng: Rng): string {
  switch (rng.int(0, 7)) {
    case 0:
      return rng.pick(SHAPES);
    case 1:
      return Array.from({ length: rng.int(1, 12) }, () => rng.pick(ODD_CHARS)).join("");
    case 2:
      return `fuzz-${rng.int(0, 1_000_000).toString(36)}`;
    case 3:
      return "x".repeat(rng.pick([129, 201, 257, 1025, 4097, OVERLONG, 65_537]));
    case 4:
      return rng.pick(ODD_CHARS).repeat(rng.int(100, 5000));
    case 5:
      return String.fromCharCode(...Array.from({ length: rng.int(1, 40) }, () => rng.int(0, 0xffff)));
    case 6:
      return rng.chance(0.1) ? "y".repeat(rng.int(100_000, 1_000_000)) : `${rng.pick(SHAPES)}${rng.pick(ODD_CHARS)}${rng.int(0, 99)}`;
    default:
      return Array.from({ length: rng.int(1, 20) }, () => String.fromCharCode(rng.int(32, 126))).join("");
  }
}

export function randomInt32(rng: Rng, unsigned = false): number {
  const v = rng.pick([0, 1, -1, 2, 7, 100, 1000, 1001, 10_000, 2_147_483_647, -2_147_483_648, rng.int(-1e6, 1e6), rng.int(0, 300)]);
  return unsigned ? v >>> 0 : v;
}

export function randomInt64(rng: Rng, unsigned = false): bigint {
  const v = rng.pick([0n, 1n, -1n, 2n, 9_223_372_036_854_775_807n, -9_223_372_036_854_775_808n, 253_402_300_800n, -62_135_596_801n, BigInt(rng.int(-1e9, 1e9))]);
  return unsigned ? BigInt.asUintN(64, v) : v;
}

export function randomDouble(rng: Rng): number {
  return rng.pick([0, -0, 1, -1, 0.5, 1e-300, -1e308, 1e308, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 100.0001, rng.next() * 200 - 50]);
}
