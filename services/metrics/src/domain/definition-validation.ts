import { INPUT_LIMITS, lengthViolations, type FieldViolation } from "@lotty/platform/rpc";
import { EventFieldType, MetricType, type EventType, type Metric } from "@lotty/proto/metrics";

const KEY = /^[a-z][a-z0-9_.-]*$/;
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_EVENT_FIELDS = 100;

/** Violations of an event type definition (empty = valid). */
export function validateEventType(t: EventType): FieldViolation[] {
  const out: FieldViolation[] = [];
  if (!KEY.test(t.key)) out.push({ field: "event_type.key", description: "must match ^[a-z][a-z0-9_.-]*$" });
  out.push(...lengthViolations([["event_type.key", t.key, INPUT_LIMITS.keyLength], ["event_type.description", t.description, INPUT_LIMITS.textLength]]));
  if (t.fields.length > MAX_EVENT_FIELDS) out.push({ field: "event_type.fields", description: `at most ${MAX_EVENT_FIELDS} fields` });
  const seen = new Set<string>();
  t.fields.forEach((f, i) => {
    if (!FIELD_NAME.test(f.name)) out.push({ field: `event_type.fields[${i}].name`, description: "must match ^[A-Za-z_][A-Za-z0-9_]*$" });
    if (seen.has(f.name)) out.push({ field: `event_type.fields[${i}].name`, description: `duplicate field "${f.name}"` });
    seen.add(f.name);
    if (f.type === EventFieldType.UNSPECIFIED) out.push({ field: `event_type.fields[${i}].type`, description: "is required" });
    if (f.name === "value" && f.type !== EventFieldType.NUMBER) {
      out.push({ field: `event_type.fields[${i}].type`, description: `"value" refers to Event.value and must be NUMBER` });
    }
  });
  return out;
}

/** Violations of a metric definition (empty = valid). Event types' existence is checked by the caller. */
export function validateMetric(m: Metric): FieldViolation[] {
  const out: FieldViolation[] = [];
  const bad = (field: string, description: string) => out.push({ field: `metric.${field}`, description });
  if (!KEY.test(m.key)) bad("key", "must match ^[a-z][a-z0-9_.-]*$");
  out.push(
    ...lengthViolations([
      ["metric.key", m.key, INPUT_LIMITS.keyLength],
      ["metric.name", m.name, INPUT_LIMITS.nameLength],
      ["metric.description", m.description, INPUT_LIMITS.textLength],
      ["metric.event_type", m.eventType, INPUT_LIMITS.keyLength],
      ["metric.denominator_event_type", m.denominatorEventType, INPUT_LIMITS.keyLength],
    ]),
  );
  if (m.name.trim() === "") bad("name", "is required");
  if (m.type === MetricType.UNSPECIFIED || MetricType[m.type] === undefined) bad("type", "is required");
  if (m.eventType === "") bad("event_type", "is required");
  if (m.type === MetricType.RATIO && m.denominatorEventType === "") bad("denominator_event_type", "is required for ratio metrics");
  if (m.type !== MetricType.RATIO && m.denominatorEventType !== "") bad("denominator_event_type", "only ratio metrics have a denominator");
  if (m.type === MetricType.PERCENTILE && !(m.percentile > 0 && m.percentile < 100)) bad("percentile", "must be in (0, 100)");
  if (m.type !== MetricType.PERCENTILE && m.percentile !== 0) bad("percentile", "only percentile metrics have a percentile");
  out.push(...validateCapping(m));
  if (m.conversionWindow) {
    if (m.type !== MetricType.CONVERSION) bad("conversion_window", "only conversion metrics have a conversion window");
    else if (durationSeconds(m.conversionWindow) <= 0) bad("conversion_window", "must be positive");
  }
  return out;
}

/** Capping rules, also checked on update. */
export function validateCapping(m: Pick<Metric, "capPercentile" | "capValue" | "type">): FieldViolation[] {
  const out: FieldViolation[] = [];
  if (!(m.capPercentile === 0 || (m.capPercentile > 0 && m.capPercentile < 100))) {
    out.push({ field: "metric.cap_percentile", description: "must be 0 (off) or in (0, 100)" });
  }
  if (!(m.capValue >= 0) || !Number.isFinite(m.capValue)) out.push({ field: "metric.cap_value", description: "must be >= 0 (0 = off)" });
  if (m.capPercentile > 0 && m.capValue > 0) out.push({ field: "metric.cap_value", description: "set cap_percentile or cap_value, not both" });
  const cappable = m.type === MetricType.COUNT || m.type === MetricType.SUM;
  if (!cappable && (m.capPercentile > 0 || m.capValue > 0)) {
    out.push({ field: "metric.cap_value", description: "capping applies to count and sum metrics only (per-subject values)" });
  }
  return out;
}

export function durationSeconds(d: { seconds: bigint; nanos: number }): number {
  return Number(d.seconds) + d.nanos / 1e9;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/;

/** Violations of an identifier another service issued (an experiment id): no spaces or odd characters, bounded. */
export function idViolations(field: string, id: string): FieldViolation[] {
  if (id === "") return [{ field, description: "is required" }];
  if (!ID.test(id)) return [{ field, description: "must match ^[A-Za-z0-9][A-Za-z0-9_.:-]*$" }];
  return lengthViolations([[field, id, INPUT_LIMITS.keyLength]]);
}

/** A key as event types and metrics have them (the shape page tokens decode to). */
export function isKey(s: string): boolean {
  return s.length <= INPUT_LIMITS.keyLength && KEY.test(s);
}

// The range google.protobuf.Timestamp allows (0001-01-01 to 9999-12-31); outside it dates are
// invalid in JavaScript or Postgres.
const MIN_SECONDS = -62_135_596_800n;
const MAX_SECONDS = 253_402_300_799n;

/** Violations of a timestamp a caller sent (a report window bound). */
export function timestampViolations(field: string, t: { seconds: bigint; nanos: number } | undefined): FieldViolation[] {
  if (!t) return [];
  if (t.seconds < MIN_SECONDS || t.seconds > MAX_SECONDS || t.nanos < 0 || t.nanos > 999_999_999) {
    return [{ field, description: "must be between 0001-01-01 and 9999-12-31" }];
  }
  return [];
}
