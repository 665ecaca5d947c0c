import type { Db, Queryable } from "@lotty/platform/db";
import {
  CUPED_PRE_PERIOD_S,
  RollupAccumulator,
  attributionTargets,
  inPrePeriod,
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
 * Every step is one statement for the whole batch (round trips, not rows, bound the cost).
 */
export async function ingestEvents(db: Db, events: readonly ValidEvent[]): Promise<IngestOutcome> {
  if (events.length === 0) return { accepted: 0, duplicates: 0 };
  return db.transaction(async (tx) => {
    await lockSubjects(tx, events.map((e) => e.subjectId));
    // Read before this batch is stored, so it does not read its own events back.
    const stored = await storedAfterExposure(tx, events.filter((e) => e.type === EXPOSURE_TYPE));
    const inserted = await insertEvents(tx, events);
    const fresh = firstOccurrences(events).filter((e) => inserted.has(e.eventId));
    const acc = new RollupAccumulator();
    const daily = new Map<string, { exposures: number; subjects: number }>();

    const exposureEvents = fresh.filter((e) => e.type === EXPOSURE_TYPE);
    if (exposureEvents.length > 0) await recordExposures(tx, exposureEvents, acc, daily, stored);

    const others = fresh.filter((e) => e.type !== EXPOSURE_TYPE);
    if (others.length > 0) {
      const exposures = await exposuresOf(tx, others.map((e) => e.subjectId));
      const decisions = await decisionExperiments(tx, others.map((e) => e.decisionId).filter((d) => d !== ""));
      const pending: ValidEvent[] = [];
      for (const e of others) {
        const { targets, pending: waits } = attributionTargets(e, exposures, decisions.get(e.decisionId));
        targets.forEach((x) => acc.add(x, e));
        if (waits) pending.push(e);
        // The covariate: activity of types that need no exposure in each exposure's pre-period.
        if (!e.requiresExposure) for (const x of exposures) if (x.subjectId === e.subjectId && inPrePeriod(x, e.occurTime, PRE_PERIOD_MS)) acc.addPre(x, e);
      }
      await insertPending(tx, pending);
      await upsertSubjectDaily(tx, others.filter((e) => !e.requiresExposure));
    }
    await upsertRollups(tx, acc);
    await markEventDays(tx, acc);
    // Rows shared by all subjects last, each table in key order: short lock holds, no deadlocks.
    await addExposureDaily(tx, daily);
    await applySubjectTotals(tx, acc);
    return { accepted: fresh.length, duplicates: events.length - fresh.length };
  });
}

const PRE_PERIOD_MS = CUPED_PRE_PERIOD_S * 1000;

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

const key = (...parts: string[]) => JSON.stringify(parts);

interface ExposureRow {
  experiment_id: string;
  subject_id: string;
  variant: string;
  first_at: Date;
}

const toRef = (r: ExposureRow): ExposureRef => ({ experimentId: r.experiment_id, subjectId: r.subject_id, variant: r.variant, firstAt: new Date(r.first_at) });

/**
 * A batch of exposures: counts them, records their decisions, and for each subject's first
 * exposure to an experiment fixes variant and time, then attributes what was waiting for it
 * (pending events, and events of types that need no exposure that happened after it but arrived
 * before it) and reads its pre-period covariate. `stored` holds those candidates stored before
 * this batch; the caller attributes the batch's own events.
 */
async function recordExposures(
  tx: Queryable,
  exposures: ValidEvent[],
  acc: RollupAccumulator,
  daily: Map<string, { exposures: number; subjects: number }>,
  stored: StoredEventRow[],
): Promise<void> {
  // The first exposure in batch order wins, as if they had arrived one by one.
  const created = await tx.query<ExposureRow>(
    `INSERT INTO metrics.exposures (experiment_id, subject_id, variant, decision_id, first_at)
     SELECT x, s, v, d, t FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[]) WITH ORDINALITY AS u(x, s, v, d, t, i)
      ORDER BY i
     ON CONFLICT (experiment_id, subject_id) DO NOTHING RETURNING experiment_id, subject_id, variant, first_at`,
    [exposures.map((e) => e.experimentId), exposures.map((e) => e.subjectId), exposures.map((e) => e.variant), exposures.map((e) => e.decisionId), exposures.map((e) => e.occurTime.toISOString())],
  );
  const firsts = created.rows.map(toRef);
  const refs = new Map(firsts.map((x) => [key(x.experimentId, x.subjectId), x]));

  // Exposures after the first only add to the subject's exposure count.
  const repeats = new Map<string, number>();
  const counted = new Set<string>();
  for (const e of exposures) {
    const k = key(e.experimentId, e.subjectId);
    if (refs.has(k) && !counted.has(k)) counted.add(k);
    else repeats.set(k, (repeats.get(k) ?? 0) + 1);
  }
  if (repeats.size > 0) {
    const keys = [...repeats.keys()].sort();
    const pairs = keys.map((k) => JSON.parse(k) as [string, string]);
    const updated = await tx.query<ExposureRow>(
      `UPDATE metrics.exposures x SET exposures = x.exposures + u.n
         FROM unnest($1::text[], $2::text[], $3::bigint[]) AS u(e, s, n)
        WHERE x.experiment_id = u.e AND x.subject_id = u.s
        RETURNING x.experiment_id, x.subject_id, x.variant, x.first_at`,
      [pairs.map((p) => p[0]), pairs.map((p) => p[1]), keys.map((k) => repeats.get(k))],
    );
    for (const r of updated.rows) if (!refs.has(key(r.experiment_id, r.subject_id))) refs.set(key(r.experiment_id, r.subject_id), toRef(r));
  }

  const bump = (k: string, exposures: number, subjects: number) => {
    const d = daily.get(k) ?? { exposures: 0, subjects: 0 };
    d.exposures += exposures;
    d.subjects += subjects;
    daily.set(k, d);
  };
  for (const e of exposures) bump(key(e.experimentId, refs.get(key(e.experimentId, e.subjectId))!.variant, utcDay(e.occurTime)), 1, 0);
  for (const x of firsts) bump(key(x.experimentId, x.variant, utcDay(x.firstAt)), 0, 1);

  const withDecision = exposures.filter((e) => e.decisionId !== "");
  const newDecisions = new Map<string, ExposureRef>();
  if (withDecision.length > 0) {
    const d = await tx.query<{ decision_id: string }>(
      `INSERT INTO metrics.decisions (decision_id, experiment_id, subject_id)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT (decision_id) DO NOTHING RETURNING decision_id`,
      [withDecision.map((e) => e.decisionId), withDecision.map((e) => e.experimentId), withDecision.map((e) => e.subjectId)],
    );
    const byDecision = new Map(withDecision.map((e) => [e.decisionId, refs.get(key(e.experimentId, e.subjectId))!]));
    for (const r of d.rows) newDecisions.set(r.decision_id, byDecision.get(r.decision_id)!);
  }
  if (newDecisions.size === 0 && firsts.length === 0) return;

  const firstsOf = new Map<string, ExposureRef[]>();
  for (const x of firsts) firstsOf.set(x.subjectId, [...(firstsOf.get(x.subjectId) ?? []), x]);

  // Pending events linked to a new decision, or (first exposure) to the subject without a decision.
  const waiting = await tx.query<StoredEventRow>(
    `WITH gone AS (
       DELETE FROM metrics.pending_events
        WHERE decision_id = ANY($1::text[]) OR (decision_id = '' AND subject_id = ANY($2::text[]))
        RETURNING event_id)
     SELECT ev.* FROM metrics.events ev JOIN gone USING (event_id)`,
    [[...newDecisions.keys()], [...firstsOf.keys()]],
  );
  for (const r of waiting.rows) {
    const targets = r.decision_id !== "" ? [newDecisions.get(r.decision_id)!] : (firstsOf.get(r.subject_id) ?? []);
    targets.forEach((x) => acc.add(x, toAttributable(r)));
  }
  if (firsts.length === 0) return;

  for (const r of stored) {
    const e = toAttributable(r);
    for (const x of firstsOf.get(r.subject_id) ?? []) if (e.occurTime >= x.firstAt) acc.add(x, e);
  }
  await readPrePeriods(tx, firsts, acc);
}

/**
 * Events of types that need no exposure, stored for the subjects of these exposures from the
 * earliest exposure time on: what a first exposure attributes that arrived before it.
 */
async function storedAfterExposure(tx: Queryable, exposures: ValidEvent[]): Promise<StoredEventRow[]> {
  if (exposures.length === 0) return [];
  const { rows } = await tx.query<StoredEventRow>(
    `SELECT x.* FROM unnest($1::text[]) AS s(subject_id)
       CROSS JOIN LATERAL (SELECT * FROM metrics.events e
                            WHERE e.subject_id = s.subject_id AND e.occur_time >= $3 AND NOT e.requires_exposure AND e.type <> $2) x`,
    [[...new Set(exposures.map((e) => e.subjectId))], EXPOSURE_TYPE, new Date(Math.min(...exposures.map((e) => e.occurTime.getTime()))).toISOString()],
  );
  return rows;
}

/** Stored pre-period activity of new exposures (this batch's own events are added by the caller). */
async function readPrePeriods(tx: Queryable, firsts: ExposureRef[], acc: RollupAccumulator): Promise<void> {
  const { rows } = await tx.query<{ i: number; event_type: string; cnt: number; sum: number }>(
    `SELECT u.i::int AS i, d.event_type, sum(d.count)::float8 AS cnt, sum(d.sum)::float8 AS sum
       FROM unnest($1::text[], $2::date[], $3::date[]) WITH ORDINALITY AS u(s, lo, hi, i)
       -- LATERAL + = ANY: index lookups per subject, never a scan of the whole table.
       CROSS JOIN LATERAL (
         SELECT d.event_type, d.count, d.sum FROM metrics.subject_daily d
          WHERE d.event_type = ANY(ARRAY(SELECT key FROM metrics.event_types WHERE NOT requires_exposure AND key <> $4))
            AND d.subject_id = u.s AND d.day >= u.lo AND d.day < u.hi) d
      GROUP BY 1, 2`,
    [firsts.map((x) => x.subjectId), firsts.map((x) => utcDay(new Date(x.firstAt.getTime() - PRE_PERIOD_MS))), firsts.map((x) => utcDay(x.firstAt)), EXPOSURE_TYPE],
  );
  for (const r of rows) acc.addPreTotals(firsts[Number(r.i) - 1], r.event_type, Number(r.cnt), Number(r.sum));
}

/**
 * Per-variant daily counters are shared by every subject, so they are updated once per batch in
 * key order: two batches then lock those rows in the same order and cannot deadlock.
 */
async function addExposureDaily(tx: Queryable, daily: Map<string, { exposures: number; subjects: number }>): Promise<void> {
  if (daily.size === 0) return;
  const keys = [...daily.keys()].sort();
  const rows = keys.map((k) => JSON.parse(k) as [string, string, string]);
  await tx.query(
    `INSERT INTO metrics.exposure_daily (experiment_id, variant, day, exposures, subjects)
     SELECT * FROM unnest($1::text[], $2::text[], $3::date[], $4::bigint[], $5::bigint[])
     ON CONFLICT (experiment_id, variant, day) DO UPDATE
       SET exposures = metrics.exposure_daily.exposures + excluded.exposures, subjects = metrics.exposure_daily.subjects + excluded.subjects`,
    [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2]), keys.map((k) => daily.get(k)!.exposures), keys.map((k) => daily.get(k)!.subjects)],
  );
}

/** Days with attributed events per experiment (a report checks whether its window cuts any). */
async function markEventDays(tx: Queryable, acc: RollupAccumulator): Promise<void> {
  const days = [...new Set(acc.deltas().map((d) => key(d.experimentId, d.day)))].sort().map((k) => JSON.parse(k) as [string, string]);
  if (days.length === 0) return;
  await tx.query(
    `INSERT INTO metrics.experiment_event_days (experiment_id, day)
     SELECT * FROM unnest($1::text[], $2::date[]) ON CONFLICT DO NOTHING`,
    [days.map((d) => d[0]), days.map((d) => d[1])],
  );
}

/**
 * Per-subject contribution to each variant_day_stats column, from one subject's values (columns
 * named with prefix t): c = cnt, s = sum, pc = pre_cnt, ps = pre_sum.
 */
const CONTRIBUTIONS: [column: string, expr: (t: string) => string][] = [
  ["subjects", (t) => `(${t}cnt > 0)::int`],
  ["cnt", (t) => `${t}cnt`],
  ["cnt2", (t) => `${t}cnt * ${t}cnt`],
  ["sum", (t) => `${t}sum`],
  ["sum2", (t) => `${t}sum * ${t}sum`],
  ["cnt_sum", (t) => `${t}cnt * ${t}sum`],
  ["pre_subjects", (t) => `(${t}pre_cnt > 0)::int`],
  ["pre_conv", (t) => `(${t}pre_cnt > 0 AND ${t}cnt > 0)::int`],
  ["pre_cnt", (t) => `${t}pre_cnt`],
  ["pre_cnt2", (t) => `${t}pre_cnt * ${t}pre_cnt`],
  ["pre_cnt_cnt", (t) => `${t}pre_cnt * ${t}cnt`],
  ["pre_sum", (t) => `${t}pre_sum`],
  ["pre_sum2", (t) => `${t}pre_sum * ${t}pre_sum`],
  ["pre_sum_sum", (t) => `${t}pre_sum * ${t}sum`],
];
const STAT_COLUMNS = CONTRIBUTIONS.map(([c]) => c);

/**
 * The old row is the new one minus the delta (read back from RETURNING, never by a second lookup
 * that the planner may turn into a scan of the whole table). Counts are integers in float8, so
 * exact; sums may differ from a recomputation by rounding in the last bits.
 */
const APPLY_TOTALS_SQL = `
  WITH d AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::date[], $6::float8[], $7::float8[], $8::float8[], $9::float8[])
      AS d(experiment_id, event_type, subject_id, variant, cohort_day, cnt, sum, pre_cnt, pre_sum)
  ), up AS (
    INSERT INTO metrics.subject_totals AS t (experiment_id, event_type, subject_id, variant, cohort_day, cnt, sum, pre_cnt, pre_sum)
    SELECT * FROM d
    ON CONFLICT (experiment_id, event_type, subject_id) DO UPDATE SET
      cnt = t.cnt + excluded.cnt, sum = t.sum + excluded.sum, pre_cnt = t.pre_cnt + excluded.pre_cnt, pre_sum = t.pre_sum + excluded.pre_sum
    RETURNING t.*
  ), pair AS (
    SELECT n.experiment_id, n.event_type, n.variant, n.cohort_day,
           n.cnt, n.sum, n.pre_cnt, n.pre_sum,
           n.cnt - d.cnt AS old_cnt, n.sum - d.sum AS old_sum, n.pre_cnt - d.pre_cnt AS old_pre_cnt, n.pre_sum - d.pre_sum AS old_pre_sum
      FROM up n JOIN d USING (experiment_id, event_type, subject_id)
  )
  INSERT INTO metrics.variant_day_stats AS v (experiment_id, event_type, variant, day, ${STAT_COLUMNS.join(", ")})
  SELECT experiment_id, event_type, variant, cohort_day,
         ${CONTRIBUTIONS.map(([, f]) => `sum(${f("p.")} - ${f("p.old_")})`).join(", ")}
    FROM pair p
   GROUP BY 1, 2, 3, 4
   ORDER BY 1, 2, 3, 4
  ON CONFLICT (experiment_id, event_type, variant, day) DO UPDATE SET
    ${STAT_COLUMNS.map((c) => `${c} = v.${c} + excluded.${c}`).join(", ")}`;

/**
 * Applies per-subject total changes and, in the same statement, the change of each subject's
 * contribution (new value in, old value out) to its variant's cohort-day statistics. The subjects'
 * advisory locks are held, so no other batch changes these rows meanwhile.
 */
async function applySubjectTotals(tx: Queryable, acc: RollupAccumulator): Promise<void> {
  const t = acc.totals();
  if (t.length === 0) return;
  await tx.query(APPLY_TOTALS_SQL, [
    t.map((r) => r.experimentId),
    t.map((r) => r.eventType),
    t.map((r) => r.subjectId),
    t.map((r) => r.variant),
    t.map((r) => r.cohortDay),
    t.map((r) => r.count),
    t.map((r) => r.sum),
    t.map((r) => r.preCount),
    t.map((r) => r.preSum),
  ]);
}

async function exposuresOf(tx: Queryable, subjects: string[]): Promise<ExposureRef[]> {
  const { rows } = await tx.query<{ experiment_id: string; subject_id: string; variant: string; first_at: Date }>(
    // LATERAL: one index lookup per subject. A plain "= ANY" was planned as a scan of the whole
    // table while it grew faster than ANALYZE ran (seen at 3 M events in bench/metrics).
    `SELECT x.experiment_id, x.subject_id, x.variant, x.first_at FROM unnest($1::text[]) AS s(subject_id)
       CROSS JOIN LATERAL (SELECT * FROM metrics.exposures e WHERE e.subject_id = s.subject_id) x`,
    [[...new Set(subjects)]],
  );
  return rows.map((r) => ({ experimentId: r.experiment_id, subjectId: r.subject_id, variant: r.variant, firstAt: new Date(r.first_at) }));
}

async function decisionExperiments(tx: Queryable, decisionIds: string[]): Promise<Map<string, string>> {
  if (decisionIds.length === 0) return new Map();
  const { rows } = await tx.query<{ decision_id: string; experiment_id: string }>(
    `SELECT x.decision_id, x.experiment_id FROM unnest($1::text[]) AS s(decision_id)
       CROSS JOIN LATERAL (SELECT * FROM metrics.decisions d WHERE d.decision_id = s.decision_id) x`,
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
