import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate, type Duration } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import type { Db } from "@lotty/platform/db";
import { invalidArgument, invalidArguments, notFound } from "@lotty/platform/rpc";
import { TimeWindowSchema, type TimeWindow } from "@lotty/proto/common";
import type { ExperimentService } from "@lotty/proto/experiment";
import {
  Correction,
  MetricRole,
  MetricType,
  MetricValueSchema,
  ReportSchema,
  VariantSummarySchema,
  type GetMetricValueRequest,
  type GetReportRequest,
  type Metric,
  type MetricValue,
  type Report,
} from "@lotty/proto/metrics";
import { durationSeconds, timestampViolations } from "./domain/definition-validation.js";
import {
  applyCorrection,
  metricReport,
  srm,
  timeseriesPoints,
  type ArmDefinition,
  type ReportSettings,
  type VariantAggregate,
} from "./domain/report.js";
import { getAttachments, getMetrics } from "./store/metric-store.js";
import { CUPED_PRE_PERIOD_S } from "./domain/attribution.js";
import { exposureSpan, metricAggregates, percentileValues, statColumns, statsAggregates, traffic, windowCoversAll, type Window } from "./store/report-store.js";
import { cumulativeAggregates, cumulativeSupported } from "./store/timeseries-store.js";

const DAY_MS = 86_400_000;
/** The dynamics view keeps the most recent days. */
const MAX_TIMESERIES_DAYS = 90;

interface ExperimentShape {
  arms: ArmDefinition[];
  window: Window;
}

export interface Reporting {
  report(req: GetReportRequest): Promise<Report>;
  metricValues(reqs: readonly GetMetricValueRequest[]): Promise<MetricValue[]>;
}

export function createReporting(deps: { db: Db; experiment: Client<typeof ExperimentService>; clock: () => Date }): Reporting {
  const { db } = deps;

  async function experimentShape(id: string): Promise<ExperimentShape> {
    if (id === "") throw invalidArgument("experiment_id", "is required");
    let exp;
    try {
      exp = (await deps.experiment.getExperiment({ id })).experiment;
    } catch (err) {
      if (ConnectError.from(err).code === Code.NotFound) throw notFound("experiment", id);
      throw err;
    }
    if (!exp || exp.variants.length === 0) throw notFound("experiment", id);
    const hasControl = exp.variants.some((v) => v.control);
    return {
      arms: exp.variants.map((v, i) => ({ name: v.name, weight: v.weight, control: hasControl ? v.control : i === 0 })),
      window: { start: exp.startTime && timestampDate(exp.startTime), end: exp.endTime && timestampDate(exp.endTime) },
    };
  }

  function resolveWindow(w: TimeWindow | undefined, run: Window, field: string): Window {
    const bad = [...timestampViolations(`${field}.start`, w?.start), ...timestampViolations(`${field}.end`, w?.end)];
    if (bad.length > 0) throw invalidArguments(bad);
    const out = { start: w?.start ? timestampDate(w.start) : run.start, end: w?.end ? timestampDate(w.end) : run.end };
    if (out.start && out.end && out.start >= out.end) throw invalidArgument(field, "start must be before end");
    return out;
  }

  async function reportMetrics(req: GetReportRequest): Promise<{ metric: Metric; role: MetricRole }[]> {
    const attached = await getAttachments(db, req.experimentId);
    const roles = new Map(attached.map((a) => [a.metricKey, a.role]));
    const keys = req.metricKeys.length > 0 ? req.metricKeys : attached.map((a) => a.metricKey);
    const found = await getMetrics(db, keys);
    const missing = keys.filter((k) => !found.has(k));
    if (missing.length > 0) throw invalidArgument("metric_keys", `unknown metric(s): ${missing.join(", ")}`);
    return keys.map((k) => ({ metric: found.get(k)!, role: roles.get(k) ?? MetricRole.SECONDARY }));
  }

  function settings(req: GetReportRequest): ReportSettings {
    const alpha = req.alpha === 0 ? 0.05 : req.alpha;
    if (!(alpha > 0 && alpha < 0.5)) throw invalidArgument("alpha", "must be in (0, 0.5)");
    if (req.targetMde < 0 || req.sequentialTuning < 0) throw invalidArgument(req.targetMde < 0 ? "target_mde" : "sequential_tuning", "must be positive");
    return {
      alpha,
      correction: req.correction === Correction.UNSPECIFIED ? Correction.BENJAMINI_HOCHBERG : req.correction,
      tuning: req.sequentialTuning || 5000,
      targetMde: req.targetMde || 0.05,
      cuped: prePeriodSeconds(req.cupedPrePeriod) > 0,
    };
  }

  /**
   * A metric's per-variant data: from the incremental per-variant statistics when they answer it
   * exactly (the window holds the whole run, a supported metric), else from per-subject rows.
   */
  async function data(expId: string, m: Metric, w: Window, preS: number, coversAll: boolean) {
    if (m.type === MetricType.PERCENTILE) return { percentiles: await percentileValues(db, expId, m, w) };
    const columns = coversAll ? statColumns(m, preS, CUPED_PRE_PERIOD_S) : undefined;
    return { aggregates: columns ? await statsAggregates(db, expId, m.eventType, columns) : await metricAggregates(db, expId, m, w, preS) };
  }

  async function timeseries(expId: string, m: Metric, arms: ArmDefinition[], w: Window, s: ReportSettings) {
    if (m.type === MetricType.PERCENTILE) return [];
    const span = await exposureSpan(db, expId, w);
    if (!span) return [];
    // Cumulative through the end of each UTC day since the first exposure; the last point ends at the window end (or now).
    const final = (w.end ?? deps.clock()).getTime();
    const firstEnd = Math.max(Math.floor(span.first.getTime() / DAY_MS) * DAY_MS + DAY_MS, final - MAX_TIMESERIES_DAYS * DAY_MS);
    const ends = [];
    for (let end = firstEnd; end < final; end += DAY_MS) ends.push(end);
    ends.push(final);
    const endDates = ends.map((end) => new Date(end));
    let perEnd: VariantAggregate[][] = [];
    if (cumulativeSupported(m)) perEnd = await cumulativeAggregates(db, expId, m, w.start, endDates);
    // One at a time: a long series must not take every pooled connection at once.
    else for (const end of endDates) perEnd.push(await metricAggregates(db, expId, m, { start: w.start, end }, 0));
    return ends.flatMap((end, k) => timeseriesPoints(m, arms, new Date(Math.floor((end - 1) / DAY_MS) * DAY_MS), perEnd[k], s));
  }

  return {
    async report(req) {
      const s = settings(req);
      const exp = await experimentShape(req.experimentId);
      const w = resolveWindow(req.window, exp.window, "window");
      const preS = prePeriodSeconds(req.cupedPrePeriod);
      const metrics = await reportMetrics(req);
      const coversAll = await windowCoversAll(db, req.experimentId, w);
      const t = await traffic(db, req.experimentId, w, coversAll);
      // Metrics are independent queries: run them side by side on the pool.
      const built = await Promise.all(
        metrics.map(async ({ metric, role }) => {
          const r = metricReport(metric, role, exp.arms, await data(req.experimentId, metric, w, preS, coversAll), s);
          if (req.includeTimeseries) r.report.timeseries = await timeseries(req.experimentId, metric, exp.arms, w, s);
          return { metric, role, ...r };
        }),
      );
      applyCorrection(built, s.correction, s.alpha);
      return create(ReportSchema, {
        experimentId: req.experimentId,
        window: windowProto(w),
        controlVariant: exp.arms.find((a) => a.control)!.name,
        srm: srm(exp.arms, exp.arms.map((a) => t.get(a.name)?.subjects ?? 0)),
        variants: exp.arms.map((a) =>
          create(VariantSummarySchema, {
            variant: a.name,
            weight: a.weight,
            exposures: BigInt(t.get(a.name)?.exposures ?? 0),
            subjects: BigInt(t.get(a.name)?.subjects ?? 0),
          }),
        ),
        metrics: built.map((b) => b.report),
        correction: s.correction,
        alpha: s.alpha,
        computeTime: timestampFromDate(deps.clock()),
      });
    },

    async metricValues(reqs) {
      const experiments = new Map<string, Promise<ExperimentShape>>();
      const metrics = await getMetrics(db, reqs.map((r) => r.metricKey));
      const s: ReportSettings = { alpha: 0.05, correction: Correction.NONE, tuning: 5000, targetMde: 0.05, cuped: false };
      const out: MetricValue[] = [];
      for (const [i, req] of reqs.entries()) {
        const field = reqs.length > 1 ? `requests[${i}]` : "";
        const metric = metrics.get(req.metricKey);
        if (!metric) throw notFound("metric", req.metricKey);
        if (!experiments.has(req.experimentId)) experiments.set(req.experimentId, experimentShape(req.experimentId));
        const exp = await experiments.get(req.experimentId)!;
        if (req.variant !== "" && !exp.arms.some((a) => a.name === req.variant)) {
          throw invalidArgument(`${field ? field + "." : ""}variant`, `experiment has no variant "${req.variant}"`);
        }
        const w = resolveWindow(req.window, exp.window, `${field ? field + "." : ""}window`);
        const coversAll = await windowCoversAll(db, req.experimentId, w);
        const [r, t] = await Promise.all([data(req.experimentId, metric, w, 0, coversAll), traffic(db, req.experimentId, w, coversAll)]);
        const built = metricReport(metric, MetricRole.GUARDRAIL, exp.arms, r, s);
        applyCorrection([{ metric, role: MetricRole.GUARDRAIL, results: built.results }], Correction.NONE, s.alpha);
        const keep = (v: string) => req.variant === "" || v === req.variant;
        out.push(
          create(MetricValueSchema, {
            experimentId: req.experimentId,
            metricKey: metric.key,
            direction: metric.direction,
            controlVariant: exp.arms.find((a) => a.control)!.name,
            variants: built.report.variants.filter((v) => keep(v.variant) || v.variant === exp.arms.find((a) => a.control)!.name),
            comparisons: built.report.comparisons.filter((c) => keep(c.variant)),
            exposures: Object.fromEntries(exp.arms.map((a) => [a.name, BigInt(t.get(a.name)?.exposures ?? 0)])),
          }),
        );
      }
      return out;
    },
  };
}

function prePeriodSeconds(d: Duration | undefined): number {
  return d === undefined ? CUPED_PRE_PERIOD_S : Math.max(0, durationSeconds(d));
}

function windowProto(w: Window): TimeWindow {
  return create(TimeWindowSchema, { start: w.start && timestampFromDate(w.start), end: w.end && timestampFromDate(w.end) });
}
