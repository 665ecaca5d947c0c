import { timestampDate, timestampFromDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import {
  Correction,
  MetricDirection,
  MetricRole,
  MetricsService,
  MetricType,
  ReportSchema,
  type Comparison,
  type Interval,
  type MetricReport,
  type Report,
  type VariantStats,
} from "@lotty/proto/metrics";
import type { Command } from "commander";
import type { CliContext } from "../context.js";
import { UsageError } from "../exit-codes.js";
import { enumLabel, table } from "../output.js";

const num = (x: number) => (Number.isInteger(x) ? String(x) : x.toPrecision(4).replace(/\.?0+$/, ""));
const signed = (x: number) => (x > 0 ? `+${num(x)}` : num(x));
const pct = (x: number) => `${x > 0 ? "+" : ""}${(x * 100).toFixed(2)}%`;
const ci = (i: Interval | undefined, f: (x: number) => string) => (i ? `[${f(i.lower)}, ${f(i.upper)}]` : "");
/** Small p-values stay readable down to 1e-300 (tails are computed as such, not as 1 − cdf). */
const pValue = (p: number) => (p < 1e-4 ? p.toExponential(1) : p.toFixed(4));
const when = (t: Timestamp | undefined) => (t ? timestampDate(t).toISOString() : "");

/** The line that must come first: a sample-ratio mismatch invalidates every comparison below. */
function srmWarning(r: Report): string | undefined {
  if (!r.srm?.mismatch) return undefined;
  const observed = r.variants.map((v, i) => `${v.variant} ${r.srm!.observed[i] ?? v.subjects}`).join(", ");
  const expected = r.variants.map((v, i) => `${v.variant} ${((r.srm!.expectedShares[i] ?? 0) * 100).toFixed(1)}%`).join(", ");
  return [
    `!! SAMPLE RATIO MISMATCH (chi-square ${num(r.srm.chiSquare)}, p = ${pValue(r.srm.pValue)} < 0.001)`,
    `!! observed subjects: ${observed}; expected shares: ${expected}`,
    `!! Assignment or logging is broken; do not trust the results below.`,
  ].join("\n");
}

/** Significance marker: "*" significant (after correction), with whether it is better or worse. */
function marker(c: Comparison): string {
  if (c.error) return c.error.toLowerCase();
  if (!c.significant) return "";
  return c.improvement ? "* better" : "* worse";
}

function metricTable(m: MetricReport, control: string): string {
  const comparisons = new Map(m.comparisons.map((c) => [c.variant, c]));
  const percentile = m.type === MetricType.PERCENTILE;
  type Row = { v: VariantStats; c?: Comparison };
  const rows: Row[] = m.variants.map((v) => ({ v, c: comparisons.get(v.variant) }));
  const cmp = (f: (c: Comparison) => string) => (r: Row) => (r.c ? f(r.c) : "");
  const title = `${m.metricKey} (${enumLabel(MetricRole[m.role], "")}, ${enumLabel(MetricType[m.type], "")}, ${enumLabel(MetricDirection[m.direction], "").replaceAll("_", " ")})`;
  const body = table(rows, [
    { header: "variant", value: (r: Row) => (r.v.variant === control ? `${r.v.variant} (control)` : r.v.variant) },
    { header: "n", value: (r) => String(r.v.n) },
    { header: percentile ? "value" : "mean", value: (r) => num(percentile ? r.v.value : r.v.mean) },
    { header: "abs lift [95% CI]", value: cmp((c) => `${signed(c.absoluteLift)} ${ci(c.absoluteCi, signed)}`) },
    { header: "rel lift [95% CI]", value: cmp((c) => `${pct(c.relativeLift)} ${ci(c.relativeCi, pct)}`) },
    { header: "p-value", value: cmp((c) => pValue(c.pValue)) },
    { header: "adj. p", value: cmp((c) => pValue(c.adjustedPValue)) },
    { header: "sig", value: cmp(marker) },
  ]);
  const cuped = m.comparisons.filter((c) => c.cuped && c.cuped.varianceReduction > 0);
  const notes = cuped.map((c) => `  CUPED ${c.variant}: ${pct(c.cuped!.relativeLift)} ${ci(c.cuped!.relativeCi, pct)}, p ${pValue(c.cuped!.pValue)} (variance −${(c.cuped!.varianceReduction * 100).toFixed(1)}%)`);
  if (m.power && m.power.mdeRelative > 0) notes.push(`  power: detectable now ±${(m.power.mdeRelative * 100).toFixed(2)}%; ${m.power.requiredPerVariant} per variant for ±${(m.power.targetMde * 100).toFixed(1)}%`);
  return [title, body.replace(/^/gm, "  "), ...notes].join("\n");
}

export function renderReport(r: Report): string {
  const parts: string[] = [];
  const warning = srmWarning(r);
  if (warning) parts.push(warning, "");
  const window = r.window?.start || r.window?.end ? `${when(r.window.start) || "start"} .. ${when(r.window.end) || "now"}` : "whole run";
  parts.push(`report ${r.experimentId} (${window}), control ${r.controlVariant}, correction ${enumLabel(Correction[r.correction], "").replaceAll("_", "-")}, alpha ${r.alpha}`);
  if (r.srm?.insufficientData) parts.push("sample ratio: too few subjects for a verdict");
  else if (r.srm && !r.srm.mismatch) parts.push(`sample ratio: ok (p = ${pValue(r.srm.pValue)})`);
  parts.push(
    table(r.variants, [
      { header: "variant", value: (v) => v.variant },
      { header: "weight", value: (v) => String(v.weight) },
      { header: "subjects", value: (v) => String(v.subjects) },
      { header: "exposures", value: (v) => String(v.exposures) },
    ]),
  );
  for (const m of r.metrics) parts.push("", metricTable(m, r.controlVariant));
  if (r.metrics.length === 0) parts.push("", "(no metrics attached)");
  return parts.join("\n");
}

function timestampFlag(flag: string, value: string | undefined): Timestamp | undefined {
  if (value === undefined) return undefined;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new UsageError(`${flag} ${value}: expected an ISO 8601 time, e.g. 2026-11-01T00:00:00Z`);
  return timestampFromDate(d);
}

export function reportCommand(program: Command, ctx: () => CliContext): void {
  program
    .command("report <experiment>")
    .description("an experiment's report: SRM check first, then lift, CI, p-values per metric (--json for all of it)")
    .option("--window-start <iso>", "count subjects exposed from this time (inclusive)")
    .option("--window-end <iso>", "up to this time (exclusive)")
    .action(async (experimentId: string, o: { windowStart?: string; windowEnd?: string }) => {
      const start = timestampFlag("--window-start", o.windowStart);
      const end = timestampFlag("--window-end", o.windowEnd);
      const { report } = await ctx().client(MetricsService).getReport({ experimentId, window: start || end ? { start, end } : undefined });
      ctx().out.message(ReportSchema, report!, renderReport);
    });
}
