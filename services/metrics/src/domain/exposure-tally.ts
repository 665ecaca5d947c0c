import { utcDay, type ExposureRef } from "./attribution.js";
import { tupleKey } from "./keys.js";
import type { ValidEvent } from "./event-validation.js";

type ExposureEvent = Pick<ValidEvent, "experimentId" | "subjectId" | "occurTime">;

/** A per-variant, per-UTC-day counter change: exposure events, and first exposures (unique subjects). */
export interface DailyCount {
  experimentId: string;
  variant: string;
  day: string;
  exposures: number;
  subjects: number;
}

const pairKey = (experimentId: string, subjectId: string) => tupleKey(experimentId, subjectId);

/**
 * Exposure events that were not a subject's first exposure to the experiment (the first in batch
 * order is, when the batch created it), counted per experiment and subject, in key order.
 */
export function repeatedExposures(exposures: readonly ExposureEvent[], firsts: readonly ExposureRef[]): { experimentId: string; subjectId: string; n: number }[] {
  const created = new Set(firsts.map((x) => pairKey(x.experimentId, x.subjectId)));
  const repeats = new Map<string, { experimentId: string; subjectId: string; n: number }>();
  for (const e of exposures) {
    const k = pairKey(e.experimentId, e.subjectId);
    if (created.delete(k)) continue; // the first one
    const r = repeats.get(k);
    if (r) r.n += 1;
    else repeats.set(k, { experimentId: e.experimentId, subjectId: e.subjectId, n: 1 });
  }
  return [...repeats.keys()].sort().map((k) => repeats.get(k)!);
}

/**
 * The daily counter changes of a batch's exposure events: each counts on its own day for its
 * subject's variant (`refs` holds every subject's exposure), each first exposure once on its day.
 * Sorted by key, so concurrent batches update shared rows in one order.
 */
export function dailyCounts(exposures: readonly ExposureEvent[], refs: readonly ExposureRef[], firsts: readonly ExposureRef[]): DailyCount[] {
  const variantOf = new Map(refs.map((x) => [pairKey(x.experimentId, x.subjectId), x.variant]));
  const out = new Map<string, DailyCount>();
  const bump = (experimentId: string, variant: string, day: string, exposures: number, subjects: number) => {
    const k = tupleKey(experimentId, variant, day);
    const d = out.get(k);
    if (d) {
      d.exposures += exposures;
      d.subjects += subjects;
    } else out.set(k, { experimentId, variant, day, exposures, subjects });
  };
  for (const e of exposures) {
    const variant = variantOf.get(pairKey(e.experimentId, e.subjectId));
    if (variant === undefined) throw new Error(`no exposure row for ${e.experimentId}/${e.subjectId}`);
    bump(e.experimentId, variant, utcDay(e.occurTime), 1, 0);
  }
  for (const x of firsts) bump(x.experimentId, x.variant, utcDay(x.firstAt), 0, 1);
  return [...out.keys()].sort().map((k) => out.get(k)!);
}
