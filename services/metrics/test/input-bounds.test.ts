// Regressions found by test/fuzz: unbounded definition texts, and a padded experiment id that
// SetExperimentMetrics took as a different experiment.
import { create } from "@bufbuild/protobuf";
import { EventTypeSchema, MetricSchema, MetricType } from "@lotty/proto/metrics";
import { describe, expect, it } from "vitest";
import { idViolations, isKey, timestampViolations, validateEventType, validateMetric } from "../src/domain/definition-validation.js";

const fields = (v: { field: string }[]) => v.map((x) => x.field);

describe("definition bounds", () => {
  it("refuses over-long event type keys and descriptions", () => {
    expect(validateEventType(create(EventTypeSchema, { key: "purchase", description: "ok" }))).toEqual([]);
    expect(fields(validateEventType(create(EventTypeSchema, { key: `a${"b".repeat(200)}`, description: "x".repeat(10_001) })))).toEqual(["event_type.key", "event_type.description"]);
  });

  it("refuses over-long metric names and descriptions", () => {
    const m = create(MetricSchema, { key: "conv", name: "n".repeat(201), description: "d".repeat(10_001), type: MetricType.CONVERSION, eventType: "purchase" });
    expect(fields(validateMetric(m))).toEqual(["metric.name", "metric.description"]);
  });
});

describe("idViolations", () => {
  it.each([" e5f0df2e-3929-4ebe-be4b-1428b70f0968", "a b", "x".repeat(129), "a\u202e"])("refuses %j", (id) => {
    expect(fields(idViolations("experiment_id", id))).toEqual(["experiment_id"]);
  });

  it("accepts issued ids and requires one", () => {
    expect(idViolations("experiment_id", "e5f0df2e-3929-4ebe-be4b-1428b70f0968")).toEqual([]);
    expect(idViolations("experiment_id", "")).toEqual([{ field: "experiment_id", description: "is required" }]);
  });
});

describe("report windows and page tokens", () => {
  it("refuses timestamps outside 0001..9999 (they made GetReport and GetMetricValue fail with INTERNAL)", () => {
    expect(timestampViolations("window.start", { seconds: 1_795_344_501n, nanos: 0 })).toEqual([]);
    expect(timestampViolations("window.start", undefined)).toEqual([]);
    expect(fields(timestampViolations("window.start", { seconds: 253_402_300_800n, nanos: 0 }))).toEqual(["window.start"]);
    expect(fields(timestampViolations("window.end", { seconds: -9_223_372_036_854_775_808n, nanos: 100 }))).toEqual(["window.end"]);
    expect(fields(timestampViolations("window.end", { seconds: 0n, nanos: -1 }))).toEqual(["window.end"]);
  });

  it("accepts only keys as decoded page tokens (a NUL in one made ListMetrics fail with INTERNAL)", () => {
    expect(isKey("fuzz_conversion")).toBe(true);
    expect(isKey("a\u0000")).toBe(false);
    expect(isKey('A>P("*]T6&U/C>')).toBe(false);
    expect(isKey(`a${"b".repeat(128)}`)).toBe(false);
  });
});
