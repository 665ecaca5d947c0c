/** Multiple-comparison adjustments; results are returned in input order (STATISTICS.md §6). */

export type AdjustmentMethod = "bonferroni" | "holm" | "bh";

export function adjustPValues(pValues: readonly number[], method: AdjustmentMethod): number[] {
  pValues.forEach((p, i) => {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`pValues[${i}] must be in [0, 1], got ${p}`);
  });
  const m = pValues.length;
  if (method === "bonferroni") return pValues.map((p) => Math.min(1, m * p));
  const order = pValues.map((_, i) => i).sort((i, j) => pValues[i] - pValues[j]);
  const adjusted = new Array<number>(m);
  if (method === "holm") {
    // Step-down: p̃_(i) = max_{j ≤ i} min(1, (m − j + 1) p_(j)), ranks 1-based.
    let running = 0;
    order.forEach((idx, rank) => {
      running = Math.max(running, Math.min(1, (m - rank) * pValues[idx]));
      adjusted[idx] = running;
    });
    return adjusted;
  }
  // BH step-up: p̃_(i) = min_{j ≥ i} min(1, m p_(j)/j).
  let running = 1;
  for (let rank = m - 1; rank >= 0; rank--) {
    const idx = order[rank];
    running = Math.min(running, Math.min(1, (m * pValues[idx]) / (rank + 1)));
    adjusted[idx] = running;
  }
  return adjusted;
}
