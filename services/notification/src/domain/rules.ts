import { Level, type EventType, type Notice } from "./notice.js";

/** A rule as stored (durations in milliseconds). */
export interface RuleSpec {
  name: string;
  experimentId: string;
  flagKey: string;
  owner: string;
  /** Empty = all event types. */
  eventTypes: EventType[];
  /** 0 = any severity. */
  minLevel: Level | 0;
  /** Empty = any metric. */
  metricKeys: string[];
  channelIds: string[];
  /** Messages per channel per rateWindowMs; 0 = unlimited. */
  rateLimit: number;
  rateWindowMs: number;
  /** 0 = no dedup. */
  dedupWindowMs: number;
  /** 0 = send each event on its own, at once. */
  groupWindowMs: number;
  template: string;
  enabled: boolean;
}

export const DEFAULT_GROUP_WINDOW_MS = 10_000;
export const DEFAULT_RATE_WINDOW_MS = 60 * 60_000;

/** Every non-empty filter of the rule must accept the notice. */
export function ruleMatches(rule: RuleSpec, n: Notice): boolean {
  if (!rule.enabled) return false;
  if (rule.eventTypes.length > 0 && !rule.eventTypes.includes(n.eventType)) return false;
  if (rule.experimentId && rule.experimentId !== n.experimentId) return false;
  if (rule.flagKey && rule.flagKey !== n.flagKey) return false;
  if (rule.owner && rule.owner !== n.owner) return false;
  if (rule.minLevel && n.level < rule.minLevel) return false;
  if (rule.metricKeys.length > 0 && !rule.metricKeys.includes(n.metricKey)) return false;
  return true;
}

/**
 * "The same message again": event type, experiment and metric, plus what the event says happened
 * (a status change to "paused" then to "running" are two different messages, not a duplicate).
 */
export function dedupKey(n: Notice): string {
  return JSON.stringify([n.eventType, n.experimentId, n.metricKey, n.variant, n.action]);
}

/**
 * Notices with the same group key arriving within the group window share one message: events of
 * one kind, and for guardrails only firings of the same sweep.
 */
export function groupKey(n: Notice): string {
  return JSON.stringify([n.eventType, n.sweepId]);
}

export type RateDecision = { allowed: true } | { allowed: false; reason: string };

/** `recent` = messages already sent or queued for this rule and channel within the rate window. */
export function rateDecision(rule: Pick<RuleSpec, "rateLimit" | "rateWindowMs">, recent: number): RateDecision {
  if (rule.rateLimit <= 0 || recent < rule.rateLimit) return { allowed: true };
  return { allowed: false, reason: `rate limit: ${rule.rateLimit} message(s) per ${rule.rateWindowMs / 1000} s reached` };
}

/** True while an earlier message with the same dedup key is inside the rule's window. */
export function isDuplicate(rule: Pick<RuleSpec, "dedupWindowMs">, lastSent: Date | undefined, now: Date): boolean {
  return rule.dedupWindowMs > 0 && lastSent !== undefined && now.getTime() - lastSent.getTime() < rule.dedupWindowMs;
}
