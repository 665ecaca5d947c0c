import type { Queryable } from "@lotty/platform/db";
import type { Notice } from "../domain/notice.js";
import type { Cursor } from "./pagination.js";

export type DeliveryStatusName = "pending" | "delivered" | "dead_letter" | "suppressed";

export interface DeliveryRecord {
  id: string;
  ruleId: string;
  channelId: string;
  eventType: string;
  groupKey: string;
  eventIds: string[];
  notices: Notice[];
  template: string;
  status: DeliveryStatusName;
  attempts: number;
  lastError: string;
  createTime: Date;
  openUntil: Date | null;
  nextAttemptAt: Date | null;
  deliverTime: Date | null;
}

interface Row {
  id: string;
  rule_id: string;
  channel_id: string;
  event_type: string;
  group_key: string;
  event_ids: string[];
  items: Notice[];
  template: string;
  status: DeliveryStatusName;
  attempts: number;
  last_error: string;
  create_time: Date;
  open_until: Date | null;
  next_attempt_at: Date | null;
  deliver_time: Date | null;
}

const date = (d: Date | null) => (d === null ? null : new Date(d));

function fromRow(r: Row): DeliveryRecord {
  return {
    id: r.id,
    ruleId: r.rule_id,
    channelId: r.channel_id,
    eventType: r.event_type,
    groupKey: r.group_key,
    eventIds: r.event_ids,
    notices: r.items,
    template: r.template,
    status: r.status,
    attempts: r.attempts,
    lastError: r.last_error,
    createTime: new Date(r.create_time),
    openUntil: date(r.open_until),
    nextAttemptAt: date(r.next_attempt_at),
    deliverTime: date(r.deliver_time),
  };
}

const COLUMNS =
  "id, rule_id, channel_id, event_type, group_key, event_ids, items, template, status, attempts, last_error, create_time, open_until, next_attempt_at, deliver_time";

export async function insertDelivery(q: Queryable, d: DeliveryRecord): Promise<void> {
  await q.query(
    `INSERT INTO notification.deliveries (${COLUMNS})
     VALUES ($1, $2, $3, $4, $5, $6::text[], $7::jsonb, $8, $9, $10, $11, $12, $13, $14, $15)`,
    [
      d.id, d.ruleId, d.channelId, d.eventType, d.groupKey, d.eventIds, JSON.stringify(d.notices), d.template,
      d.status, d.attempts, d.lastError, d.createTime, d.openUntil, d.nextAttemptAt, d.deliverTime,
    ],
  );
}

/** The pending, not yet attempted message that a notice of this group may still join (row-locked). */
export async function lockOpenGroup(q: Queryable, ruleId: string, channelId: string, groupKey: string, now: Date): Promise<string | undefined> {
  const { rows } = await q.query<{ id: string }>(
    `SELECT id FROM notification.deliveries
     WHERE rule_id = $1 AND channel_id = $2 AND group_key = $3 AND status = 'pending'
       AND attempts = 0 AND lease_until IS NULL AND open_until > $4
     ORDER BY create_time LIMIT 1 FOR UPDATE`,
    [ruleId, channelId, groupKey, now],
  );
  return rows[0]?.id;
}

export async function appendToGroup(q: Queryable, id: string, notice: Notice): Promise<void> {
  await q.query(
    `UPDATE notification.deliveries SET event_ids = event_ids || $2::text, items = items || jsonb_build_array($3::jsonb) WHERE id = $1`,
    [id, notice.eventId, JSON.stringify(notice)],
  );
}

/** Messages (not suppressed ones) created for a rule and channel since `since`. */
export async function countRecent(q: Queryable, ruleId: string, channelId: string, since: Date): Promise<number> {
  const { rows } = await q.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM notification.deliveries
     WHERE rule_id = $1 AND channel_id = $2 AND create_time > $3 AND status <> 'suppressed'`,
    [ruleId, channelId, since],
  );
  return rows[0].n;
}

/**
 * Leases due deliveries to this worker. SKIP LOCKED lets replicas claim disjoint rows; the lease
 * makes a delivery whose worker died come due again once it expires.
 */
export async function claimDue(q: Queryable, now: Date, leaseUntil: Date, limit: number, skipChannels: readonly string[]): Promise<DeliveryRecord[]> {
  const { rows } = await q.query<Row>(
    `UPDATE notification.deliveries SET lease_until = $2
     WHERE id IN (
       SELECT id FROM notification.deliveries
       WHERE status = 'pending' AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until < $1)
         AND NOT (channel_id = ANY($4::text[]))
       ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)
     RETURNING ${COLUMNS}`,
    [now, leaseUntil, limit, skipChannels],
  );
  return rows.map(fromRow);
}

export async function nextDueTime(q: Queryable): Promise<Date | undefined> {
  const { rows } = await q.query<{ t: Date | null }>(
    "SELECT min(greatest(next_attempt_at, coalesce(lease_until, next_attempt_at))) AS t FROM notification.deliveries WHERE status = 'pending'",
  );
  return rows[0]?.t ? new Date(rows[0].t) : undefined;
}

export type Completion =
  | { status: "delivered"; at: Date }
  | { status: "pending"; nextAttemptAt: Date; error: string }
  | { status: "dead_letter"; error: string };

export async function completeAttempt(q: Queryable, id: string, c: Completion): Promise<void> {
  await q.query(
    `UPDATE notification.deliveries SET attempts = attempts + 1, lease_until = NULL, status = $2,
       last_error = $3, next_attempt_at = $4, deliver_time = $5
     WHERE id = $1`,
    [
      id,
      c.status,
      c.status === "delivered" ? "" : c.error,
      c.status === "pending" ? c.nextAttemptAt : null,
      c.status === "delivered" ? c.at : null,
    ],
  );
}

/** Puts a dead letter back in the queue with a fresh attempt budget. */
export async function requeue(q: Queryable, id: string, now: Date): Promise<DeliveryRecord | undefined> {
  const { rows } = await q.query<Row>(
    `UPDATE notification.deliveries SET status = 'pending', attempts = 0, next_attempt_at = $2, lease_until = NULL, open_until = NULL
     WHERE id = $1 AND status = 'dead_letter' RETURNING ${COLUMNS}`,
    [id, now],
  );
  return rows[0] && fromRow(rows[0]);
}

export async function getDelivery(q: Queryable, id: string): Promise<DeliveryRecord | undefined> {
  const { rows } = await q.query<Row>(`SELECT ${COLUMNS} FROM notification.deliveries WHERE id = $1`, [id]);
  return rows[0] && fromRow(rows[0]);
}

export interface DeliveryFilter {
  ruleId?: string;
  channelId?: string;
  eventId?: string;
  status?: DeliveryStatusName;
}

/** Newest first. */
export async function listDeliveries(q: Queryable, f: DeliveryFilter, limit: number, before: Cursor | undefined): Promise<DeliveryRecord[]> {
  const { rows } = await q.query<Row>(
    `SELECT ${COLUMNS} FROM notification.deliveries
     WHERE ($1::text IS NULL OR rule_id = $1) AND ($2::text IS NULL OR channel_id = $2)
       AND ($3::text IS NULL OR $3 = ANY(event_ids)) AND ($4::text IS NULL OR status = $4)
       AND ($5::timestamptz IS NULL OR (create_time, id) < ($5::timestamptz, $6::text))
     ORDER BY create_time DESC, id DESC LIMIT $7`,
    [f.ruleId ?? null, f.channelId ?? null, f.eventId ?? null, f.status ?? null, before?.time ?? null, before?.id ?? "", limit],
  );
  return rows.map(fromRow);
}

/** Gives back leases this worker took but will not use now. */
export async function releaseLeases(q: Queryable, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await q.query("UPDATE notification.deliveries SET lease_until = NULL WHERE id = ANY($1::text[])", [ids]);
}
