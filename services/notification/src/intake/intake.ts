import { randomUUID } from "node:crypto";
import type { Db, Queryable } from "@lotty/platform/db";
import type { Logger } from "@lotty/platform/log";
import type { ConsumedEvent } from "../domain/events.js";
import { toNotice } from "../domain/events.js";
import type { Notice } from "../domain/notice.js";
import { dedupKey, groupKey, isDuplicate, rateDecision, ruleMatches } from "../domain/rules.js";
import { existingChannelIds } from "../store/channels.js";
import { appendToGroup, countRecent, insertDelivery, lockOpenGroup, type DeliveryRecord } from "../store/deliveries.js";
import { lastSent, lockRuleChannel, markProcessed, markSent } from "../store/events.js";
import { enabledRules, type RuleRecord } from "../store/rules.js";

/**
 * Turns one event into outbox rows. Everything happens in one transaction with the
 * processed-event mark: either the event is fully decided (pending/suppressed deliveries) and
 * marked, or nothing is and the bus redelivers it.
 */
export function createIntake(deps: { db: Db; logger: Logger; clock: () => Date; onQueued: (due: Date) => void }) {
  return async function intake(subject: string, event: ConsumedEvent): Promise<void> {
    const now = deps.clock();
    const notice = toNotice(event, now);
    if (!notice.eventId) {
      deps.logger.warn({ subject }, "event without event_id dropped");
      return;
    }
    const due = await deps.db.transaction(async (tx) => {
      if (!(await markProcessed(tx, notice.eventId, subject, now))) return [];
      const rules = (await enabledRules(tx)).filter((r) => ruleMatches(r.spec, notice));
      const dues: Date[] = [];
      for (const rule of rules) dues.push(...(await applyRule(tx, rule, notice, now)));
      return dues;
    });
    if (due.length > 0) deps.onQueued(new Date(Math.min(...due.map((d) => d.getTime()))));
  };
}

/** Returns the due times of the messages it queued. */
async function applyRule(tx: Queryable, rule: RuleRecord, notice: Notice, now: Date): Promise<Date[]> {
  const channelIds = [...(await existingChannelIds(tx, rule.spec.channelIds))].sort();
  const key = dedupKey(notice);
  const duplicate = isDuplicate(rule.spec, await lastSent(tx, rule.id, key), now);
  if (!duplicate && rule.spec.dedupWindowMs > 0) await markSent(tx, rule.id, key, now);

  const dues: Date[] = [];
  for (const channelId of channelIds) {
    await lockRuleChannel(tx, rule.id, channelId);
    const base = newDelivery(rule, channelId, notice, now);
    if (duplicate) {
      await insertDelivery(tx, { ...base, status: "suppressed", lastError: `duplicate within dedup window of ${rule.spec.dedupWindowMs / 1000} s` });
      continue;
    }
    const open = await lockOpenGroup(tx, rule.id, channelId, base.groupKey, now);
    if (open) {
      await appendToGroup(tx, open, notice);
      continue;
    }
    const since = new Date(now.getTime() - rule.spec.rateWindowMs);
    const rate = rateDecision(rule.spec, await countRecent(tx, rule.id, channelId, since));
    if (!rate.allowed) {
      await insertDelivery(tx, { ...base, status: "suppressed", lastError: rate.reason });
      continue;
    }
    await insertDelivery(tx, base);
    dues.push(base.nextAttemptAt!);
  }
  return dues;
}

function newDelivery(rule: RuleRecord, channelId: string, notice: Notice, now: Date): DeliveryRecord {
  const due = new Date(now.getTime() + rule.spec.groupWindowMs);
  return {
    id: randomUUID(),
    ruleId: rule.id,
    channelId,
    eventType: notice.eventType,
    groupKey: groupKey(notice),
    eventIds: [notice.eventId],
    notices: [notice],
    template: rule.spec.template,
    status: "pending",
    attempts: 0,
    lastError: "",
    createTime: now,
    openUntil: rule.spec.groupWindowMs > 0 ? due : null,
    nextAttemptAt: due,
    deliverTime: null,
  };
}
