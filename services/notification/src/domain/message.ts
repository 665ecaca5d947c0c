import { EVENT_TYPES, type Message, type Notice } from "./notice.js";

export const TEMPLATE_FIELDS = ["title", "summary", "experiment", "metric", "value", "threshold", "action"] as const;
const PLACEHOLDER = /\{\{\s*([a-z_]+)\s*\}\}/g;

/** Placeholder names in a template that are not known fields (empty = valid template). */
export function unknownPlaceholders(template: string): string[] {
  const known = new Set<string>(TEMPLATE_FIELDS);
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1]).filter((f) => !known.has(f));
}

function fieldValue(n: Notice, field: string): string {
  switch (field) {
    case "title":
      return n.title;
    case "summary":
      return n.summary;
    case "experiment":
      return n.experimentName || n.experimentId;
    case "metric":
      return n.metricKey;
    case "value":
      return n.value === undefined ? "" : String(n.value);
    case "threshold":
      return n.threshold === undefined ? "" : String(n.threshold);
    case "action":
      return n.action;
    default:
      return "";
  }
}

export function renderTemplate(template: string, n: Notice): string {
  return template.replace(PLACEHOLDER, (_, field: string) => fieldValue(n, field));
}

const PLURAL: Record<(typeof EVENT_TYPES)[number], string> = {
  "experiment.status_changed": "experiment status changes",
  "experiment.review_requested": "review requests",
  "guardrail.triggered": "guardrail firings",
  "autopilot.step": "autopilot steps",
  "autopilot.stopped": "autopilot stops",
  "slo.burn": "SLO burn alerts",
  data_quality: "data-quality warnings",
};

/** One message from notices of one kind (one notice = its own title; more = a list). */
export function buildMessage(notices: readonly Notice[], template = ""): Message {
  if (notices.length === 0) throw new Error("buildMessage: no notices");
  const first = notices[0];
  const sweep = first.sweepId && notices.every((n) => n.sweepId === first.sweepId) ? ` (sweep ${first.sweepId})` : "";
  return {
    eventType: first.eventType,
    title: notices.length === 1 ? first.title : `${notices.length} ${PLURAL[first.eventType]}${sweep}`,
    level: Math.max(...notices.map((n) => n.level)),
    lines: notices.map((n) => (template ? renderTemplate(template, n) : n.summary)),
    notices: [...notices],
  };
}

/** The message TestChannel sends. */
export function testMessage(now: Date): Message {
  return buildMessage([
    {
      eventId: `test-${now.getTime()}`,
      eventType: "experiment.status_changed",
      occurTime: now.toISOString(),
      level: 1,
      title: "Lotty test message",
      summary: "This channel is set up correctly.",
      experimentId: "",
      experimentName: "",
      flagKey: "",
      owner: "",
      metricKey: "",
      variant: "",
      action: "test",
      sweepId: "",
    },
  ]);
}
