import type { Db, Queryable } from "@lotty/platform/db";
import {
  RollupAccumulator,
  attributionTargets,
  utcDay,
  type AttributableEvent,
  type ExposureRef,
} from "../domain/attribution.js";
import { EXPOSURE_TYPE, type ValidEvent } from "../domain/event-validation.js";

export interface IngestOutcome {
  accepted: number;
  duplicates: number;
}

interface StoredEventRow {
  event_id: string;
  type: string;
  decision_id: string;
  subject_id: string;
  occur_time: Date;
  value: number | null;
  requires_exposure: boolean;
}

const toAttributable = (r: StoredEventRow): AttributableEvent => ({
  eventId: r.event_id,
  type: r.type,
  decisionId: r.decision_id,
  subjectId: r.subject_id,
  occurTime: new Date(r.occur_time),
  value: r.value,
  requiresExposure: r.requires_exposure,
});

/**
 * Stores a batch of valid events in one transaction. Idempotency is the events primary key:
 * only rows this call inserted (RETURNING) are counted, so a duplicate is never counted twice,
 * across restarts and replicas alike. Per-subject advisory locks serialise an event and the
 * exposure it waits for, so neither can miss the other when they arrive at once on two replicas.
 */
export async function ingestEvents(db: Db, events: readonly ValidEvent[]): Promise<IngestOutcome> {
  if (events.length === 0) return { accepted: 0, duplicates: 0 };
  return db.transaction(async (tx) => {
    await lockSubjects(tx, events.map((e) => e.subjectId));
    const inserted = await insertEvents(tx, events);
    const fresh = firstOccurrences(events).filter((e) => inserted.has(e.eventId));
    const acc = new RollupAccumulator();

    // Events of this batch are attributed below; the exposure backlog must not count them too.
    const batchIds = fresh.map((e) => e.eventId);
    const daily = new Map<string, number>();
    for (const e of fresh.filter((e) => e.type === EXPOSURE_TYPE)) await recordExposure(tx, e, acc, daily, batchIds);
    await addExposureDaily(tx, daily);

    const others = fresh.filter((e) => e.type !== EXPOSURE_TYPE);
    if (others.length > 0) {
      const exposures = await exposuresOf(tx, others.map((e) => e.subjectId));
      const decisions = await decisionExperiments(tx, others.map((e) => e.decisionId).filter((d) => d !== ""));
      const pending: ValidEvent[] = [];
      for (const e of others) {
        const { targets, pending: waits } = attributionTargets(e, exposures, decisions.get(e.decisionId));
        targets.forEach((x) => acc.add(x, e));
        if (waits) pending.push(e);
      }
      await insertPending(tx, pending);
      await upsertSubjectDaily(tx, others.filter((e) => !e.requiresExposure));
    }
    await upsertRollups(tx, acc);
    return { accepted: fresh.length, duplicates: events.length - fresh.length };
  });
}

/** Deletes pending events older than the attribution horizon; they are never counted. */
export async function purgePending(db: Queryable, olderThan: Date): Promise<number> {
  const { rowCount } = await db.query("DELETE FROM metrics.pending_events WHERE received_at < $1", [olderThan]);
  return rowCount;
}

async function lockSubjects(tx: Queryable, subjects: string[]): Promise<void> {
  // Sorted, so two batches sharing subjects take the locks in the same order (no deadlock).
  const sorted = [...new Set(subjects)].sort();
  await tx.query(
    `SELECT pg_advisory_xact_lock(hashtextextended('lotty.metrics.subject:' || s, 0))
       FROM unnest($1::text[]) AS t(s)`,
    [sorted],
  );
}

async function insertEvents(tx: Queryable, batch: readonly ValidEvent[]): Promise<Set<string>> {
  // In id order, so two batches repeating ids (even under different subjects) wait on each other in one order.
  const events = [...batch].sort((a, b) => (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0));
  const { rows } = await tx.query<{ event_id: string }>(
    `INSERT INTO metrics.events
       (event_id, type, decision_id, subject_id, occur_time, value, requires_exposure, experiment_id, variant)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::float8[],
                          $7::bool[], $8::text[], $9::text[])
     ON CONFLICT (event_id) DO NOTHING
     RETURNING event_id`,
    [
      events.map((e) => e.eventId),
      events.map((e) => e.type),
      events.map((e) => e.decisionId),
      events.map((e) => e.subjectId),
      events.map((e) => e.occurTime.toISOString()),
      events.map((e) => e.value),
      events.map((e) => e.requiresExposure),
      events.map((e) => e.experimentId),
      events.map((e) => e.variant),
    ],
  );
  return new Set(rows.map((r) => r.event_id));
}

/** A batch may repeat an event id; the first occurrence is the one stored. */
function firstOccurrences(events: readonly ValidEvent[]): ValidEvent[] {
  const seen = new Set<string>();
  return events.filter((e) => !seen.has(e.eventId) && seen.add(e.eventId));
}

/**
 * One exposure: counts it, records its decision, and when it is the subject's first exposure to
 * the experiment, attributes what was waiting for it (pending events, and events of types that
 * need no exposure that happened after it but arrived before it).
 */
async function recordExposure(
  tx: Queryable,
  e: ValidEvent,
  acc: RollupAccumulator,
  daily: Map<string, number>,
  batchIds: string[],
): Promise<void> {
  const created = await tx.query<{ variant: string }>(
    `INSERT INTO metrics.exposures (experiment_id, subject_id, variant, decision_id, first_at)
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (experiment_id, subject_id) DO NOTHING RETURNING variant`,
    [e.experimentId, e.subjectId, e.variant, e.decisionId, e.occurTime.toISOString()],
  );
  const { rows } =
    created.rowCount > 0
      ? { rows: [{ variant: e.variant, first_at: e.occurTime }] }
      : await tx.query<{ variant: string; first_at: Date }>(
          `UPDATE metrics.exposures SET exposures = exposures + 1 WHERE experiment_id = $1 AND subject_id = $2
           RETURNING variant, first_at`,
          [e.experimentId, e.subjectId],
        );
  const exposure: ExposureRef = { experimentId: e.experimentId, subjectId: e.subjectId, variant: rows[0].variant, firstAt: new Date(rows[0].first_at) };
  const dailyKey = JSON.stringify([e.experimentId, exposure.variant, utcDay(e.occurTime)]);
  daily.set(dailyKey, (daily.get(dailyKey) ?? 0) + 1);
  let newDecision = false;
  if (e.decisionId !== "") {
    const d = await tx.query(
      `INSERT INTO metrics.decisions (decision_id, experiment_id, subject_id) VALUES ($1, $2, $3)
       ON CONFLICT (decision_id) DO NOTHING RETURNING decision_id`,
      [e.decisionId, e.experimentId, e.subjectId],
    );
    newDecision = d.rowCount > 0;
  }
  if (!newDecision && created.rowCount === 0) return;

  // Pending events linked to this decision, or (first exposure only) to this subject without a decision.
  const waiting = await tx.query<StoredEventRow>(
    `WITH gone AS (
       DELETE FROM metrics.pending_events
        WHERE ($1::text <> '' AND decision_id = $1::text) OR ($3::bool AND subject_id = $2 AND decision_id = '')
        RETURNING event_id)
     SELECT ev.* FROM metrics.events ev JOIN gone USING (event_id)`,
    [e.decisionId, e.subjectId, created.rowCount > 0],
  );
  waiting.rows.forEach((r) => acc.add(exposure, toAttributable(r)));
  if (created.rowCount === 0) return;

  const earlier = await tx.query<StoredEventRow>(
    `SELECT * FROM metrics.events
      WHERE subject_id = $1 AND NOT requires_exposure AND type <> $2 AND occur_time >= $3
        AND event_id <> ALL($4::text[])`,
    [e.subjectId, EXPOSURE_TYPE, exposure.firstAt.toISOString(), batchIds],
  );
  earlier.rows.forEach((r) => acc.add(exposure, toAttributable(r)));
}

/**
 * Per-variant daily counters are shared by every subject, so they are updated once per batch in
 * key order: two batches then lock those rows in the same order and cannot deadlock.
 */
async function addExposureDaily(tx: Queryable, daily: Map<string, number>): Promise<void> {
  if (daily.size === 0) return;
  const rows = [...daily.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, n]) => [...(JSON.parse(k) as string[]), n] as const);
  await tx.query(
    `INSERT INTO metrics.exposure_daily (experiment_id, variant, day, exposures)
     SELECT * FROM unnest($1::text[], $2::text[], $3::date[], $4::bigint[])
     ON CONFLICT (experiment_id, variant, day) DO UPDATE SET exposures = metrics.exposure_daily.exposures + excluded.exposures`,
    [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2]), rows.map((r) => r[3])],
  );
}

async function exposuresOf(tx: Queryable, subjects: string[]): Promise<ExposureRef[]> {
  const { rows } = await tx.query<{ experiment_id: string; subject_id: string; variant: string; first_at: Date }>(
    `SELECT experiment_id, subject_id, variant, first_at FROM metrics.exposures WHERE subject_id = ANY($1::text[])`,
    [[...new Set(subjects)]],
  );
  return rows.map((r) => ({ experimentId: r.experiment_id, subjectId: r.subject_id, variant: r.variant, firstAt: new Date(r.first_at) }));
}

async function decisionExperiments(tx: Queryable, decisionIds: string[]): Promise<Map<string, string>> {
  if (decisionIds.length === 0) return new Map();
  const { rows } = await tx.query<{ decision_id: string; experiment_id: string }>(
    `SELECT decision_id, experiment_id FROM metrics.decisions WHERE decision_id = ANY($1::text[])`,
    [[...new Set(decisionIds)]],
  );
  return new Map(rows.map((r) => [r.decision_id, r.experiment_id]));
}

async function insertPending(tx: Queryable, events: ValidEvent[]): Promise<void> {
  if (events.length === 0) return;
  await tx.query(
    `INSERT INTO metrics.pending_events (event_id, subject_id, decision_id, received_at)
     SELECT e, s, d, now() FROM unnest($1::text[], $2::text[], $3::text[]) AS t(e, s, d)
     ON CONFLICT (event_id) DO NOTHING`,
    [events.map((e) => e.eventId), events.map((e) => e.subjectId), events.map((e) => e.decisionId)],
  );
}

async function upsertSubjectDaily(tx: Queryable, events: ValidEvent[]): Promise<void> {
  const rows = new Map<string, { subject: string; type: string; day: string; count: number; sum: number }>();
  for (const e of events) {
    const day = utcDay(e.occurTime);
    const key = JSON.stringify([e.type, e.subjectId, day]);
    const row = rows.get(key) ?? { subject: e.subjectId, type: e.type, day, count: 0, sum: 0 };
    row.count += 1;
    row.sum += e.value ?? 0;
    rows.set(key, row);
  }
  if (rows.size === 0) return;
  const all = [...rows.values()];
  await tx.query(
    `INSERT INTO metrics.subject_daily (subject_id, event_type, day, count, sum)
     SELECT * FROM unnest($1::text[], $2::text[], $3::date[], $4::bigint[], $5::float8[])
     ON CONFLICT (event_type, subject_id, day) DO UPDATE
       SET count = metrics.subject_daily.count + excluded.count, sum = metrics.subject_daily.sum + excluded.sum`,
    [all.map((r) => r.subject), all.map((r) => r.type), all.map((r) => r.day), all.map((r) => r.count), all.map((r) => r.sum)],
  );
}

async function upsertRollups(tx: Queryable, acc: RollupAccumulator): Promise<void> {
  const d = acc.deltas();
  if (d.length === 0) return;
  await tx.query(
    `INSERT INTO metrics.subject_rollups
       (experiment_id, variant, subject_id, event_type, day, count, sum, sum_sq, first_at)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::date[], $6::bigint[], $7::float8[],
                          $8::float8[], $9::timestamptz[])
     ON CONFLICT (experiment_id, event_type, subject_id, day) DO UPDATE SET
       count = metrics.subject_rollups.count + excluded.count,
       sum = metrics.subject_rollups.sum + excluded.sum,
       sum_sq = metrics.subject_rollups.sum_sq + excluded.sum_sq,
       first_at = least(metrics.subject_rollups.first_at, excluded.first_at)`,
    [
      d.map((r) => r.experimentId),
      d.map((r) => r.variant),
      d.map((r) => r.subjectId),
      d.map((r) => r.eventType),
      d.map((r) => r.day),
      d.map((r) => r.count),
      d.map((r) => r.sum),
      d.map((r) => r.sumSq),
      d.map((r) => r.firstAt.toISOString()),
    ],
  );
}
