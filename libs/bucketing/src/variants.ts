import { BUCKETS, bucket } from "./bucket.js";

export interface WeightedVariant {
  readonly name: string;
  /** Non-negative integer. */
  readonly weight: number;
}

/** Variants sorted by name with cumulative weights, computed once per ruleset load. */
export interface PreparedVariants {
  readonly names: readonly string[];
  /** cumulative weight of names[0..i] times 10000, ascending. */
  readonly scaledCumulative: readonly number[];
  readonly totalWeight: number;
}

/**
 * Sorts by name (UTF-16 code-unit order, like `a < b`) and precomputes cumulative weights.
 * Throws RangeError on a weight that is not a non-negative integer, or when
 * totalWeight * 10000 would exceed 2^53 (the comparison would no longer be exact).
 */
export function prepareVariants(variants: readonly WeightedVariant[]): PreparedVariants {
  const sorted = [...variants].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const scaledCumulative: number[] = [];
  let total = 0;
  for (const v of sorted) {
    if (!Number.isSafeInteger(v.weight) || v.weight < 0) {
      throw new RangeError(`variant "${v.name}": weight must be a non-negative integer, got ${v.weight}`);
    }
    total += v.weight;
    scaledCumulative.push(total * BUCKETS);
  }
  if (!Number.isSafeInteger(total * BUCKETS)) {
    throw new RangeError(`total variant weight ${total} is too large for exact bucketing`);
  }
  return { names: sorted.map((v) => v.name), scaledCumulative, totalWeight: total };
}

/**
 * Picks the first variant (in name order) whose cumulative weight * 10000 exceeds
 * bucket(subject, seed, "variant") * totalWeight. Exact integer math: the point
 * bucket * totalWeight / 10000 is never materialised as a fraction. A bucket that lands
 * exactly on a cumulative boundary goes to the next variant.
 */
export function pickPrepared(subjectId: string, seed: string, prepared: PreparedVariants): string | undefined {
  if (prepared.totalWeight === 0) return undefined;
  const point = bucket(subjectId, seed, "variant") * prepared.totalWeight;
  const cumulative = prepared.scaledCumulative;
  for (let i = 0; i < cumulative.length; i++) {
    if (cumulative[i] > point) return prepared.names[i];
  }
  // Unreachable: the last cumulative is totalWeight * 10000 > point since bucket < 10000.
  return undefined;
}

/** Convenience form of prepareVariants + pickPrepared; sorts on every call. */
export function pickVariant(
  subjectId: string,
  seed: string,
  variants: readonly WeightedVariant[],
): string | undefined {
  return pickPrepared(subjectId, seed, prepareVariants(variants));
}
