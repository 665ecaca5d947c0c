/** Traffic allocation in percent: 0.01..100 with at most two decimals (one basis point). */
export function allocationProblem(pct: number): string | undefined {
  if (!Number.isFinite(pct) || pct < 0.01 || pct > 100) return "must be between 0.01 and 100 (percent)";
  if (Math.abs(pct * 100 - Math.round(pct * 100)) > 1e-6) return "must have at most two decimals";
  return undefined;
}

/** Percent → basis points (1..10000), the unit the decide path buckets in. */
export function toBasisPoints(pct: number): number {
  return Math.round(pct * 100);
}
