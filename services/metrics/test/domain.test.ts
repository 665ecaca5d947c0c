import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { EventFieldType, EventSchema, MetricSchema, MetricType, RejectionReason, type Event } from "@lotty/proto/metrics";
import { describe, expect, it } from "vitest";
import { attributionTargets, RollupAccumulator, type ExposureRef } from "../src/domain/attribution.js";
import { validateMetric } from "../src/domain/definition-validation.js";
import { validateEvent, type EventTypeRule } from "../src/domain/event-validation.js";
import { srm } from "../src/domain/report.js";

const now = new Date("2026-11-23T12:00:00Z");
const types = new Map<string, EventTypeRule>([
  ["exposure", { key: "exposure", archived: false, requiresExposure: false, fields: [] }],
  [
    "purchase",
    {
      key: "purchase",
      archived: false,
      requiresExposure: true,
      fields: [
        { name: "value", type: EventFieldType.NUMBER, required: true },
        { name: "currency", type: EventFieldType.STRING, required: true },
        { name: "gift", type: EventFieldType.BOOL, required: false },
      ],
    },
  ],
  ["old", { key: "old", archived: true, requiresExposure: false, fields: [] }],
]);

const purchase = (over: Omit<Partial<Event>, "$typeName"> = {}): Event =>
  create(EventSchema, {
    eventId: "e-1",
    type: "purchase",
    subjectId: "u1",
    timestamp: timestampFromDate(now),
    value: 9.5,
    properties: { currency: "EUR" },
    ...over,
  });

describe("validateEvent", () => {
  it("accepts a well-formed event and copies the attribution policy", () => {
    const r = validateEvent(purchase(), types, now);
    expect(r.ok && r.event).toMatchObject({ eventId: "e-1", requiresExposure: true, value: 9.5 });
  });

  it.each([
    ["malformed id", { eventId: "bad id!" }, RejectionReason.MALFORMED_ID, "event_id"],
    ["empty id", { eventId: "" }, RejectionReason.MALFORMED_ID, "event_id"],
    ["malformed decision id", { decisionId: "x".repeat(129) }, RejectionReason.MALFORMED_ID, "decision_id"],
    ["unknown type", { type: "nope" }, RejectionReason.UNKNOWN_TYPE, "type"],
    ["archived type", { type: "old" }, RejectionReason.ARCHIVED_TYPE, "type"],
    ["missing subject", { subjectId: "" }, RejectionReason.MISSING_SUBJECT, "subject_id"],
    ["missing timestamp", { timestamp: undefined }, RejectionReason.MISSING_FIELD, "timestamp"],
    ["future timestamp", { timestamp: timestampFromDate(new Date(now.getTime() + 6 * 60_000)) }, RejectionReason.FUTURE_TIMESTAMP, "timestamp"],
    ["missing required value", { value: undefined }, RejectionReason.MISSING_FIELD, "value"],
    ["missing property", { properties: {} }, RejectionReason.MISSING_FIELD, "properties.currency"],
    ["mistyped property", { properties: { currency: 3 } }, RejectionReason.MISTYPED_FIELD, "properties.currency"],
    ["mistyped optional property", { properties: { currency: "EUR", gift: "yes" } }, RejectionReason.MISTYPED_FIELD, "properties.gift"],
    ["exposure without experiment", { type: "exposure", variant: "a" }, RejectionReason.MISSING_FIELD, "experiment_id"],
    ["exposure without variant", { type: "exposure", experimentId: "x" }, RejectionReason.MISSING_FIELD, "variant"],
  ] as const)("rejects %s", (_, over, reason, field) => {
    const r = validateEvent(purchase(over as Omit<Partial<Event>, "$typeName">), types, now);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.rejection).toMatchObject({ reason, field });
  });

  it("tolerates 5 minutes of clock skew", () => {
    expect(validateEvent(purchase({ timestamp: timestampFromDate(new Date(now.getTime() + 4 * 60_000)) }), types, now).ok).toBe(true);
  });
});

describe("validateMetric", () => {
  const base = { key: "revenue", name: "Revenue", type: MetricType.SUM, eventType: "purchase" };
  const violations = (over: object) => validateMetric(create(MetricSchema, { ...base, ...over })).map((v) => v.field);

  it("accepts valid definitions", () => {
    expect(violations({})).toEqual([]);
    expect(violations({ capPercentile: 99 })).toEqual([]);
    expect(violations({ type: MetricType.RATIO, denominatorEventType: "session" })).toEqual([]);
    expect(violations({ type: MetricType.PERCENTILE, percentile: 95 })).toEqual([]);
  });

  it("names each bad field", () => {
    expect(violations({ key: "Bad" })).toContain("metric.key");
    expect(violations({ type: MetricType.UNSPECIFIED })).toContain("metric.type");
    expect(violations({ type: MetricType.RATIO })).toContain("metric.denominator_event_type");
    expect(violations({ type: MetricType.PERCENTILE, percentile: 100 })).toContain("metric.percentile");
    expect(violations({ capPercentile: 100 })).toContain("metric.cap_percentile");
    expect(violations({ capValue: -1 })).toContain("metric.cap_value");
    expect(violations({ capValue: 10, capPercentile: 99 })).toContain("metric.cap_value");
    expect(violations({ type: MetricType.CONVERSION, capValue: 1 })).toContain("metric.cap_value");
    expect(violations({ conversionWindow: { seconds: 3600n, nanos: 0 } })).toContain("metric.conversion_window");
  });
});

describe("attributionTargets", () => {
  const t0 = new Date("2026-11-20T00:00:00Z");
  const exposures: ExposureRef[] = [
    { experimentId: "x1", subjectId: "u1", variant: "a", firstAt: t0 },
    { experimentId: "x2", subjectId: "u1", variant: "b", firstAt: new Date(t0.getTime() + 3_600_000) },
  ];
  const ev = (over: object) => ({ eventId: "e", type: "t", decisionId: "", subjectId: "u1", occurTime: new Date(t0.getTime() + 60_000), value: 1, requiresExposure: true, ...over });

  it("links by decision id only to that decision's experiment", () => {
    expect(attributionTargets(ev({ decisionId: "d" }), exposures, "x2").targets.map((x) => x.experimentId)).toEqual(["x2"]);
  });
  it("an unknown decision waits when the type requires exposure", () => {
    expect(attributionTargets(ev({ decisionId: "d" }), exposures, undefined)).toEqual({ targets: [], pending: true });
  });
  it("without a decision, links to every exposure of the subject", () => {
    expect(attributionTargets(ev({}), exposures, undefined).targets).toHaveLength(2);
    expect(attributionTargets(ev({ subjectId: "u2" }), exposures, undefined).pending).toBe(true);
  });
  it("types that need no exposure count only from the exposure time on and never wait", () => {
    const r = attributionTargets(ev({ requiresExposure: false }), exposures, undefined);
    expect(r).toEqual({ targets: [exposures[0]], pending: false });
  });
  it("accumulates one rollup delta per subject, type and day", () => {
    const acc = new RollupAccumulator();
    acc.add(exposures[0], ev({ value: 2 }));
    acc.add(exposures[0], ev({ value: 3, occurTime: t0 }));
    expect(acc.deltas()).toEqual([expect.objectContaining({ count: 2, sum: 5, sumSq: 13, firstAt: t0, day: "2026-11-20" })]);
  });
});

describe("srm", () => {
  const arms = [
    { name: "a", weight: 50, control: true },
    { name: "b", weight: 50, control: false },
  ];
  it("flags a skewed split and not a balanced one", () => {
    expect(srm(arms, [600, 400]).mismatch).toBe(true);
    expect(srm(arms, [505, 495]).mismatch).toBe(false);
  });
  it("gives no verdict without traffic", () => {
    expect(srm(arms, [0, 0])).toMatchObject({ mismatch: false, insufficientData: true, pValue: 1 });
  });
});
