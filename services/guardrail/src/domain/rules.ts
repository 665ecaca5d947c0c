// Guardrail rule evaluation: pure functions of a guardrail's rule and the metric values fetched
// for it. A rule either fires (naming the variant, what was observed and the bound) or not.
import type { RelativeRule, SloRule, ThresholdRule } from "@lotty/proto/guardrail";
import { MetricDirection, MetricType, type Comparison, type MetricValue, type VariantStats } from "@lotty/proto/metrics";

export type RuleKind = "threshold" | "relative" | "slo";

/** What the metrics service says about a metric that rules need. */
export interface MetricInfo {
  direction: MetricDirection;
  type: MetricType;
}

export interface Firing {
  variant: string;
  observed: number;
  threshold: number;
  detail: string;
}

/** Significance of the sequential test when a relative rule leaves alpha at 0. */
export const DEFAULT_ALPHA = 0.05;

/** A percentile metric's number is its percentile value; every other metric's is the mean. */
export function variantValue(s: VariantStats, type: MetricType): number {
  return type === MetricType.PERCENTILE ? s.value : s.mean;
}

/**
 * Unspecified direction counts as lower-is-better: guardrail metrics are overwhelmingly error
 * rates and latencies, and a wrong guess there errs towards stopping a change.
 */
export function higherIsBetter(direction: MetricDirection): boolean {
  return direction === MetricDirection.HIGHER_IS_BETTER;
}

/** True when value lies on the bad side of bound. */
export function crosses(value: number, bound: number, higherBetter: boolean): boolean {
  return higherBetter ? value < bound : value > bound;
}

/** Variants with data, optionally without control, paired with their number. */
function readings(value: MetricValue, info: MetricInfo, includeControl: boolean): { variant: string; value: number }[] {
  return value.variants
    .filter((s) => s.n > 0n && (includeControl || s.variant !== value.controlVariant))
    .map((s) => ({ variant: s.variant, value: variantValue(s, info.type) }));
}

/** The worst reading per direction, or undefined when there is none. */
export function worst(values: { variant: string; value: number }[], higherBetter: boolean): { variant: string; value: number } | undefined {
  return values.reduce<{ variant: string; value: number } | undefined>(
    (acc, r) => (acc === undefined || crosses(r.value, acc.value, higherBetter) ? r : acc),
    undefined,
  );
}

/** Threshold rule: the worst variant's value (control included, as in the original system) crosses the threshold. */
export function evaluateThreshold(rule: ThresholdRule, value: MetricValue, info: MetricInfo): Firing | undefined {
  const hb = higherIsBetter(info.direction);
  const w = worst(readings(value, info, true), hb);
  if (!w || !crosses(w.value, rule.threshold, hb)) return undefined;
  return {
    variant: w.variant,
    observed: w.value,
    threshold: rule.threshold,
    detail: `${w.variant}: ${value.metricKey} = ${fmt(w.value)} ${hb ? "<" : ">"} threshold ${fmt(rule.threshold)}`,
  };
}

/**
 * True when the always-valid (sequential) relative CI lies entirely beyond the allowed
 * degradation, i.e. the variant is worse than control by more than maxDegradation with the
 * sequential test's confidence, however often the sweep has looked.
 */
export function confidentlyWorse(c: Comparison, maxDegradation: number, higherBetter: boolean): boolean {
  const ci = c.sequentialRelativeCi;
  if (!ci) return false;
  return higherBetter ? ci.upper < -maxDegradation : ci.lower > maxDegradation;
}

/**
 * Relative rule: a variant whose sequential CI says it is worse than control by more than
 * max_degradation, once both it and control have min_sample subjects. The metrics service
 * computes the CI at its level (95 %); a stricter alpha also requires sequential_p_value ≤ alpha.
 */
export function evaluateRelative(rule: RelativeRule, value: MetricValue, info: MetricInfo): Firing | undefined {
  const hb = higherIsBetter(info.direction);
  const alpha = rule.alpha > 0 ? rule.alpha : DEFAULT_ALPHA;
  const n = new Map(value.variants.map((s) => [s.variant, s.n]));
  const controlN = n.get(value.controlVariant) ?? 0n;
  const degraded = value.comparisons.filter(
    (c) =>
      c.variant !== value.controlVariant &&
      c.error === "" &&
      controlN >= rule.minSample &&
      (n.get(c.variant) ?? 0n) >= rule.minSample &&
      c.sequentialPValue <= alpha &&
      confidentlyWorse(c, rule.maxDegradation, hb),
  );
  // Most degraded first: the lowest lift when higher is better, the highest otherwise.
  const w = worst(degraded.map((c) => ({ variant: c.variant, value: c.relativeLift })), hb);
  if (!w) return undefined;
  return {
    variant: w.variant,
    observed: w.value,
    threshold: rule.maxDegradation,
    detail: `${w.variant}: ${value.metricKey} ${pct(w.value)} vs control, worse than the allowed ${pct(rule.maxDegradation)} (sequential test)`,
  };
}

/** Error-budget burn rate: how many times faster than the objective allows errors are spent. */
export function burnRate(errorRatio: number, objective: number): number {
  return errorRatio / (1 - objective);
}

/**
 * SLO rule on the treatment variants: fires when the error ratio burns the budget faster than
 * burn_rate over both the long and the short window (the long window proves it matters, the
 * short one that it is still happening, so a spike that is over does not page).
 */
export function evaluateSlo(rule: SloRule, long: MetricValue, short: MetricValue, info: MetricInfo): Firing | undefined {
  const shortBy = new Map(readings(short, info, false).map((r) => [r.variant, r.value]));
  const burning = readings(long, info, false)
    .filter((r) => shortBy.has(r.variant))
    .map((r) => ({
      variant: r.variant,
      long: burnRate(r.value, rule.objective),
      short: burnRate(shortBy.get(r.variant)!, rule.objective),
    }))
    .filter((b) => b.long > rule.burnRate && b.short > rule.burnRate);
  // Fastest burn first (worst() with lower-is-better picks the largest value).
  const w = worst(burning.map((b) => ({ variant: b.variant, value: Math.min(b.long, b.short) })), false);
  if (!w) return undefined;
  const b = burning.find((x) => x.variant === w.variant)!;
  return {
    variant: b.variant,
    observed: Math.min(b.long, b.short),
    threshold: rule.burnRate,
    detail: `${b.variant}: error budget of ${pct(rule.objective)} SLO burning ${fmt(b.long)}x (long) and ${fmt(b.short)}x (short), above ${fmt(rule.burnRate)}x`,
  };
}

export function fmt(x: number): string {
  return String(Number(x.toPrecision(4)));
}

export function pct(x: number): string {
  return `${(x * 100).toFixed(2)}%`;
}
