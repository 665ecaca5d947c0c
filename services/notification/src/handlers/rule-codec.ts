import { create } from "@bufbuild/protobuf";
import { durationFromMs, durationMs, timestampFromDate, type Duration } from "@bufbuild/protobuf/wkt";
import { INPUT_LIMITS, lengthViolations, type FieldViolation } from "@lotty/platform/rpc";
import { RuleSchema, Severity, type Rule } from "@lotty/proto/notification";
import { unknownPlaceholders } from "../domain/message.js";
import { EVENT_TYPES, isEventType, Level, type EventType } from "../domain/notice.js";
import { DEFAULT_GROUP_WINDOW_MS, DEFAULT_RATE_WINDOW_MS, type RuleSpec } from "../domain/rules.js";
import type { RuleRecord } from "../store/rules.js";

/** Rule fields an update mask may name (proto names). */
export const RULE_FIELDS = [
  "name", "experiment_id", "flag_key", "owner", "event_types", "min_severity", "metric_keys", "channel_ids",
  "rate_limit", "rate_window", "dedup_window", "group_window", "template", "enabled",
] as const;

const LEVEL_OF = new Map<Severity, Level | 0>([
  [Severity.UNSPECIFIED, 0],
  [Severity.INFO, Level.Info],
  [Severity.WARNING, Level.Warning],
  [Severity.CRITICAL, Level.Critical],
]);
const SEVERITY_OF = new Map([...LEVEL_OF].map(([s, l]) => [l, s]));

function ms(v: FieldViolation[], field: string, d: Duration | undefined, fallback: number): number {
  if (!d) return fallback;
  const value = durationMs(d);
  if (value < 0) v.push({ field, description: "must not be negative" });
  return value;
}

/** Validates a rule from the API; channel existence is checked by the caller (needs the store). */
export function parseRule(r: Rule | undefined): { spec?: RuleSpec; violations: FieldViolation[] } {
  if (!r) return { violations: [{ field: "rule", description: "required" }] };
  const v: FieldViolation[] = [];
  const name = r.name.trim();
  if (!name) v.push({ field: "rule.name", description: "required" });
  v.push(
    ...lengthViolations([
      ["rule.name", name, INPUT_LIMITS.nameLength],
      ["rule.owner", r.owner, INPUT_LIMITS.nameLength],
      ["rule.experiment_id", r.experimentId, INPUT_LIMITS.keyLength],
      ["rule.flag_key", r.flagKey, INPUT_LIMITS.keyLength],
      ["rule.template", r.template, INPUT_LIMITS.textLength],
    ]),
  );
  r.eventTypes.forEach((t, i) => {
    if (!isEventType(t)) v.push({ field: `rule.event_types[${i}]`, description: `unknown event type "${t}"; one of ${EVENT_TYPES.join(", ")}` });
  });
  if (!LEVEL_OF.has(r.minSeverity)) v.push({ field: "rule.min_severity", description: "unknown severity" });
  if (r.channelIds.length === 0) v.push({ field: "rule.channel_ids", description: "at least one channel is required" });
  if (r.rateLimit < 0) v.push({ field: "rule.rate_limit", description: "must not be negative" });
  const unknown = unknownPlaceholders(r.template);
  if (unknown.length > 0) v.push({ field: "rule.template", description: `unknown placeholder(s) ${unknown.map((u) => `{{${u}}}`).join(", ")}` });
  const spec: RuleSpec = {
    name,
    experimentId: r.experimentId.trim(),
    flagKey: r.flagKey.trim(),
    owner: r.owner.trim(),
    eventTypes: [...new Set(r.eventTypes.filter(isEventType))] as EventType[],
    minLevel: LEVEL_OF.get(r.minSeverity) ?? 0,
    metricKeys: [...new Set(r.metricKeys)],
    channelIds: [...new Set(r.channelIds)],
    rateLimit: r.rateLimit,
    rateWindowMs: ms(v, "rule.rate_window", r.rateWindow, DEFAULT_RATE_WINDOW_MS),
    dedupWindowMs: ms(v, "rule.dedup_window", r.dedupWindow, 0),
    groupWindowMs: ms(v, "rule.group_window", r.groupWindow, DEFAULT_GROUP_WINDOW_MS),
    template: r.template,
    enabled: r.enabled,
  };
  if (spec.rateLimit > 0 && spec.rateWindowMs === 0) v.push({ field: "rule.rate_window", description: "must be positive when rate_limit is set" });
  return v.length > 0 ? { violations: v } : { spec, violations: v };
}

export function ruleToProto(r: RuleRecord): Rule {
  const s = r.spec;
  return create(RuleSchema, {
    id: r.id,
    name: s.name,
    experimentId: s.experimentId,
    flagKey: s.flagKey,
    owner: s.owner,
    eventTypes: s.eventTypes,
    minSeverity: SEVERITY_OF.get(s.minLevel),
    metricKeys: s.metricKeys,
    channelIds: s.channelIds,
    rateLimit: s.rateLimit,
    rateWindow: durationFromMs(s.rateWindowMs),
    dedupWindow: durationFromMs(s.dedupWindowMs),
    groupWindow: durationFromMs(s.groupWindowMs),
    template: s.template,
    enabled: s.enabled,
    createTime: timestampFromDate(r.createTime),
  });
}
