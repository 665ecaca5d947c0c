import type { ValidEvent } from "./event-validation.js";

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

/** UTC calendar day of a timestamp, as rollups key it. */
export function utcDay(t: Date): string {
  return t.toISOString().slice(0, 10);
}

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

/** Accumulates attributed events into one delta per rollup row (an upsert may touch a row once). */
export class RollupAccumulator {
  private readonly rows = new Map<string, RollupDelta>();

  add(x: ExposureRef, e: AttributableEvent): void {
    const day = utcDay(e.occurTime);
    const key = JSON.stringify([x.experimentId, e.type, x.subjectId, day]);
    const v = e.value ?? 0;
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

  deltas(): RollupDelta[] {
    return [...this.rows.values()];
  }
}
