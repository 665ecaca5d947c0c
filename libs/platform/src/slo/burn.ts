/** Pure error-budget arithmetic (Google SRE workbook, "Alerting on SLOs"). */

export interface Counts {
  good: number;
  total: number;
}

/** How fast the budget burns: the error ratio over the ratio the objective allows (1 = exactly on budget). */
export function burnRate({ good, total }: Counts, objective: number): number {
  if (total === 0) return 0;
  return (total - good) / total / (1 - objective);
}

/** Share of the error budget left over a period (1 = untouched, 0 = spent, negative = overspent). */
export function budgetRemaining(counts: Counts, objective: number): number {
  return 1 - burnRate(counts, objective);
}

export interface BurnAlertPolicy {
  /** "page" or "ticket". */
  name: string;
  longWindow: string;
  shortWindow: string;
  /** Burn rate both windows must exceed. */
  threshold: number;
}

/**
 * The workbook's multi-window, multi-burn-rate alerts: 2 % of a 30-day budget in an hour
 * (14.4×) pages, 5 % in six hours (6×) opens a ticket; the short window (1/12 of the long one)
 * makes an alert stop soon after the burning stops.
 */
export const BURN_ALERTS: readonly BurnAlertPolicy[] = [
  { name: "page", longWindow: "1h", shortWindow: "5m", threshold: 14.4 },
  { name: "ticket", longWindow: "6h", shortWindow: "30m", threshold: 6 },
];

export interface AlertEvaluation {
  alert: BurnAlertPolicy;
  longRate: number;
  shortRate: number;
  firing: boolean;
}

/**
 * Both windows above the threshold, and the short window held at least `minEvents` events, so a
 * single failure in a quiet minute cannot page anyone.
 */
export function evaluateAlert(
  alert: BurnAlertPolicy,
  windows: (name: string) => Counts,
  objective: number,
  minEvents: number,
): AlertEvaluation {
  const long = windows(alert.longWindow);
  const short = windows(alert.shortWindow);
  const longRate = burnRate(long, objective);
  const shortRate = burnRate(short, objective);
  const firing = short.total >= minEvents && longRate > alert.threshold && shortRate > alert.threshold;
  return { alert, longRate, shortRate, firing };
}
