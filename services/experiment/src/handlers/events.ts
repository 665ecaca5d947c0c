// Builders for the events this service publishes (proto/lotty/events/v1).
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Subjects, publishEvent } from "@lotty/platform/events";
import {
  ExperimentChangedSchema,
  ExperimentStatusChangedSchema,
  FlagChangedSchema,
  ReviewRequestedSchema,
} from "@lotty/proto/events";
import type { Experiment, Flag } from "@lotty/proto/experiment";
import { randomUUID } from "node:crypto";
import { statusName } from "../domain/lifecycle.js";
import type { StoredActor } from "../store/audit.js";
import type { PendingEvent } from "./context.js";

/** `whole`: the flag after a change that is all of this ruleset version (replicas apply it in place). */
export function flagChanged(flagKey: string, change: string, rulesetVersion: bigint, now: Date, whole?: Flag): PendingEvent {
  const eventId = randomUUID();
  const flag = whole && { key: whole.key, valueType: whole.valueType, defaultValue: whole.defaultValue };
  const msg = create(FlagChangedSchema, { eventId, occurTime: timestampFromDate(now), flagKey, change, rulesetVersion, flag });
  return { subject: Subjects.flagChanged, send: (bus) => publishEvent(bus, Subjects.flagChanged, FlagChangedSchema, msg, eventId) };
}

/** Anything else in the ruleset changed: an experiment (id set) or a domain, the policy, an SDK key. */
export function experimentChanged(
  change: string,
  rulesetVersion: bigint,
  now: Date,
  exp?: Pick<Experiment, "id" | "flagKey">,
): PendingEvent {
  const eventId = randomUUID();
  const msg = create(ExperimentChangedSchema, {
    eventId,
    occurTime: timestampFromDate(now),
    experimentId: exp?.id ?? "",
    flagKey: exp?.flagKey ?? "",
    rulesetVersion,
    change,
  });
  return {
    subject: Subjects.experimentChanged,
    send: (bus) => publishEvent(bus, Subjects.experimentChanged, ExperimentChangedSchema, msg, eventId),
  };
}

export interface StatusChange {
  before: Experiment;
  after: Experiment;
  actor: StoredActor;
  reason: string;
  outcome?: string;
  winningVariant?: string;
  rulesetVersion: bigint;
}

export function statusChanged(c: StatusChange, now: Date): PendingEvent {
  const eventId = randomUUID();
  const msg = create(ExperimentStatusChangedSchema, {
    eventId,
    occurTime: timestampFromDate(now),
    experimentId: c.after.id,
    experimentName: c.after.name,
    flagKey: c.after.flagKey,
    owner: c.after.owner,
    fromStatus: statusName(c.before.status),
    toStatus: statusName(c.after.status),
    actor: c.actor,
    reason: c.reason,
    outcome: c.outcome ?? "",
    winningVariant: c.winningVariant ?? "",
    experimentVersion: c.after.version,
    rulesetVersion: c.rulesetVersion,
  });
  return {
    subject: Subjects.experimentStatusChanged,
    send: (bus) => publishEvent(bus, Subjects.experimentStatusChanged, ExperimentStatusChangedSchema, msg, eventId),
  };
}

export function reviewRequested(exp: Experiment, approvers: readonly string[], minApprovals: number, now: Date): PendingEvent {
  const eventId = randomUUID();
  const msg = create(ReviewRequestedSchema, {
    eventId,
    occurTime: timestampFromDate(now),
    experimentId: exp.id,
    experimentName: exp.name,
    owner: exp.owner,
    approvers: [...approvers],
    minApprovals,
  });
  return {
    subject: Subjects.reviewRequested,
    send: (bus) => publishEvent(bus, Subjects.reviewRequested, ReviewRequestedSchema, msg, eventId),
  };
}
