import type { Queryable } from "@lotty/platform/db";

/** Marks an event processed; false when it already was (a redelivery). */
export async function markProcessed(q: Queryable, eventId: string, subject: string, now: Date): Promise<boolean> {
  const { rowCount } = await q.query(
    "INSERT INTO notification.processed_events (event_id, subject, processed_at) VALUES ($1, $2, $3) ON CONFLICT (event_id) DO NOTHING",
    [eventId, subject, now],
  );
  return rowCount > 0;
}

export async function lastSent(q: Queryable, ruleId: string, key: string): Promise<Date | undefined> {
  const { rows } = await q.query<{ sent_at: Date }>("SELECT sent_at FROM notification.dedup_marks WHERE rule_id = $1 AND dedup_key = $2", [ruleId, key]);
  return rows[0] ? new Date(rows[0].sent_at) : undefined;
}

export async function markSent(q: Queryable, ruleId: string, key: string, now: Date): Promise<void> {
  await q.query(
    `INSERT INTO notification.dedup_marks (rule_id, dedup_key, sent_at) VALUES ($1, $2, $3)
     ON CONFLICT (rule_id, dedup_key) DO UPDATE SET sent_at = excluded.sent_at`,
    [ruleId, key, now],
  );
}

/** Serialises intake per rule and channel across replicas, so rate counts and grouping do not race. */
export async function lockRuleChannel(q: Queryable, ruleId: string, channelId: string): Promise<void> {
  await q.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`notification:${ruleId}:${channelId}`]);
}
