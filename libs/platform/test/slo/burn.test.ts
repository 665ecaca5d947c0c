import { describe, expect, it } from "vitest";
import { BURN_ALERTS, budgetRemaining, burnRate, evaluateAlert, RollingCounter, type Counts } from "../../src/slo/index.js";

describe("burn-rate arithmetic", () => {
  it("is the error ratio over the budget's ratio", () => {
    expect(burnRate({ good: 9995, total: 10_000 }, 0.9995)).toBeCloseTo(1);
    expect(burnRate({ good: 9928, total: 10_000 }, 0.9995)).toBeCloseTo(14.4);
    expect(burnRate({ good: 0, total: 0 }, 0.9995)).toBe(0); // no traffic burns nothing
    expect(budgetRemaining({ good: 9999, total: 10_000 }, 0.9995)).toBeCloseTo(0.8);
    expect(budgetRemaining({ good: 9980, total: 10_000 }, 0.9995)).toBeCloseTo(-3);
  });

  it("fires an alert only when both windows burn above its threshold, with enough events", () => {
    const page = BURN_ALERTS.find((a) => a.name === "page")!;
    const eval_ = (windows: Record<string, Counts>, minEvents = 10) => evaluateAlert(page, (w) => windows[w], 0.99, minEvents);
    const burning = { good: 80, total: 100 }; // 20 % errors = 20× a 1 % budget
    const calm = { good: 100, total: 100 };
    const both = eval_({ "1h": burning, "5m": burning });
    expect(both.firing).toBe(true);
    expect(both.longRate).toBeCloseTo(20);
    expect(both.shortRate).toBeCloseTo(20);
    expect(eval_({ "1h": burning, "5m": calm }).firing).toBe(false); // recovered: the short window resets it
    expect(eval_({ "1h": calm, "5m": burning }).firing).toBe(false); // a blip, not a trend
    expect(eval_({ "1h": burning, "5m": burning }, 101).firing).toBe(false); // too few events to judge
  });
});

describe("RollingCounter", () => {
  it("counts events inside the window and forgets them bucket by bucket", () => {
    const w = new RollingCounter(60_000, 0, 6); // 10 s buckets
    w.add(0, true);
    w.add(5_000, false);
    w.add(25_000, true);
    expect(w.read(59_999)).toEqual({ good: 2, total: 3 });
    expect(w.read(60_000)).toEqual({ good: 1, total: 1 }); // the first bucket (0–10 s) left the window
    expect(w.read(79_999)).toEqual({ good: 1, total: 1 });
    expect(w.read(80_000)).toEqual({ good: 0, total: 0 });
    w.add(10 * 60_000, false); // a long gap clears everything at once
    expect(w.read(10 * 60_000)).toEqual({ good: 0, total: 1 });
  });

  it("counts into the current bucket when the clock steps back", () => {
    const w = new RollingCounter(60_000, 30_000, 6);
    w.add(30_000, true);
    w.add(1_000, true);
    expect(w.read(30_000)).toEqual({ good: 2, total: 2 });
    expect(w.read(95_000)).toEqual({ good: 0, total: 0 });
  });
});
