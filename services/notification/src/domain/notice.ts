/**
 * The one message model inside the service: every consumed event becomes a Notice, every channel
 * renders Notices. Pure: no I/O.
 */

export const EVENT_TYPES = [
  "experiment.status_changed",
  "experiment.review_requested",
  "guardrail.triggered",
  "autopilot.step",
  "autopilot.stopped",
  "slo.burn",
  "data_quality",
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

export function isEventType(s: string): s is EventType {
  return (EVENT_TYPES as readonly string[]).includes(s);
}

/** Ordered like the proto enum, so "at least" is a numeric comparison. */
export enum Level {
  Info = 1,
  Warning = 2,
  Critical = 3,
}

export const LEVEL_NAMES: Record<Level, string> = { [Level.Info]: "info", [Level.Warning]: "warning", [Level.Critical]: "critical" };

/** One event, normalised. Stored as JSON in the outbox, so only plain values. */
export interface Notice {
  eventId: string;
  eventType: EventType;
  /** ISO time the event occurred. */
  occurTime: string;
  level: Level;
  title: string;
  summary: string;
  experimentId: string;
  experimentName: string;
  flagKey: string;
  owner: string;
  metricKey: string;
  variant: string;
  value?: number;
  threshold?: number;
  action: string;
  /** Guardrail firings of one sweep share it; they are grouped into one message. */
  sweepId: string;
}

/** A message as channels see it: one or more notices of one kind. */
export interface Message {
  eventType: EventType;
  title: string;
  level: Level;
  /** Plain-text lines, one per notice (after the rule's template, if any). */
  lines: string[];
  notices: Notice[];
}
