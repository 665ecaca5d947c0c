import type { Queryable } from "@lotty/platform/db";
import type { AttributableEvent } from "../domain/attribution.js";
import { EXPOSURE_TYPE, type ValidEvent } from "../domain/event-validation.js";
import { arrayLiteral, columnsOf } from "./columns.js";

/**
 * The raw event log (metrics.events): one narrow row per accepted event, whose primary key makes
 * ingestion idempotent. Read back by subject for a late first exposure (what arrived before it,
 * its pre-period), by id for pending events, and by type for percentiles.
 */

interface EventRow {
  event_id: string;
  type: string;
  decision_id: string;
  subject_id: string;
  occur_time: Date;
  value: number | null;
  requires_exposure: boolean;
}

const COLUMNS = "event_id, type, decision_id, subject_id, occur_time, value, requires_exposure";

/**
 * The predicate of the partial index events_subject_idx (migration 003), verbatim, for a query
 * that reads metrics.events as `e` by subject: without it the index cannot serve the query.
 */
export const SUBJECT_INDEXED = `NOT e.requires_exposure AND e.type <> '${EXPOSURE_TYPE}'`;

const toAttributable = (r: EventRow): AttributableEvent => ({
  eventId: r.event_id,
  type: r.type,
  decisionId: r.decision_id,
  subjectId: r.subject_id,
  occurTime: new Date(r.occur_time),
  value: r.value,
  requiresExposure: r.requires_exposure,
});

const UNIQUE_VIOLATION = "23505";

/**
 * Stores events whose ids are distinct within the batch; returns the ids this call inserted (the
 * others were stored before: duplicates). Most batches hold no duplicate, so a plain INSERT is
 * tried first: one primary-key descent per event, where ON CONFLICT first looks every key up and
 * then inserts it speculatively (measured in bench/metrics). A duplicate aborts it; the savepoint
 * takes it back and ON CONFLICT DO NOTHING stores the rest.
 */
export async function insertEvents(tx: Queryable, batch: readonly ValidEvent[]): Promise<Set<string>> {
  // In id order, so two batches repeating ids (even under different subjects) wait on each other in one order.
  const events = [...batch].sort((a, b) => (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0));
  const params = columnsOf(events, (e) => e.eventId, (e) => e.type, (e) => e.decisionId, (e) => e.subjectId, (e) => e.occurTime.getTime(), (e) => e.value, (e) => e.requiresExposure);
  const insert = `INSERT INTO metrics.events (${COLUMNS})
     SELECT e, t, d, s, to_timestamp(ms / 1000), v, r
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::float8[], $7::bool[]) AS u(e, t, d, s, ms, v, r)`;
  await tx.query("SAVEPOINT insert_events");
  try {
    await tx.query(insert, params);
    await tx.query("RELEASE SAVEPOINT insert_events");
    return new Set(events.map((e) => e.eventId));
  } catch (err) {
    if ((err as { code?: unknown }).code !== UNIQUE_VIOLATION) throw err;
    await tx.query("ROLLBACK TO SAVEPOINT insert_events");
  }
  const { rows } = await tx.query<{ event_id: string }>(`${insert} ON CONFLICT (event_id) DO NOTHING RETURNING event_id`, params);
  return new Set(rows.map((r) => r.event_id));
}

/**
 * Stored events of types that need no exposure (exposures excluded), per subject from a time on.
 * LATERAL with OFFSET 0 (here and below): one index lookup per key. Without the fence the planner
 * flattens the subquery into a hash join over a scan of the whole table whenever statistics lag
 * behind a growing table (seen in bench/metrics: the cost grew with every batch).
 */
export async function storedEventsSince(tx: Queryable, reads: readonly { subjectId: string; since: Date }[]): Promise<AttributableEvent[]> {
  if (reads.length === 0) return [];
  const { rows } = await tx.query<EventRow>(
    `SELECT x.* FROM unnest($1::text[], $2::float8[]) AS u(subject_id, ms)
       CROSS JOIN LATERAL (
         SELECT ${COLUMNS} FROM metrics.events e
          WHERE e.subject_id = u.subject_id AND e.occur_time >= to_timestamp(u.ms / 1000) AND ${SUBJECT_INDEXED}
         OFFSET 0) x`,
    columnsOf(reads, (r) => r.subjectId, (r) => r.since.getTime()),
  );
  return rows.map(toAttributable);
}

/** Events of types that require exposure, waiting for it. */
export async function insertPending(tx: Queryable, events: readonly AttributableEvent[]): Promise<void> {
  if (events.length === 0) return;
  await tx.query(
    `INSERT INTO metrics.pending_events (event_id, subject_id, decision_id, received_at)
     SELECT e, s, d, now() FROM unnest($1::text[], $2::text[], $3::text[]) AS t(e, s, d)
     ON CONFLICT (event_id) DO NOTHING`,
    columnsOf(events, (e) => e.eventId, (e) => e.subjectId, (e) => e.decisionId),
  );
}

/**
 * Takes pending events off the waiting list and returns them: those linked to one of these
 * decisions, and those without a decision of these subjects.
 */
export async function releasePending(tx: Queryable, decisionIds: readonly string[], subjects: readonly string[]): Promise<AttributableEvent[]> {
  if (decisionIds.length === 0 && subjects.length === 0) return [];
  // Found through one index lookup per decision and per subject (a plain "= ANY(...) OR ..." over
  // more than 100 ids cannot use the partial decision index and scans the whole table).
  const { rows } = await tx.query<EventRow>(
    `WITH gone AS (
       DELETE FROM metrics.pending_events
        WHERE event_id = ANY(ARRAY(
          SELECT q.event_id FROM unnest($1::text[]) AS d(id)
            CROSS JOIN LATERAL (SELECT event_id FROM metrics.pending_events q WHERE q.decision_id = d.id AND q.decision_id <> '' OFFSET 0) q
          UNION ALL
          SELECT q.event_id FROM unnest($2::text[]) AS s(id)
            CROSS JOIN LATERAL (SELECT event_id FROM metrics.pending_events q WHERE q.subject_id = s.id AND q.decision_id = '' OFFSET 0) q))
        RETURNING event_id)
     SELECT x.* FROM gone CROSS JOIN LATERAL (SELECT ${COLUMNS} FROM metrics.events e WHERE e.event_id = gone.event_id OFFSET 0) x`,
    [arrayLiteral(decisionIds), arrayLiteral(subjects)],
  );
  return rows.map(toAttributable);
}

/** Deletes pending events older than the attribution horizon; they are never counted. */
export async function purgePending(db: Queryable, olderThan: Date): Promise<number> {
  const { rowCount } = await db.query("DELETE FROM metrics.pending_events WHERE received_at < $1", [olderThan]);
  return rowCount;
}
