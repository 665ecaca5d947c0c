import type { Timestamp } from "@bufbuild/protobuf/wkt";
import type {
  AutopilotStepped,
  DataQualityWarning,
  ExperimentStatusChanged,
  GuardrailTriggered,
  ReviewRequested,
  SloBurn,
} from "@lotty/proto/events";
import { Level, type Notice } from "./notice.js";

/** Decoded events this service consumes, tagged by kind. */
export type ConsumedEvent =
  | { kind: "status"; event: ExperimentStatusChanged }
  | { kind: "review"; event: ReviewRequested }
  | { kind: "guardrail"; event: GuardrailTriggered }
  | { kind: "autopilot"; event: AutopilotStepped }
  | { kind: "slo"; event: SloBurn }
  | { kind: "dataQuality"; event: DataQualityWarning };

const BLANK = { experimentId: "", experimentName: "", flagKey: "", owner: "", metricKey: "", variant: "", action: "", sweepId: "" };

function iso(t: Timestamp | undefined, fallback: Date): string {
  if (!t) return fallback.toISOString();
  return new Date(Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6)).toISOString();
}

function label(name: string, id: string): string {
  return name || id || "(unknown experiment)";
}

// Stopping traffic is what people must react to; "paused"/"aborted" and rollbacks are warnings.
const ALARMING_STATUSES = new Set(["paused", "aborted", "stopped", "rolled_back"]);
const STOPPING_AUTOPILOT = new Set(["pause", "rollback"]);
const HARD_GUARDRAIL_ACTIONS = new Set(["pause", "rollback"]);

/** Normalises one consumed event into a Notice; `now` stands in for a missing occur_time. */
export function toNotice(e: ConsumedEvent, now: Date): Notice {
  switch (e.kind) {
    case "status": {
      const s = e.event;
      const name = label(s.experimentName, s.experimentId);
      const warn = ALARMING_STATUSES.has(s.toStatus) || s.outcome === "rollback";
      const extra = [s.outcome && `outcome ${s.outcome}`, s.winningVariant && `winner ${s.winningVariant}`, s.reason && `reason: ${s.reason}`]
        .filter(Boolean)
        .join(", ");
      return {
        ...BLANK,
        eventId: s.eventId,
        eventType: "experiment.status_changed",
        occurTime: iso(s.occurTime, now),
        level: warn ? Level.Warning : Level.Info,
        title: `Experiment ${name} is now ${s.toStatus}`,
        summary: `Experiment ${name}: ${s.fromStatus || "?"} → ${s.toStatus}${extra ? ` (${extra})` : ""}`,
        experimentId: s.experimentId,
        experimentName: s.experimentName,
        flagKey: s.flagKey,
        owner: s.owner,
        action: s.toStatus,
      };
    }
    case "review": {
      const r = e.event;
      const name = label(r.experimentName, r.experimentId);
      return {
        ...BLANK,
        eventId: r.eventId,
        eventType: "experiment.review_requested",
        occurTime: iso(r.occurTime, now),
        level: Level.Info,
        title: `Review requested: ${name}`,
        summary: `Experiment ${name} by ${r.owner || "?"} needs ${r.minApprovals} approval(s)${r.approvers.length ? ` from ${r.approvers.join(", ")}` : ""}`,
        experimentId: r.experimentId,
        experimentName: r.experimentName,
        owner: r.owner,
        action: "review",
      };
    }
    case "guardrail": {
      const g = e.event;
      const name = label(g.experimentName, g.experimentId);
      return {
        ...BLANK,
        eventId: g.eventId,
        eventType: "guardrail.triggered",
        occurTime: iso(g.occurTime, now),
        level: HARD_GUARDRAIL_ACTIONS.has(g.action) ? Level.Critical : Level.Warning,
        title: `Guardrail fired on ${name}: ${g.metricKey}`,
        summary:
          `Experiment ${name}: ${g.metricKey}${g.variant ? ` (variant ${g.variant})` : ""} = ${g.observedValue}, ` +
          `threshold ${g.threshold}; action ${g.action}${g.applied ? " (applied)" : " (not applied)"}`,
        experimentId: g.experimentId,
        experimentName: g.experimentName,
        flagKey: g.flagKey,
        owner: g.owner,
        metricKey: g.metricKey,
        variant: g.variant,
        value: g.observedValue,
        threshold: g.threshold,
        action: g.action,
        sweepId: g.sweepId,
      };
    }
    case "autopilot": {
      const a = e.event;
      const name = label(a.experimentName, a.experimentId);
      const stopped = STOPPING_AUTOPILOT.has(a.action);
      return {
        ...BLANK,
        eventId: a.eventId,
        eventType: stopped ? "autopilot.stopped" : "autopilot.step",
        occurTime: iso(a.occurTime, now),
        level: stopped ? Level.Critical : a.action === "step_back" ? Level.Warning : Level.Info,
        title: `Autopilot ${a.action}: ${name}`,
        summary:
          `Experiment ${name}: autopilot ${a.action}, step ${a.fromStep} → ${a.toStep}, ` +
          `traffic ${Math.round(a.trafficAllocation * 1000) / 10}%${a.reason ? ` (${a.reason})` : ""}`,
        experimentId: a.experimentId,
        experimentName: a.experimentName,
        owner: a.owner,
        value: a.trafficAllocation,
        action: a.action,
      };
    }
    case "slo": {
      const s = e.event;
      return {
        ...BLANK,
        eventId: s.eventId,
        eventType: "slo.burn",
        occurTime: iso(s.occurTime, now),
        level: Level.Critical,
        title: `SLO burning: ${s.slo}`,
        summary:
          `SLO ${s.slo}${s.experimentId ? ` (experiment ${s.experimentId})` : ""}: burn rate ${s.burnRateLong} over ${s.longWindow}, ` +
          `${s.burnRateShort} over ${s.shortWindow}; threshold ${s.threshold}`,
        experimentId: s.experimentId,
        metricKey: s.slo,
        value: s.burnRateLong,
        threshold: s.threshold,
        action: "alert",
      };
    }
    case "dataQuality": {
      const d = e.event;
      return {
        ...BLANK,
        eventId: d.eventId,
        eventType: "data_quality",
        occurTime: iso(d.occurTime, now),
        level: Level.Warning,
        title: `Data quality warning (${d.kind}) on experiment ${d.experimentId}`,
        summary: `Experiment ${d.experimentId}: ${d.kind}: ${d.message}${d.pValue ? ` (p = ${d.pValue})` : ""}`,
        experimentId: d.experimentId,
        metricKey: d.kind,
        value: d.pValue,
        action: "alert",
      };
    }
  }
}
