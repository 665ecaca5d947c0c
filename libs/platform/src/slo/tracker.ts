import { BURN_ALERTS, budgetRemaining, burnRate, evaluateAlert, type AlertEvaluation, type BurnAlertPolicy } from "./burn.js";
import type { CallOutcome, SloDefinition } from "./definitions.js";
import { RollingCounter } from "./window.js";

const MINUTE = 60_000;
/** Burn-rate windows (the alerts' long and short ones). */
export const SLO_WINDOWS: Readonly<Record<string, number>> = { "5m": 5 * MINUTE, "30m": 30 * MINUTE, "1h": 60 * MINUTE, "6h": 360 * MINUTE };
/** The error budget's period. A process only knows what it saw since it started; Prometheus keeps the long view. */
export const BUDGET_WINDOW = "30d";
const BUDGET_WINDOW_MS = 30 * 24 * 60 * MINUTE;

export interface SloTrackerOptions {
  /** Milliseconds; injected so tests can move time. */
  now?: () => number;
  alerts?: readonly BurnAlertPolicy[];
  /** Events the short window needs before an alert may fire. */
  minEvents?: number;
}

interface Tracked {
  slo: SloDefinition;
  windows: Map<string, RollingCounter>;
}

/** Good/total events per SLO over rolling windows, and the burn rates and alerts they imply. */
export class SloTracker {
  private readonly now: () => number;
  private readonly alerts: readonly BurnAlertPolicy[];
  private readonly minEvents: number;
  private readonly tracked = new Map<string, Tracked>();
  private readonly byMethod = new Map<string, Tracked[]>();

  constructor(slos: readonly SloDefinition[], opts: SloTrackerOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.alerts = opts.alerts ?? BURN_ALERTS;
    this.minEvents = opts.minEvents ?? 10;
    const start = this.now();
    for (const slo of slos) {
      const windows = new Map(Object.entries({ ...SLO_WINDOWS, [BUDGET_WINDOW]: BUDGET_WINDOW_MS }).map(([name, ms]) => [name, new RollingCounter(ms, start)]));
      const t = { slo, windows };
      this.tracked.set(slo.name, t);
      for (const m of slo.methods) this.byMethod.set(m, [...(this.byMethod.get(m) ?? []), t]);
    }
  }

  get slos(): SloDefinition[] {
    return [...this.tracked.values()].map((t) => t.slo);
  }

  /** Whether calls of this method feed any SLO (the interceptor skips timing the rest). */
  tracks(method: string): boolean {
    return this.byMethod.has(method);
  }

  record(method: string, call: CallOutcome): void {
    const now = this.now();
    for (const t of this.byMethod.get(method) ?? []) {
      const good = t.slo.classify(call);
      if (good === undefined) continue;
      for (const w of t.windows.values()) w.add(now, good);
    }
  }

  burnRate(slo: string, window: string): number {
    const t = this.get(slo);
    return burnRate(this.counts(t, window), t.slo.objective);
  }

  budgetRemaining(slo: string): number {
    const t = this.get(slo);
    return budgetRemaining(this.counts(t, BUDGET_WINDOW), t.slo.objective);
  }

  evaluate(slo: string): AlertEvaluation[] {
    const t = this.get(slo);
    return this.alerts.map((a) => evaluateAlert(a, (w) => this.counts(t, w), t.slo.objective, this.minEvents));
  }

  private get(slo: string): Tracked {
    const t = this.tracked.get(slo);
    if (!t) throw new Error(`unknown SLO "${slo}"`);
    return t;
  }

  private counts(t: Tracked, window: string) {
    const w = t.windows.get(window);
    if (!w) throw new Error(`unknown SLO window "${window}"`);
    return w.read(this.now());
  }
}
