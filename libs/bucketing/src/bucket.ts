import { sha256Joined } from "./sha256.js";

/** Number of buckets: a bucket is one hundredth of a percent. */
export const BUCKETS = 10_000;

// 2^32 mod 10000. With hi, lo < 2^32: hi * 7296 + lo < 2^45.8, so the sum is an exact
// double and `% BUCKETS` gives exactly (hi * 2^32 + lo) mod 10000.
const TWO_POW_32_MOD_BUCKETS = 7296;

/**
 * Lotty-compatible bucket in [0, 10000): the first 8 bytes of sha256(`subject:seed:salt`)
 * read as an unsigned big-endian 64-bit integer, mod 10000. The hash is the hand-written
 * sha256Joined (see sha256.ts for why), bit-identical to node:crypto.
 */
export function bucket(subjectId: string, seed: string, salt: string): number {
  const digest = sha256Joined(subjectId, seed, salt);
  return ((digest[0] >>> 0) * TWO_POW_32_MOD_BUCKETS + (digest[1] >>> 0)) % BUCKETS;
}

/**
 * Whether the subject falls inside a traffic allocation given in basis points (1..10000,
 * i.e. 0.01 %..100 %). Growing the allocation only ever adds subjects.
 */
export function inAllocation(subjectId: string, seed: string, allocationBasisPoints: number): boolean {
  return bucket(subjectId, seed, "allocation") < allocationBasisPoints;
}
