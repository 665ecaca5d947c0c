/** How new assignments are written: sync = durable in Postgres before Decide answers (default),
 *  async = Redis first (first writer wins there), Postgres in the background, off = Redis only. */
export type AssignmentWriteMode = "sync" | "async" | "off";

export interface DecisionConfig {
  assignmentWrite: AssignmentWriteMode;
  /** "off" publishes no exposures at all. */
  exposures: "async" | "off";
  exposureBufferSize: number;
  exposureRetryMs: number;
  /** Periodic GetRuleset(if_newer_than) in case an event was missed. */
  resyncIntervalMs: number;
  /** Lifetime of a subject's assignment hash in Redis (Postgres keeps them for good). */
  assignmentCacheTtlMs: number;
  /**
   * Subjects whose stored assignments this replica keeps in memory (least recently used out):
   * a returning subject is answered from there without Redis, and when Redis and Postgres both
   * fail a degraded answer can still keep its variant.
   */
  knownSubjects: number;
  timeouts: { cacheMs: number; dbMs: number; experimentMs: number; busMs: number };
  /**
   * How long a dependency's open circuit fails fast before one trial call. Short: while it is
   * open new subjects get the flag default, and a trial costs one call at most its timeout.
   */
  circuitHalfOpenMs: number;
}

export const DEFAULT_CONFIG: DecisionConfig = {
  assignmentWrite: "sync",
  exposures: "async",
  exposureBufferSize: 100_000,
  exposureRetryMs: 1_000,
  resyncIntervalMs: 30_000,
  assignmentCacheTtlMs: 30 * 24 * 3600 * 1000,
  knownSubjects: 50_000,
  timeouts: { cacheMs: 100, dbMs: 500, experimentMs: 2_000, busMs: 2_000 },
  circuitHalfOpenMs: 1_000,
};

export function resolveConfig(partial: Partial<DecisionConfig> = {}): DecisionConfig {
  return { ...DEFAULT_CONFIG, ...partial, timeouts: { ...DEFAULT_CONFIG.timeouts, ...partial.timeouts } };
}
