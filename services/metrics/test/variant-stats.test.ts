import { create } from "@bufbuild/protobuf";
import { MetricSchema, MetricType, type Metric } from "@lotty/proto/metrics";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CUPED_PRE_PERIOD_S } from "../src/domain/attribution.js";
import { metricAggregates, statColumns, statsAggregates } from "../src/store/report-store.js";
import { ev, exposure, fixture, valued, type EventInit } from "./harness.js";

const f = fixture([{ key: "click", requiresExposure: true }, valued("buy")]);

const metrics: Metric[] = [
  create(MetricSchema, { key: "conv", type: MetricType.CONVERSION, eventType: "click" }),
  create(MetricSchema, { key: "buyers", type: MetricType.CONVERSION, eventType: "buy" }),
  create(MetricSchema, { key: "clicks", type: MetricType.COUNT, eventType: "click" }),
  create(MetricSchema, { key: "buys", type: MetricType.COUNT, eventType: "buy" }),
  create(MetricSchema, { key: "revenue", type: MetricType.SUM, eventType: "buy" }),
  create(MetricSchema, { key: "basket", type: MetricType.MEAN, eventType: "buy" }),
];

/** One random event of a small world: few subjects, two experiments, ±20 days, decision links. */
const eventArb = fc.record({
  kind: fc.constantFrom("exposure", "exposure", "click", "buy", "buy"),
  subject: fc.integer({ min: 0, max: 7 }),
  experiment: fc.integer({ min: 0, max: 1 }),
  variant: fc.constantFrom("a", "b"),
  hoursAgo: fc.integer({ min: 1, max: 480 }),
  value: fc.integer({ min: -5, max: 50 }),
  decision: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
  duplicate: fc.boolean(),
});

let run = 0;

describe("incremental variant-day statistics", () => {
  it("equal a from-scratch per-subject recomputation after random, out-of-order, duplicated ingest", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(eventArb, { minLength: 1, maxLength: 60 }), fc.integer({ min: 1, max: 9 }), async (spec, batchSize) => {
        const tag = `r${++run}`;
        const experimentIds = [`${tag}-x0`, `${tag}-x1`];
        const events = spec.flatMap((s) => {
          const common: EventInit & { hoursAgo: number } = { subjectId: `${tag}-s${s.subject}`, hoursAgo: s.hoursAgo };
          if (s.decision !== undefined) common.decisionId = `${tag}-d${s.subject}-${s.decision}`;
          const e =
            s.kind === "exposure"
              ? exposure(experimentIds[s.experiment], common.subjectId!, s.variant, common)
              : ev({ ...common, type: s.kind, value: s.kind === "buy" ? s.value : undefined });
          return s.duplicate ? [e, e] : [e];
        });
        for (let i = 0; i < events.length; i += batchSize) await f.h.client.trackEvents({ events: events.slice(i, i + batchSize) });

        for (const experimentId of experimentIds) {
          for (const m of metrics) {
            for (const pre of [0, CUPED_PRE_PERIOD_S]) {
              const fast = await statsAggregates(f.db, experimentId, m.eventType, statColumns(m, pre, CUPED_PRE_PERIOD_S)!);
              const scratch = await metricAggregates(f.db, experimentId, m, {}, pre);
              const byVariant = (rows: typeof fast) => [...rows].sort((a, b) => a.variant.localeCompare(b.variant));
              const want = byVariant(scratch);
              const got = byVariant(fast);
              expect(got.map((r) => r.variant)).toEqual(want.map((r) => r.variant));
              got.forEach((g, i) => {
                for (const k of ["n", "sumY", "sumY2", "sumD", "sumD2", "sumYD", "sumX", "sumX2", "sumXY"] as const) {
                  expect(g[k], `${experimentId} ${m.key} pre=${pre} ${g.variant} ${k}`).toBeCloseTo(want[i][k], 6);
                }
              });
            }
          }
        }
      }),
      { numRuns: 40 },
    );
  }, 120_000);

  it("per-subject totals equal the sum of the subject's daily rollups", async () => {
    const { rows } = await f.db.query<{ bad: string }>(
      `SELECT count(*)::text AS bad FROM metrics.subject_totals t
         FULL JOIN (SELECT experiment_id, event_type, subject_id, sum(count)::float8 AS cnt, sum(sum)::float8 AS sum
                      FROM metrics.subject_rollups GROUP BY 1, 2, 3) r USING (experiment_id, event_type, subject_id)
        WHERE coalesce(t.cnt, 0) <> coalesce(r.cnt, 0) OR abs(coalesce(t.sum, 0) - coalesce(r.sum, 0)) > 1e-9`,
    );
    const total = await f.db.query<{ n: string }>("SELECT count(*)::text AS n FROM metrics.subject_totals");
    expect(Number(total.rows[0].n)).toBeGreaterThan(0);
    expect(rows[0].bad).toBe("0");
  });
});
