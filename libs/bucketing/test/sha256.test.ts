import { createHash, randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { sha256Joined, sha256Utf8 } from "../src/sha256.js";

const cryptoHex = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const wordsHex = (words: Int32Array) => Array.from(words, (w) => (w >>> 0).toString(16).padStart(8, "0")).join("");

// Code units chosen to hit every UTF-8 width and the surrogate handling (pairs and lone halves).
const UNITS = ["a", "Z", "0", ":", "\u0000", "\u007f", "é", "\u07ff", "\u0800", "ユ", "\uffff", "😀", "\ud83d", "\ude00"];
function randomString(length: number): string {
  let s = "";
  const picks = randomBytes(length);
  for (let i = 0; i < length; i++) s += picks[i] < 128 ? String.fromCharCode(32 + (picks[i] % 95)) : UNITS[picks[i] % UNITS.length];
  return s.slice(0, length);
}

describe("sha256Utf8", () => {
  it("matches the FIPS 180-4 test vectors", () => {
    expect(hex(sha256Utf8(""))).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(hex(sha256Utf8("abc"))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(hex(sha256Utf8("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))).toBe(
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    );
  });

  it("matches node:crypto for ASCII of every length 0..300 (one- and multi-block padding edges)", () => {
    for (let n = 0; n <= 300; n++) {
      const s = "x".repeat(n);
      expect(hex(sha256Utf8(s)), `length ${n}`).toBe(cryptoHex(s));
    }
  });

  it("matches node:crypto for random mixed-width strings of every length 0..300", () => {
    for (let n = 0; n <= 300; n++) {
      for (let rep = 0; rep < 3; rep++) {
        const s = randomString(n);
        expect(hex(sha256Utf8(s)), JSON.stringify(s)).toBe(cryptoHex(s));
      }
    }
  });

  it("encodes lone surrogates as U+FFFD like Buffer.from(s, 'utf8')", () => {
    for (const s of ["\ud800", "\udc00", "a\ud83d", "\ude00b", "\ud83d\ud83d\ude00", "\ude00\ud83d"]) {
      expect(hex(sha256Utf8(s))).toBe(cryptoHex(s));
    }
  });

  it("matches node:crypto for arbitrary strings, including any UTF-16 code unit (property)", () => {
    const anyCodeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: "grapheme", maxLength: 200 }), fc.string({ unit: anyCodeUnit, maxLength: 200 })), (s) => {
        expect(hex(sha256Utf8(s))).toBe(cryptoHex(s));
      }),
      { numRuns: 3000 },
    );
  });

  it("handles a key longer than the initial buffer, then short keys again", () => {
    const long = randomString(5000);
    expect(hex(sha256Utf8(long))).toBe(cryptoHex(long));
    expect(hex(sha256Utf8("abc"))).toBe(cryptoHex("abc"));
  });
});

describe("sha256Joined", () => {
  it("equals sha256 of `${a}:${b}:${c}` (property, incl. surrogates split by the colons)", () => {
    const anyCodeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
    const part = fc.oneof(fc.string({ unit: "grapheme", maxLength: 80 }), fc.string({ unit: anyCodeUnit, maxLength: 80 }));
    fc.assert(
      fc.property(part, part, part, (a, b, c) => {
        expect(wordsHex(sha256Joined(a, b, c))).toBe(cryptoHex(`${a}:${b}:${c}`));
      }),
      { numRuns: 3000 },
    );
  });

  it("equals node:crypto for typical bucketing keys of every subject length 0..300", () => {
    for (let n = 0; n <= 300; n++) {
      const subject = randomString(n);
      for (const salt of ["variant", "allocation", "domain"]) {
        expect(wordsHex(sha256Joined(subject, "exp-checkout", salt))).toBe(cryptoHex(`${subject}:exp-checkout:${salt}`));
      }
    }
  });
});
