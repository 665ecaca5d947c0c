import { describe, expect, it } from "vitest";
import {
  attributeBatch,
  attributeStored,
  exposuresBySubject,
  firstExposureReads,
  prePeriodStart,
  RollupAccumulator,
  type AttributableEvent,
  type ExposureRef,
} from "../src/domain/attribution.js";
import { dailyCounts, repeatedExposures } from "../src/domain/exposure-tally.js";

const DAY = 86_400_000;
const HOUR = 3_600_000;
const PRE = 14 * DAY;
const t0 = new Date("2026-11-20T15:00:00Z");
const at = (ms: number) => new Date(t0.getTime() + ms);
const x1: ExposureRef = { experimentId: "x1", subjectId: "u1", variant: "a", firstAt: t0 };

let seq = 0;
const event = (over: Partial<AttributableEvent>): AttributableEvent => ({
  eventId: `e${++seq}`,
  type: "buy",
  decisionId: "",
  subjectId: "u1",
  occurTime: at(HOUR),
  value: 1,
  requiresExposure: false,
  ...over,
});
const exposureEvent = (experimentId: string, subjectId: string, occurTime: Date) => ({ experimentId, subjectId, occurTime });
const totals = (acc: RollupAccumulator) => acc.totals().map((t) => [t.experimentId, t.subjectId, t.eventType, t.count, t.sum, t.preCount, t.preSum]);

describe("prePeriodStart", () => {
  it("is UTC midnight of the day the pre-period starts on", () => {
    expect(prePeriodStart(t0, PRE).toISOString()).toBe("2026-11-06T00:00:00.000Z");
    expect(prePeriodStart(new Date("2026-11-20T00:00:00Z"), PRE).toISOString()).toBe("2026-11-06T00:00:00.000Z");
  });
});

describe("firstExposureReads", () => {
  it("reads stored events only for exposures that may be a subject's first, from the earliest pre-period start", () => {
    const known = exposuresBySubject([x1]);
    const reads = firstExposureReads(
      [
        exposureEvent("x1", "u1", at(5 * HOUR)), // already exposed: no read
        exposureEvent("x2", "u1", at(2 * DAY)), // new experiment for u1
        exposureEvent("x2", "u1", at(-3 * DAY)), // not the first of its pair in batch order
        exposureEvent("x3", "u2", at(DAY)),
        exposureEvent("x4", "u2", at(-DAY)), // u2's earliest candidate
      ],
      known,
      PRE,
    );
    expect(reads.map((r) => [r.subjectId, r.since.toISOString()])).toEqual([
      ["u1", prePeriodStart(at(2 * DAY), PRE).toISOString()],
      ["u2", prePeriodStart(at(-DAY), PRE).toISOString()],
    ]);
  });
});

describe("attributeStored", () => {
  it("counts stored events from the exposure on and takes the pre-period ones as the covariate", () => {
    const acc = new RollupAccumulator();
    attributeStored(
      acc,
      exposuresBySubject([x1]),
      [
        event({ value: 5 }), // after the exposure
        event({ occurTime: at(-3 * DAY), value: 7 }), // pre-period
        event({ occurTime: at(-HOUR), value: 100 }), // exposure day, before it: neither
        event({ occurTime: at(-20 * DAY), value: 100 }), // before the pre-period
        event({ subjectId: "u2", value: 100 }), // another subject
      ],
      PRE,
    );
    expect(totals(acc)).toEqual([["x1", "u1", "buy", 1, 5, 1, 7]]);
  });
});

describe("attributeBatch", () => {
  it("attributes by decision, holds what requires an unseen exposure, and adds pre-period activity", () => {
    const acc = new RollupAccumulator();
    const x2: ExposureRef = { experimentId: "x2", subjectId: "u1", variant: "b", firstAt: at(HOUR) };
    const waiting = event({ type: "signup", requiresExposure: true, subjectId: "u3" });
    const pending = attributeBatch(
      acc,
      [
        event({ type: "signup", requiresExposure: true, decisionId: "d2" }), // linked to x2 only
        waiting,
        event({ occurTime: at(-2 * DAY), value: 4 }), // pre-period of both exposures
      ],
      exposuresBySubject([x1, x2]),
      new Map([["d2", "x2"]]),
      PRE,
    );
    expect(pending).toEqual([waiting]);
    expect(totals(acc)).toEqual([
      ["x2", "u1", "signup", 1, 1, 0, 0],
      ["x1", "u1", "buy", 0, 0, 1, 4],
      ["x2", "u1", "buy", 0, 0, 1, 4],
    ]);
  });
});

describe("exposure tally", () => {
  const xs = [exposureEvent("x1", "u1", t0), exposureEvent("x1", "u1", at(DAY)), exposureEvent("x1", "u2", at(DAY))];
  const firsts: ExposureRef[] = [x1];
  const u2: ExposureRef = { experimentId: "x1", subjectId: "u2", variant: "b", firstAt: at(-5 * DAY) };

  it("counts every exposure but the one that created its pair's row as a repeat", () => {
    expect(repeatedExposures(xs, firsts)).toEqual([
      { experimentId: "x1", subjectId: "u1", n: 1 },
      { experimentId: "x1", subjectId: "u2", n: 1 },
    ]);
  });

  it("counts exposures on their day for the subject's variant and first exposures as subjects, in key order", () => {
    expect(dailyCounts(xs, [x1, u2], firsts)).toEqual([
      { experimentId: "x1", variant: "a", day: "2026-11-20", exposures: 1, subjects: 1 },
      { experimentId: "x1", variant: "a", day: "2026-11-21", exposures: 1, subjects: 0 },
      { experimentId: "x1", variant: "b", day: "2026-11-21", exposures: 1, subjects: 0 },
    ]);
  });

  it("refuses an exposure whose subject has no exposure row", () => {
    expect(() => dailyCounts(xs, [x1], firsts)).toThrow(/x1\/u2/);
  });
});
