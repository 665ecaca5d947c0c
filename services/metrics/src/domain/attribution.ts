import type { ValidEvent } from "./event-validation.js";
import { tupleKey } from "./keys.js";

/** A subject's exposure to one experiment (the first one to arrive fixes variant and time). */
export interface ExposureRef {
  experimentId: string;
  subjectId: string;
  variant: string;
  firstAt: Date;
}

/** An event as attribution needs it (a fresh ValidEvent or a stored one replayed from the backlog). */
export type AttributableEvent = Pick<ValidEvent, "eventId" | "type" | "decisionId" | "subjectId" | "occurTime" | "value" | "requiresExposure">;

/**
 * Which exposures an event counts for.
 * - decision_id known: only that decision's experiment, whatever the timestamps (the link is explicit);
 * - otherwise a type that requires exposure counts for every experiment the subject is exposed to;
 * - a type that does not require exposure counts only from the exposure time on (earlier events are
 *   pre-period, the CUPED covariate).
 * An event of a type that requires exposure and has no target waits in the pending table.
 */
export function attributionTargets(
  event: AttributableEvent,
  exposures: readonly ExposureRef[],
  decisionExperiment: string | undefined,
): { targets: ExposureRef[]; pending: boolean } {
  const mine = exposures.filter((x) => x.subjectId === event.subjectId);
  let targets: ExposureRef[];
  if (decisionExperiment !== undefined) targets = mine.filter((x) => x.experimentId === decisionExperiment);
  else if (event.requiresExposure && event.decisionId === "") targets = mine;
  else if (event.requiresExposure) targets = []; // names a decision we have not seen yet: wait for it
  else targets = mine.filter((x) => x.firstAt.getTime() <= event.occurTime.getTime());
  return { targets, pending: event.requiresExposure && targets.length === 0 };
}

const DAY_MS = 86_400_000;
const dayNumber = (ms: number) => Math.floor(ms / DAY_MS);

/** UTC calendar day of a timestamp, as rollups key it. */
export function utcDay(t: Date): string {
  // Memoised per day number: ingest calls this several times per event and toISOString is slow.
  const n = dayNumber(t.getTime());
  let day = dayNames.get(n);
  if (day === undefined) {
    day = new Date(n * DAY_MS).toISOString().slice(0, 10);
    if (dayNames.size > 10_000) dayNames.clear();
    dayNames.set(n, day);
  }
  return day;
}
const dayNames = new Map<number, string>();

export interface RollupDelta {
  experimentId: string;
  variant: string;
  subjectId: string;
  eventType: string;
  day: string;
  count: number;
  sum: number;
  sumSq: number;
  firstAt: Date;
}

/**
 * A change to one subject's whole-run totals for one experiment and event type: attributed events
 * (count, sum) and pre-exposure events (the CUPED covariate over the fixed pre-period).
 */
export interface TotalsDelta {
  experimentId: string;
  eventType: string;
  subjectId: string;
  variant: string;
  /** UTC day of the subject's exposure: the cohort the variant-day statistics are keyed by. */
  cohortDay: string;
  count: number;
  sum: number;
  preCount: number;
  preSum: number;
}

/**
 * Accumulates attributed events into one delta per rollup row (an upsert may touch a row once),
 * and into one delta per subject total (what the incremental variant-day statistics follow).
 */
export class RollupAccumulator {
  private readonly rows = new Map<string, RollupDelta>();
  private readonly subjectTotals = new Map<string, TotalsDelta>();

  add(x: ExposureRef, e: AttributableEvent): void {
    const day = utcDay(e.occurTime);
    const key = tupleKey(x.experimentId, e.type, x.subjectId, day);
    const v = e.value ?? 0;
    const t = this.total(x, e.type);
    t.count += 1;
    t.sum += v;
    const row = this.rows.get(key);
    if (!row) {
      this.rows.set(key, {
        experimentId: x.experimentId,
        variant: x.variant,
        subjectId: x.subjectId,
        eventType: e.type,
        day,
        count: 1,
        sum: v,
        sumSq: v * v,
        firstAt: e.occurTime,
      });
      return;
    }
    row.count += 1;
    row.sum += v;
    row.sumSq += v * v;
    if (e.occurTime < row.firstAt) row.firstAt = e.occurTime;
  }

  /** An event in x's pre-period (the covariate), not attributed to x. */
  addPre(x: ExposureRef, e: Pick<AttributableEvent, "type" | "value">): void {
    const t = this.total(x, e.type);
    t.preCount += 1;
    t.preSum += e.value ?? 0;
  }

  deltas(): RollupDelta[] {
    return [...this.rows.values()];
  }

  totals(): TotalsDelta[] {
    return [...this.subjectTotals.values()];
  }

  private total(x: ExposureRef, eventType: string): TotalsDelta {
    const key = tupleKey(x.experimentId, eventType, x.subjectId);
    let t = this.subjectTotals.get(key);
    if (!t) {
      t = { experimentId: x.experimentId, eventType, subjectId: x.subjectId, variant: x.variant, cohortDay: utcDay(x.firstAt), count: 0, sum: 0, preCount: 0, preSum: 0 };
      this.subjectTotals.set(key, t);
    }
    return t;
  }
}

/**
 * Whether an event falls in an exposure's CUPED pre-period: UTC days [day(first − pre), day(first)),
 * the same bounds the per-subject report query uses.
 */
export function inPrePeriod(x: ExposureRef, occurTime: Date, prePeriodMs: number): boolean {
  // Day numbers, not utcDay strings: ingest asks this for every event and exposure of a subject.
  const day = dayNumber(occurTime.getTime());
  const first = x.firstAt.getTime();
  return day >= dayNumber(first - prePeriodMs) && day < dayNumber(first);
}

/** Start (UTC midnight) of an exposure's pre-period: stored events from here on matter to it. */
export function prePeriodStart(firstAt: Date, prePeriodMs: number): Date {
  const t = firstAt.getTime() - prePeriodMs;
  return new Date(t - (((t % DAY_MS) + DAY_MS) % DAY_MS));
}

/** Exposures grouped by subject: attribution looks up one subject's exposures per event. */
export function exposuresBySubject(exposures: Iterable<ExposureRef>): Map<string, ExposureRef[]> {
  const out = new Map<string, ExposureRef[]>();
  for (const x of exposures) {
    const list = out.get(x.subjectId);
    if (list) list.push(x);
    else out.set(x.subjectId, [x]);
  }
  return out;
}

/**
 * Exposure events of a batch that may become their subject's first exposure to an experiment (no
 * known exposure, first in batch order), as the stored events each subject needs read: from the
 * start of its earliest such exposure's pre-period.
 */
export function firstExposureReads(
  exposureEvents: readonly Pick<ValidEvent, "experimentId" | "subjectId" | "occurTime">[],
  known: ReadonlyMap<string, readonly ExposureRef[]>,
  prePeriodMs: number,
): { subjectId: string; since: Date }[] {
  const seen = new Set<string>();
  const since = new Map<string, Date>();
  for (const e of exposureEvents) {
    const pair = tupleKey(e.experimentId, e.subjectId);
    if (seen.has(pair)) continue;
    seen.add(pair);
    if (known.get(e.subjectId)?.some((x) => x.experimentId === e.experimentId)) continue;
    const from = prePeriodStart(e.occurTime, prePeriodMs);
    const current = since.get(e.subjectId);
    if (!current || from < current) since.set(e.subjectId, from);
  }
  return [...since].map(([subjectId, from]) => ({ subjectId, since: from }));
}

/**
 * Attributes a batch's own fresh events (exposures excluded) to the subjects' exposures, known and
 * new alike, and adds those in an exposure's pre-period to its covariate. Returns the events that
 * must wait for an exposure.
 */
export function attributeBatch(
  acc: RollupAccumulator,
  events: readonly AttributableEvent[],
  exposures: ReadonlyMap<string, readonly ExposureRef[]>,
  decisions: ReadonlyMap<string, string>,
  prePeriodMs: number,
): AttributableEvent[] {
  const pending: AttributableEvent[] = [];
  for (const e of events) {
    const mine = exposures.get(e.subjectId) ?? [];
    const { targets, pending: waits } = attributionTargets(e, mine, decisions.get(e.decisionId));
    for (const x of targets) acc.add(x, e);
    if (waits) pending.push(e);
    // The covariate: activity of types that need no exposure in each exposure's pre-period.
    if (!e.requiresExposure) for (const x of mine) if (inPrePeriod(x, e.occurTime, prePeriodMs)) acc.addPre(x, e);
  }
  return pending;
}

/**
 * What new first exposures take from events stored before they arrived (types that need no
 * exposure): an event at or after the exposure counts for it, one in its pre-period is its covariate.
 */
export function attributeStored(acc: RollupAccumulator, firsts: ReadonlyMap<string, readonly ExposureRef[]>, stored: readonly AttributableEvent[], prePeriodMs: number): void {
  for (const e of stored) {
    for (const x of firsts.get(e.subjectId) ?? []) {
      if (e.occurTime >= x.firstAt) acc.add(x, e);
      else if (inPrePeriod(x, e.occurTime, prePeriodMs)) acc.addPre(x, e);
    }
  }
}

/**
 * The default CUPED pre-period. Ingest keeps each subject's covariate over exactly this period, so
 * a report using it reads per-variant statistics; another pre-period falls back to per-subject rows.
 */
export const CUPED_PRE_PERIOD_S = 14 * 86_400;
