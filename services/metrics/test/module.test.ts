import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { publishEvent, Subjects } from "@lotty/platform/events";
import { ExposureSchema, TrackedEventsSchema } from "@lotty/proto/events";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  MetricRole,
  MetricType,
  RejectionReason,
  type Metric,
} from "@lotty/proto/metrics";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { ev, exposure, fixture, HOUR, NOW, startModule, valued } from "./harness.js";

/** Independent reference: upper normal tail via erfc (Numerical Recipes erfcc, |rel err| < 1.2e-7). */
function normalSf(z: number): number {
  const x = z / Math.SQRT2;
  const t = 1 / (1 + 0.5 * Math.abs(x));
  const y =
    t *
    Math.exp(
      -x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return 0.5 * (x >= 0 ? y : 2 - y);
}

const f = fixture([{ key: "signup", requiresExposure: true }, valued("purchase")]);

type MetricInit = Omit<Partial<Metric>, "$typeName" | "$unknown">;
const metric = async (m: MetricInit) => (await f.h.client.createMetric({ metric: { name: m.key, ...m } })).metric!;

describe("TrackEvents", () => {
  it("reports each rejection with its index, and accepts the rest", async () => {
    const res = await f.h.client.trackEvents({
      events: [
        exposure("x-rej", "u1", "a"),
        ev({ eventId: "bad id", type: "signup", subjectId: "u1" }),
        ev({ type: "nope", subjectId: "u1" }),
        ev({ type: "purchase", subjectId: "u1" }),
        ev({ type: "signup", subjectId: "" }),
        ev({ type: "signup", subjectId: "u1", hoursAgo: -1 }),
      ],
    });
    expect(res.accepted).toBe(1);
    expect(res.rejected).toBe(5);
    expect(res.rejections.map((r) => [r.index, r.reason, r.field])).toEqual([
      [1, RejectionReason.MALFORMED_ID, "event_id"],
      [2, RejectionReason.UNKNOWN_TYPE, "type"],
      [3, RejectionReason.MISSING_FIELD, "value"],
      [4, RejectionReason.MISSING_SUBJECT, "subject_id"],
      [5, RejectionReason.FUTURE_TIMESTAMP, "timestamp"],
    ]);
    expect(res.rejections[0].eventId).toBe("bad id");
  });

  it("refuses batches over 1000 events as a whole", async () => {
    const events = Array.from({ length: 1001 }, () => ev({ type: "signup", subjectId: "u" }));
    const err = await f.h.client.trackEvents({ events }).catch((e: unknown) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.InvalidArgument);
    expect((err as ConnectError).message).toContain('"events"');
  });

  it("rejects events of an archived type", async () => {
    await f.h.client.createEventType({ eventType: { key: "legacy" } });
    await f.h.client.archiveEventType({ key: "legacy" });
    const res = await f.h.client.trackEvents({ events: [ev({ type: "legacy", subjectId: "u1" })] });
    expect(res.rejections[0].reason).toBe(RejectionReason.ARCHIVED_TYPE);
  });
});

describe("idempotency and attribution", () => {
  it("counts a duplicate once, within a batch, across calls and after a restart", async () => {
    f.exps.experiments.set("x-dup", [{ name: "a", weight: 1, control: true }, { name: "b", weight: 1 }]);
    const m = await metric({ key: "dup-count", type: MetricType.COUNT, eventType: "signup" });
    const x = exposure("x-dup", "d1", "a");
    const s = ev({ type: "signup", subjectId: "d1" });
    const first = await f.h.client.trackEvents({ events: [x, s, s] });
    expect(first).toMatchObject({ accepted: 2, duplicates: 1 });
    expect(await f.h.client.trackEvents({ events: [x, s] })).toMatchObject({ accepted: 0, duplicates: 2 });

    // Restart: a second module on the same database.
    const again = await startModule(f.db, f.bus, f.exps);
    try {
      expect(await again.client.trackEvents({ events: [s, x] })).toMatchObject({ accepted: 0, duplicates: 2 });
      const v = (await again.client.getMetricValue({ experimentId: "x-dup", metricKey: m.key })).value!;
      expect(v.variants.find((s) => s.variant === "a")).toMatchObject({ n: 1n, mean: 1 });
      expect(v.exposures).toEqual({ a: 1n, b: 0n });
    } finally {
      await again.module.close();
    }
  });

  it("holds a conversion that arrives before its exposure, and counts it once the exposure arrives on the bus", async () => {
    f.exps.experiments.set("x-ooo", [{ name: "a", weight: 1, control: true }, { name: "b", weight: 1 }]);
    const m = await metric({ key: "ooo-conv", type: MetricType.CONVERSION, eventType: "signup" });
    await f.h.client.trackEvents({
      events: [ev({ type: "signup", subjectId: "o1", decisionId: "dec-o1", hoursAgo: 1 }), ev({ type: "signup", subjectId: "o2", hoursAgo: 1 })],
    });
    const pending = await f.db.query<{ n: string }>("SELECT count(*)::text AS n FROM metrics.pending_events WHERE subject_id IN ('o1', 'o2')");
    expect(pending.rows[0].n).toBe("2");

    for (const [subject, variant, decision] of [["o1", "b", "dec-o1"], ["o2", "a", "dec-o2"]]) {
      await publishEvent(f.bus, Subjects.exposure, ExposureSchema, create(ExposureSchema, {
        eventId: `xp-${subject}`, occurTime: timestampFromDate(new Date(NOW.getTime() - 2 * HOUR)),
        decisionId: decision, subjectId: subject, experimentId: "x-ooo", variant, reason: "experiment_assigned",
      }));
    }
    // A decision outside any experiment is not an exposure.
    await publishEvent(f.bus, Subjects.exposure, ExposureSchema, create(ExposureSchema, { eventId: "xp-none", decisionId: "dec-none", subjectId: "o3", reason: "flag_not_found" }));

    await vi.waitFor(async () => {
      const v = (await f.h.client.getMetricValue({ experimentId: "x-ooo", metricKey: m.key })).value!;
      expect(v.variants.map((s) => [s.variant, s.n, s.mean])).toEqual([["a", 1n, 1], ["b", 1n, 1]]);
    });
    const left = await f.db.query<{ n: string }>("SELECT count(*)::text AS n FROM metrics.pending_events WHERE subject_id IN ('o1', 'o2')");
    expect(left.rows[0].n).toBe("0");
    const exposed = await f.db.query("SELECT 1 FROM metrics.exposures WHERE subject_id = 'o3'");
    expect(exposed.rowCount).toBe(0);
  });

  it("ingests TrackedEvents batches from the bus through the same path", async () => {
    f.exps.experiments.set("x-nats", [{ name: "a", weight: 1, control: true }, { name: "b", weight: 1 }]);
    const m = await metric({ key: "nats-sum", type: MetricType.SUM, eventType: "purchase" });
    const events = [exposure("x-nats", "n1", "a"), ev({ type: "purchase", subjectId: "n1", value: 7 })];
    await publishEvent(f.bus, Subjects.trackedEvents, TrackedEventsSchema, create(TrackedEventsSchema, { events }));
    await publishEvent(f.bus, Subjects.trackedEvents, TrackedEventsSchema, create(TrackedEventsSchema, { events })); // redelivery
    await vi.waitFor(async () => {
      const v = (await f.h.client.getMetricValue({ experimentId: "x-nats", metricKey: m.key, variant: "a" })).value!;
      expect(v.variants[0]).toMatchObject({ variant: "a", n: 1n, mean: 7 });
    });
    await new Promise((r) => setTimeout(r, 50));
    const v = (await f.h.client.getMetricValue({ experimentId: "x-nats", metricKey: m.key, variant: "a" })).value!;
    expect(v.variants[0].mean).toBe(7);
  });

  it("counts events of types that need no exposure only from the exposure on", async () => {
    f.exps.experiments.set("x-pre", [{ name: "a", weight: 1, control: true }, { name: "b", weight: 1 }]);
    const m = await metric({ key: "pre-sum", type: MetricType.SUM, eventType: "purchase" });
    await f.h.client.trackEvents({
      events: [
        ev({ type: "purchase", subjectId: "p1", value: 100, hoursAgo: 30 }), // before exposure: pre-period
        ev({ type: "purchase", subjectId: "p1", value: 5, hoursAgo: 2 }), // after exposure, arrives first
      ],
    });
    await f.h.client.trackEvents({ events: [exposure("x-pre", "p1", "a", { hoursAgo: 10 }), ev({ type: "purchase", subjectId: "p1", value: 2 })] });
    const v = (await f.h.client.getMetricValue({ experimentId: "x-pre", metricKey: m.key })).value!;
    expect(v.variants[0]).toMatchObject({ variant: "a", n: 1n, mean: 7 });
  });
});

describe("per-subject values by metric type", () => {
  const exp = "x-types";
  // Per subject (variant, purchases), all after exposure.
  const subjects: [string, string, number[]][] = [
    ["t1", "a", [10, 20]],
    ["t2", "a", []],
    ["t3", "a", [300]],
    ["t4", "b", [5]],
    ["t5", "b", [1, 2, 3]],
    ["t6", "b", []],
  ];

  beforeAll(async () => {
    f.exps.experiments.set(exp, [{ name: "a", weight: 1, control: true }, { name: "b", weight: 1 }]);
    await f.h.client.trackEvents({
      events: subjects.flatMap(([s, v, values]) => [
        exposure(exp, s, v, { hoursAgo: 20 }),
        ...values.map((value, i) => ev({ type: "purchase", subjectId: s, value, hoursAgo: 10 - i })),
      ]),
    });
  });

  const values = async (m: MetricInit) => {
    const created = await metric(m);
    return (await f.h.client.getMetricValue({ experimentId: exp, metricKey: created.key })).value!.variants;
  };
  const perVariant = (f: (vals: number[]) => number, variant: string) => {
    const ys = subjects.filter(([, v]) => v === variant).map(([, , vals]) => f(vals));
    const mean = ys.reduce((a, b) => a + b, 0) / ys.length;
    const variance = ys.reduce((a, y) => a + (y - mean) ** 2, 0) / (ys.length - 1);
    return { mean, variance };
  };

  it("count, sum and capped sum are per exposed subject (0 without events)", async () => {
    const count = (vals: number[]) => vals.length;
    const sum = (vals: number[]) => vals.reduce((a, b) => a + b, 0);
    const capped = (vals: number[]) => Math.min(50, sum(vals));
    for (const [m, f] of [
      [{ key: "t-count", type: MetricType.COUNT }, count],
      [{ key: "t-sum", type: MetricType.SUM }, sum],
      [{ key: "t-capped", type: MetricType.SUM, capValue: 50 }, capped],
    ] as const) {
      const got = await values({ ...m, eventType: "purchase" });
      for (const v of got) {
        const want = perVariant(f, v.variant);
        expect(v.n).toBe(3n);
        expect(v.mean).toBeCloseTo(want.mean, 9);
        expect(v.variance).toBeCloseTo(want.variance, 9);
      }
    }
  });

  it("conversion is the share of exposed subjects with an event; mean is value per event", async () => {
    const conv = await values({ key: "t-conv", type: MetricType.CONVERSION, eventType: "purchase" });
    expect(conv.map((v) => v.mean)).toEqual([2 / 3, 2 / 3]);
    const mean = await values({ key: "t-mean", type: MetricType.MEAN, eventType: "purchase" });
    expect(mean[0].mean).toBeCloseTo(330 / 3, 9);
    expect(mean[1].mean).toBeCloseTo(11 / 4, 9);
  });

  it("percentile reads event values", async () => {
    const p = await values({ key: "t-p50", type: MetricType.PERCENTILE, eventType: "purchase", percentile: 50 });
    expect(p.map((v) => v.value)).toEqual([20, 2.5]);
  });
});

describe("GetReport", () => {
  it("matches independently computed numbers for a conversion metric, and flags SRM on a skewed split", async () => {
    f.exps.experiments.set("x-report", [{ name: "control", weight: 50, control: true }, { name: "treat", weight: 50 }]);
    const nA = 60, xA = 12, nB = 40, xB = 16;
    const events = [];
    for (let i = 0; i < nA + nB; i++) {
      const variant = i < nA ? "control" : "treat";
      const converts = i < nA ? i < xA : i - nA < xB;
      events.push(exposure("x-report", `r${i}`, variant, { hoursAgo: 30 }));
      if (converts) events.push(ev({ type: "signup", subjectId: `r${i}`, hoursAgo: 5 }));
    }
    await f.h.client.trackEvents({ events });
    await metric({ key: "r-conv", type: MetricType.CONVERSION, eventType: "signup" });
    await f.h.client.setExperimentMetrics({ experimentId: "x-report", attachments: [{ metricKey: "r-conv", role: MetricRole.PRIMARY }] });

    const report = (await f.h.client.getReport({ experimentId: "x-report", includeTimeseries: true })).report!;
    expect(report.controlVariant).toBe("control");
    expect(report.variants.map((v) => [v.variant, v.subjects, v.exposures])).toEqual([["control", 60n, 60n], ["treat", 40n, 40n]]);

    const pA = xA / nA, pB = xB / nB;
    const diff = pB - pA;
    const seU = Math.sqrt((pA * (1 - pA)) / nA + (pB * (1 - pB)) / nB);
    const pBar = (xA + xB) / (nA + nB);
    const z = diff / Math.sqrt(pBar * (1 - pBar) * (1 / nA + 1 / nB));
    const q = 1.959963984540054;
    const relVar = (pB * (1 - pB)) / (nB * pA ** 2) + (pA * (1 - pA) * pB ** 2) / (nA * pA ** 4);

    const [mr] = report.metrics;
    expect(mr.variants.map((v) => v.mean)).toEqual([pA, pB]);
    const [c] = mr.comparisons;
    expect(c.test).toBe("z_pooled");
    expect(c.error).toBe("");
    expect(c.absoluteLift).toBeCloseTo(diff, 12);
    expect(c.absoluteCi!.lower).toBeCloseTo(diff - q * seU, 10);
    expect(c.absoluteCi!.upper).toBeCloseTo(diff + q * seU, 10);
    expect(c.relativeLift).toBeCloseTo(diff / pA, 12);
    expect(c.relativeCi!.lower).toBeCloseTo(diff / pA - q * Math.sqrt(relVar), 10);
    expect(c.pValue / (2 * normalSf(Math.abs(z)))).toBeCloseTo(1, 5);
    expect(c.adjustedPValue).toBe(c.pValue); // one comparison: BH leaves it unchanged
    expect(c.significant).toBe(c.pValue < 0.05);
    // The always-valid interval is wider than the fixed-horizon one.
    expect(c.sequentialAbsoluteCi!.upper - c.sequentialAbsoluteCi!.lower).toBeGreaterThan(c.absoluteCi!.upper - c.absoluteCi!.lower);
    expect(mr.power!.requiredPerVariant).toBeGreaterThan(0n);
    expect(mr.timeseries.length).toBeGreaterThan(0);
    expect(mr.timeseries.at(-1)!.relativeLift).toBeCloseTo(c.relativeLift, 12);

    // 60/40 on a 50/50 design: chi-square = (10² + 10²)/50 = 4, p ≈ 0.0455, not below 0.001.
    expect(report.srm!.chiSquare).toBeCloseTo(4, 12);
    expect(report.srm!.mismatch).toBe(false);
    f.exps.experiments.set("x-report", [{ name: "control", weight: 90, control: true }, { name: "treat", weight: 10 }]);
    const skewed = (await f.h.client.getReport({ experimentId: "x-report" })).report!;
    expect(skewed.srm!.mismatch).toBe(true);
    expect(skewed.srm!.expectedShares).toEqual([0.9, 0.1]);
  });

  it("applies CUPED when the pre-period has the metric, and returns typed errors instead of NaN", async () => {
    f.exps.experiments.set("x-cuped", [{ name: "a", weight: 1, control: true }, { name: "b", weight: 1 }]);
    const events = [];
    for (let i = 0; i < 40; i++) {
      const s = `c${i}`;
      const pre = (i % 7) + 1;
      events.push(ev({ type: "purchase", subjectId: s, value: pre, hoursAgo: 72 })); // 3 days before exposure
      events.push(exposure("x-cuped", s, i % 2 ? "b" : "a", { hoursAgo: 20 }));
      events.push(ev({ type: "purchase", subjectId: s, value: pre * 2 + (i % 3) + (i % 2), hoursAgo: 5 }));
    }
    await f.h.client.trackEvents({ events });
    await metric({ key: "c-sum", type: MetricType.SUM, eventType: "purchase" });
    await metric({ key: "c-empty", type: MetricType.CONVERSION, eventType: "signup" });
    const report = (await f.h.client.getReport({ experimentId: "x-cuped", metricKeys: ["c-sum", "c-empty"], cupedPrePeriod: durationFromMs(7 * 24 * HOUR) })).report!;
    const [sum, empty] = report.metrics;
    const cuped = sum.comparisons[0].cuped!;
    expect(cuped.theta).toBeGreaterThan(1);
    expect(cuped.varianceReduction).toBeGreaterThan(0.5);
    expect(empty.comparisons[0].error).toBe("ZERO_VARIANCE");
    expect(JSON.stringify(report, (_k, v) => (typeof v === "bigint" ? String(v) : v))).not.toMatch(/NaN|Infinity/);
    const off = (await f.h.client.getReport({ experimentId: "x-cuped", metricKeys: ["c-sum"], cupedPrePeriod: durationFromMs(0) })).report!;
    expect(off.metrics[0].comparisons[0].cuped).toBeUndefined();
  });

  it("answers NOT_FOUND for an unknown experiment", async () => {
    const err = await f.h.client.getReport({ experimentId: "missing" }).catch((e: unknown) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.NotFound);
  });

  it("batches metric values in request order", async () => {
    const res = await f.h.client.batchGetMetricValues({
      requests: [
        { experimentId: "x-report", metricKey: "r-conv" },
        { experimentId: "x-types", metricKey: "t-sum", variant: "b" },
      ],
    });
    expect(res.values.map((v) => [v.experimentId, v.metricKey, v.comparisons.map((c) => c.variant)])).toEqual([
      ["x-report", "r-conv", ["treat"]],
      ["x-types", "t-sum", ["b"]],
    ]);
  });
});
