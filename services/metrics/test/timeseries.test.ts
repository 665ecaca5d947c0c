import { create } from "@bufbuild/protobuf";
import { MetricSchema, MetricType, type Metric } from "@lotty/proto/metrics";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { metricAggregates } from "../src/store/report-store.js";
import { cumulativeAggregates, cumulativeSupported } from "../src/store/timeseries-store.js";
import { ev, exposure, HOUR, NOW, fixture, valued, type EventInit } from "./harness.js";

const f = fixture([{ key: "click", requiresExposure: true }, valued("buy")]);

const metrics: Metric[] = [
  create(MetricSchema, { key: "conv", type: MetricType.CONVERSION, eventType: "click" }),
  create(MetricSchema, { key: "conv-30h", type: MetricType.CONVERSION, eventType: "buy", conversionWindow: { seconds: 30n * 3600n, nanos: 0 } }),
  create(MetricSchema, { key: "clicks", type: MetricType.COUNT, eventType: "click" }),
  create(MetricSchema, { key: "revenue", type: MetricType.SUM, eventType: "buy" }),
  create(MetricSchema, { key: "revenue-capped", type: MetricType.SUM, eventType: "buy", capValue: 40 }),
  create(MetricSchema, { key: "basket", type: MetricType.MEAN, eventType: "buy" }),
  create(MetricSchema, { key: "per-click", type: MetricType.RATIO, eventType: "buy", denominatorEventType: "click" }),
];

/** One random event of a small world: few subjects, ±12 days, decision links, duplicates. */
const eventArb = fc.record({
  kind: fc.constantFrom("exposure", "exposure", "click", "buy", "buy"),
  subject: fc.integer({ min: 0, max: 7 }),
  variant: fc.constantFrom("a", "b"),
  hoursAgo: fc.integer({ min: 1, max: 290 }),
  value: fc.integer({ min: -5, max: 50 }),
  decision: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
  duplicate: fc.boolean(),
});

const DAY = 24 * HOUR;
let run = 0;

describe("cumulative time series aggregates", () => {
  it("equal a per-day recomputation for every end, window start and metric type", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(eventArb, { minLength: 20, maxLength: 60 }),
        fc.option(fc.integer({ min: 24, max: 250 }), { nil: undefined }),
        fc.integer({ min: 0, max: 23 }),
        async (spec, startHoursAgo, finalHour) => {
          const experimentId = `ts${++run}`;
          const events = spec.flatMap((s) => {
            const common: EventInit & { hoursAgo: number } = { subjectId: `${experimentId}-s${s.subject}`, hoursAgo: s.hoursAgo };
            if (s.decision !== undefined) common.decisionId = `${experimentId}-d${s.subject}-${s.decision}`;
            const e = s.kind === "exposure" ? exposure(experimentId, common.subjectId!, s.variant, common) : ev({ ...common, type: s.kind, value: s.kind === "buy" ? s.value : undefined });
            return s.duplicate ? [e, e] : [e];
          });
          await f.h.client.trackEvents({ events });

          // As the report builds them: UTC midnights, then a final end inside a day.
          const start = startHoursAgo === undefined ? undefined : new Date(NOW.getTime() - startHoursAgo * HOUR);
          const firstMidnight = Math.floor((NOW.getTime() - 13 * DAY) / DAY) * DAY;
          const ends = Array.from({ length: 13 }, (_, i) => new Date(firstMidnight + (i + 1) * DAY));
          ends.push(new Date(ends.at(-1)!.getTime() + finalHour * HOUR + 1_234));

          for (const m of metrics) {
            expect(cumulativeSupported(m)).toBe(true);
            const got = await cumulativeAggregates(f.db, experimentId, m, start, ends);
            expect(got).toHaveLength(ends.length);
            for (const [k, end] of ends.entries()) {
              const want = (await metricAggregates(f.db, experimentId, m, { start, end }, 0)).sort((a, b) => a.variant.localeCompare(b.variant));
              expect(got[k].map((r) => r.variant), `${m.key} end ${k}`).toEqual(want.map((r) => r.variant));
              got[k].forEach((g, i) => {
                for (const f of ["n", "sumY", "sumY2", "sumD", "sumD2", "sumYD"] as const) {
                  expect(g[f], `${m.key} end ${k} ${g.variant} ${f}`).toBeCloseTo(want[i][f], 6);
                }
              });
            }
          }
        },
      ),
      { numRuns: 25 },
    );
  }, 180_000);

  it("leaves metrics capped at a percentile to the per-day path", () => {
    expect(cumulativeSupported(create(MetricSchema, { key: "p", type: MetricType.SUM, eventType: "buy", capPercentile: 99 }))).toBe(false);
  });
});
