import { create } from "@bufbuild/protobuf";
import {
  adjustPValues,
  compareMeans,
  compareProportions,
  compareRatios,
  cupedCompare,
  mdeAtSample,
  sampleSizeMeans,
  sampleSizeProportions,
  sequentialInterval,
  srmCheck,
  summarizeMean,
  summarizeProportion,
  summarizeRatio,
  type CupedStats,
  type EffectEstimate,
  type FailureReason,
  type Interval as StatsInterval,
  type Result,
  type VariantSummary,
} from "@lotty/stats";
import {
  ComparisonSchema,
  Correction,
  CupedSchema,
  IntervalSchema,
  MetricDirection,
  MetricReportSchema,
  MetricRole,
  MetricType,
  PowerSchema,
  SrmCheckSchema,
  TimeseriesPointSchema,
  VariantStatsSchema,
  type Comparison,
  type Interval,
  type Metric,
  type MetricReport,
  type Power,
  type SrmCheck,
  type TimeseriesPoint,
  type VariantStats,
} from "@lotty/proto/metrics";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";

/** Per-variant sufficient statistics of one metric: y the unit's value, d its denominator, x its covariate. */
export interface VariantAggregate {
  variant: string;
  n: number;
  sumY: number;
  sumY2: number;
  sumD: number;
  sumD2: number;
  sumYD: number;
  sumX: number;
  sumX2: number;
  sumXY: number;
}

export interface ArmDefinition {
  name: string;
  weight: number;
  control: boolean;
}

export interface ReportSettings {
  alpha: number;
  correction: Correction;
  tuning: number;
  targetMde: number;
  cuped: boolean;
}

export interface PercentileValue {
  variant: string;
  n: number;
  value: number;
}

/** Reasons beyond the statistics library's: percentile metrics have no interval. */
export const UNSUPPORTED_TEST = "UNSUPPORTED_TEST";
/** A number that would have been NaN or ±Infinity was replaced by 0. */
export const NON_FINITE = "NON_FINITE";

/** Replaces NaN/±Infinity by 0 and remembers that it did. */
class Sanitiser {
  dirty = false;
  num(x: number): number {
    if (Number.isFinite(x)) return x;
    this.dirty = true;
    return 0;
  }
  interval(i: StatsInterval): Interval {
    return create(IntervalSchema, { lower: this.num(i.lower), upper: this.num(i.upper) });
  }
}

const emptyAggregate = (variant: string): VariantAggregate => ({ variant, n: 0, sumY: 0, sumY2: 0, sumD: 0, sumD2: 0, sumYD: 0, sumX: 0, sumX2: 0, sumXY: 0 });

/** Aggregates in experiment variant order, with zeros for variants nobody reached. */
export function alignAggregates(arms: readonly ArmDefinition[], rows: readonly VariantAggregate[]): VariantAggregate[] {
  const by = new Map(rows.map((r) => [r.variant, r]));
  return arms.map((a) => by.get(a.name) ?? emptyAggregate(a.name));
}

function summarize(type: MetricType, a: VariantAggregate): Result<VariantSummary> {
  switch (type) {
    case MetricType.CONVERSION:
      return summarizeProportion({ n: a.n, successes: a.sumY });
    case MetricType.MEAN:
    case MetricType.RATIO:
      return summarizeRatio({ n: a.n, sumM: a.sumY, sumM2: a.sumY2, sumD: a.sumD, sumD2: a.sumD2, sumMD: a.sumYD });
    default:
      return summarizeMean({ n: a.n, sum: a.sumY, sumSq: a.sumY2 });
  }
}

/** Point mean when the full summary is unavailable (n ≤ 1, zero denominator). */
function pointMean(type: MetricType, a: VariantAggregate): number | undefined {
  const ratio = type === MetricType.MEAN || type === MetricType.RATIO;
  if (ratio) return a.sumD !== 0 ? a.sumY / a.sumD : undefined;
  return a.n > 0 ? a.sumY / a.n : undefined;
}

export function variantStats(type: MetricType, a: VariantAggregate): VariantStats {
  const s = summarize(type, a);
  const clean = new Sanitiser();
  return create(VariantStatsSchema, {
    variant: a.variant,
    n: BigInt(a.n),
    mean: clean.num(s.ok ? s.value.mean : (pointMean(type, a) ?? 0)),
    variance: clean.num(s.ok ? s.value.variance : 0),
  });
}

interface Tested {
  absolute: EffectEstimate;
  relative: Result<EffectEstimate>;
  pValue: number;
  ci: StatsInterval;
  relativeCi: (e: EffectEstimate) => StatsInterval;
  test: string;
}

/** The default test per metric type (STATISTICS.md §1, §2): pooled z for proportions, Welch t otherwise. */
function test(type: MetricType, a: VariantAggregate, b: VariantAggregate, alpha: number): Result<Tested> {
  if (type === MetricType.CONVERSION) {
    const r = compareProportions({ n: a.n, successes: a.sumY }, { n: b.n, successes: b.sumY }, { alpha });
    if (!r.ok) return r;
    const { absolute, relative, report } = r.value;
    return { ok: true, value: { absolute, relative, pValue: report.pValue, ci: report.ci, relativeCi: (e) => e.z.ci, test: "z_pooled" } };
  }
  const r =
    type === MetricType.MEAN || type === MetricType.RATIO
      ? compareRatios(
          { n: a.n, sumM: a.sumY, sumM2: a.sumY2, sumD: a.sumD, sumD2: a.sumD2, sumMD: a.sumYD },
          { n: b.n, sumM: b.sumY, sumM2: b.sumY2, sumD: b.sumD, sumD2: b.sumD2, sumMD: b.sumYD },
          { alpha },
        )
      : compareMeans({ n: a.n, sum: a.sumY, sumSq: a.sumY2 }, { n: b.n, sum: b.sumY, sumSq: b.sumY2 }, { alpha });
  if (!r.ok) return r;
  const { absolute, relative, report } = r.value;
  return { ok: true, value: { absolute, relative, pValue: report.pValue, ci: report.ci, relativeCi: (e) => e.welch.ci, test: "welch_t" } };
}

const cupedStats = (a: VariantAggregate): CupedStats => ({ n: a.n, sum: a.sumY, sumSq: a.sumY2, sumX: a.sumX, sumX2: a.sumX2, sumXY: a.sumXY });

/** A comparison plus whether its p-value comes from a real test (only those join the correction family). */
export interface ComparisonResult {
  comparison: Comparison;
  tested: boolean;
}

/** One treatment against control for a rollup-based metric. */
export function compareVariant(metric: Metric, a: VariantAggregate, b: VariantAggregate, s: ReportSettings): ComparisonResult {
  const clean = new Sanitiser();
  const c = create(ComparisonSchema, { variant: b.variant, pValue: 1, adjustedPValue: 1, sequentialPValue: 1 });
  const errors: FailureReason[] = [];
  const r = a.n === 0 || b.n === 0 ? ({ ok: false, reason: "NO_DATA" } as const) : test(metric.type, a, b, s.alpha);
  if (!r.ok) {
    errors.push(r.reason);
    fillPointLifts(c, pointMean(metric.type, a), pointMean(metric.type, b), errors, clean);
  } else {
    const t = r.value;
    c.test = t.test;
    c.absoluteLift = clean.num(t.absolute.estimate);
    c.absoluteCi = clean.interval(t.ci);
    c.pValue = clean.num(t.pValue);
    c.adjustedPValue = c.pValue;
    const n = a.n + b.n;
    const seqAbs = sequentialInterval({ estimate: t.absolute.estimate, se: t.absolute.se, n, alpha: s.alpha, tuning: s.tuning });
    if (seqAbs.ok) {
      c.sequentialAbsoluteCi = clean.interval(seqAbs.value.ci);
      c.sequentialPValue = clean.num(seqAbs.value.pValue);
    } else errors.push(seqAbs.reason);
    if (t.relative.ok) {
      c.relativeLift = clean.num(t.relative.value.estimate);
      c.relativeCi = clean.interval(t.relativeCi(t.relative.value));
      const seqRel = sequentialInterval({ estimate: t.relative.value.estimate, se: t.relative.value.se, n, alpha: s.alpha, tuning: s.tuning });
      if (seqRel.ok) c.sequentialRelativeCi = clean.interval(seqRel.value.ci);
    } else errors.push(t.relative.reason);
    if (s.cuped) c.cuped = cuped(metric.type, a, b, s.alpha, clean);
  }
  c.error = [...new Set(errors)][0] ?? (clean.dirty ? NON_FINITE : "");
  return { comparison: c, tested: r.ok && !clean.dirty };
}

function fillPointLifts(c: Comparison, ma: number | undefined, mb: number | undefined, errors: FailureReason[], clean: Sanitiser): void {
  if (ma === undefined || mb === undefined) return;
  c.absoluteLift = clean.num(mb - ma);
  if (ma !== 0) c.relativeLift = clean.num((mb - ma) / Math.abs(ma));
  else errors.push("BASELINE_ZERO");
}

/** CUPED for per-subject value metrics when a pre-period covariate was observed. */
function cuped(type: MetricType, a: VariantAggregate, b: VariantAggregate, alpha: number, clean: Sanitiser) {
  const eligible = type === MetricType.CONVERSION || type === MetricType.COUNT || type === MetricType.SUM;
  if (!eligible || a.sumX2 + b.sumX2 === 0) return undefined;
  const r = cupedCompare(cupedStats(a), cupedStats(b), { alpha, metric: type === MetricType.CONVERSION ? "proportion" : "mean" });
  if (!r.ok || r.value.theta === 0) return undefined;
  const v = r.value;
  return create(CupedSchema, {
    theta: clean.num(v.theta),
    absoluteLift: clean.num(v.absolute.estimate),
    absoluteCi: clean.interval(v.report.ci),
    relativeLift: v.relative.ok ? clean.num(v.relative.value.estimate) : 0,
    relativeCi: v.relative.ok ? clean.interval(v.relative.value.welch.ci) : undefined,
    pValue: clean.num(v.report.pValue),
    varianceReduction: clean.num(v.varianceReduction),
  });
}

/** Percentile metrics: the value per variant and point lifts; no interval (UNSUPPORTED_TEST). */
export function comparePercentiles(a: PercentileValue | undefined, b: PercentileValue | undefined, variant: string): ComparisonResult {
  const c = create(ComparisonSchema, { variant, pValue: 1, adjustedPValue: 1, sequentialPValue: 1 });
  const errors: FailureReason[] = [];
  if (!a || !b) return { comparison: { ...c, error: "NO_DATA" }, tested: false };
  fillPointLifts(c, a.value, b.value, errors, new Sanitiser());
  c.error = errors[0] ?? UNSUPPORTED_TEST;
  return { comparison: c, tested: false };
}

/** MDE at the control's current n and the n per variant for the target relative MDE (80 % power). */
export function power(type: MetricType, control: VariantAggregate, s: ReportSettings): Power | undefined {
  const sum = summarize(type, control);
  if (!sum.ok || type === MetricType.PERCENTILE) return undefined;
  const { mean, variance, n } = sum.value;
  const out = create(PowerSchema, { targetMde: s.targetMde });
  const clean = new Sanitiser();
  // The stats library throws RangeError on inputs with no answer (rate 0 or 1, sd 0); those leave the field 0.
  const attempt = (fn: () => void) => {
    try {
      fn();
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
    }
  };
  if (type === MetricType.CONVERSION) {
    attempt(() => {
      const m = mdeAtSample({ metric: "proportion", baseline: mean, n, alpha: s.alpha });
      if (m.ok) out.mdeRelative = clean.num(m.value.relative ?? 0);
    });
    attempt(() => (out.requiredPerVariant = BigInt(sampleSizeProportions({ baseline: mean, mde: s.targetMde, alpha: s.alpha }))));
  } else {
    const sd = Math.sqrt(variance);
    attempt(() => {
      const m = mdeAtSample({ metric: "mean", sd, n, baselineMean: mean, alpha: s.alpha });
      if (m.ok) out.mdeRelative = clean.num(m.value.relative ?? 0);
    });
    attempt(() => (out.requiredPerVariant = BigInt(sampleSizeMeans({ sd, mde: s.targetMde * Math.abs(mean), alpha: s.alpha }))));
  }
  return out;
}

/** Comparisons of every treatment against control for one metric over aggregates in arm order. */
export function compareAll(metric: Metric, arms: readonly ArmDefinition[], aggs: readonly VariantAggregate[], s: ReportSettings): ComparisonResult[] {
  const ci = arms.findIndex((a) => a.control);
  return arms.flatMap((arm, i) => (i === ci ? [] : [compareVariant(metric, aggs[ci], aggs[i], s)]));
}

export function metricReport(
  metric: Metric,
  role: MetricRole,
  arms: readonly ArmDefinition[],
  data: { aggregates: VariantAggregate[] } | { percentiles: PercentileValue[] },
  s: ReportSettings,
): { report: MetricReport; results: ComparisonResult[] } {
  const report = create(MetricReportSchema, { metricKey: metric.key, role, type: metric.type, direction: metric.direction });
  const ci = arms.findIndex((a) => a.control);
  let results: ComparisonResult[];
  if ("percentiles" in data) {
    const by = new Map(data.percentiles.map((p) => [p.variant, p]));
    report.variants = arms.map((a) => {
      const p = by.get(a.name);
      return create(VariantStatsSchema, { variant: a.name, n: BigInt(p?.n ?? 0), value: p?.value ?? 0, mean: p?.value ?? 0 });
    });
    results = arms.flatMap((a, i) => (i === ci ? [] : [comparePercentiles(by.get(arms[ci].name), by.get(a.name), a.name)]));
  } else {
    const aggs = alignAggregates(arms, data.aggregates);
    report.variants = aggs.map((a) => variantStats(metric.type, a));
    results = compareAll(metric, arms, aggs, s);
    report.power = power(metric.type, aggs[ci], s);
  }
  report.comparisons = results.map((r) => r.comparison);
  return { report, results };
}

const METHOD = {
  [Correction.BENJAMINI_HOCHBERG]: "bh",
  [Correction.BONFERRONI]: "bonferroni",
  [Correction.HOLM]: "holm",
} as const;

/**
 * Adjusts p-values across variants × metrics of the primary and secondary metrics (guardrails are
 * excluded, as in GrowthBook), then sets significant and improvement on every comparison.
 */
export function applyCorrection(
  metrics: readonly { metric: Metric; role: MetricRole; results: ComparisonResult[] }[],
  correction: Correction,
  alpha: number,
): void {
  const family = metrics.filter((m) => m.role !== MetricRole.GUARDRAIL).flatMap((m) => m.results.filter((r) => r.tested));
  if (correction !== Correction.NONE && family.length > 0) {
    const method = METHOD[correction as keyof typeof METHOD] ?? "bh";
    const adjusted = adjustPValues(family.map((r) => r.comparison.pValue), method);
    family.forEach((r, i) => (r.comparison.adjustedPValue = adjusted[i]));
  }
  for (const m of metrics) {
    const sign = m.metric.direction === MetricDirection.LOWER_IS_BETTER ? -1 : 1;
    for (const r of m.results) {
      r.comparison.significant = r.tested && r.comparison.adjustedPValue < alpha;
      r.comparison.improvement = r.comparison.significant && sign * r.comparison.absoluteLift > 0;
    }
  }
}

/** Chi-square SRM check on unique subjects against configured weights (flag at p < 0.001). */
export function srm(arms: readonly ArmDefinition[], subjects: readonly number[]): SrmCheck {
  const weightSum = arms.reduce((s, a) => s + Math.max(0, a.weight), 0);
  const out = create(SrmCheckSchema, {
    expectedShares: arms.map((a) => (weightSum > 0 ? Math.max(0, a.weight) / weightSum : 0)),
    observed: subjects.map((n) => BigInt(n)),
    pValue: 1,
    insufficientData: true,
  });
  if (arms.length < 2 || weightSum === 0) return out;
  const r = srmCheck(subjects, arms.map((a) => a.weight));
  if (!r.ok) return out;
  out.chiSquare = r.value.chiSquare;
  out.pValue = r.value.pValue;
  out.insufficientData = r.value.status === "not-enough-traffic";
  out.mismatch = r.value.status === "srm";
  return out;
}

/** One cumulative point per treatment at the end of a day. */
export function timeseriesPoints(metric: Metric, arms: readonly ArmDefinition[], date: Date, aggregates: VariantAggregate[], s: ReportSettings): TimeseriesPoint[] {
  const aggs = alignAggregates(arms, aggregates);
  const ci = arms.findIndex((a) => a.control);
  return compareAll(metric, arms, aggs, { ...s, cuped: false }).map((r) =>
    create(TimeseriesPointSchema, {
      date: timestampFromDate(date),
      variant: r.comparison.variant,
      relativeLift: r.comparison.relativeLift,
      relativeCi: r.comparison.relativeCi,
      n: BigInt(aggs[ci].n + (aggs.find((a) => a.variant === r.comparison.variant)?.n ?? 0)),
    }),
  );
}
