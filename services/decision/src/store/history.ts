import type { Cache } from "@lotty/platform/cache";
import type { Guard } from "@lotty/platform/resilience";
import type { AssignmentRecord } from "../domain/index.js";
import type { AssignmentStore } from "./assignments.js";

const KEY_PREFIX = "lotty:decision:asg:";
// Set when the hash was filled from Postgres: without it the hash may be partial (evicted,
// expired, or re-created by a lone HSETNX) and Postgres is asked once.
const HYDRATED = "~hydrated";

const keyFor = (subjectId: string): string => KEY_PREFIX + subjectId;
// "<assignedAtMs>:<variant>": the number has no colon, so the variant may contain any.
const encode = (a: AssignmentRecord): string => `${a.assignedAtMs}:${a.variant}`;
function decode(experimentId: string, raw: string): AssignmentRecord {
  const i = raw.indexOf(":");
  return { experimentId, variant: raw.slice(i + 1), assignedAtMs: Number(raw.slice(0, i)) };
}

export interface HistoryGuards {
  cache: Guard;
  db: Guard;
}

/** Which dependency could not be reached; the decide answers degraded and says so. */
export class HistoryUnavailableError extends Error {
  constructor(readonly detail: string) {
    super(detail);
    this.name = "HistoryUnavailableError";
  }
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * A subject's assignments: one Redis hash per subject (HGETALL, one round trip) in front of
 * Postgres, the durable record, which fills the hash when it is missing.
 */
export class AssignmentHistory {
  constructor(
    private readonly cache: Cache,
    private readonly store: AssignmentStore,
    private readonly guards: HistoryGuards,
    private readonly ttlMs: number,
  ) {}

  async read(subjectId: string): Promise<AssignmentRecord[]> {
    let hash: Record<string, string>;
    try {
      hash = await this.guards.cache.execute(() => this.cache.hgetall(keyFor(subjectId)));
    } catch (cacheErr) {
      try {
        return await this.guards.db.execute(() => this.store.forSubject(subjectId));
      } catch (dbErr) {
        throw new HistoryUnavailableError(`assignments unavailable: cache (${message(cacheErr)}), postgres (${message(dbErr)})`);
      }
    }
    if (hash[HYDRATED] !== undefined) {
      const out: AssignmentRecord[] = [];
      for (const field in hash) if (field !== HYDRATED) out.push(decode(field, hash[field]));
      return out;
    }
    let records: AssignmentRecord[];
    try {
      records = await this.guards.db.execute(() => this.store.forSubject(subjectId));
    } catch (dbErr) {
      throw new HistoryUnavailableError(`assignments unavailable: postgres (${message(dbErr)})`);
    }
    await this.hydrate(subjectId, records);
    return records;
  }

  private async hydrate(subjectId: string, records: readonly AssignmentRecord[]): Promise<void> {
    const fields: Record<string, string> = { [HYDRATED]: "1" };
    for (const a of records) fields[a.experimentId] = encode(a);
    try {
      await this.guards.cache.execute(async () => {
        await this.cache.hset(keyFor(subjectId), fields);
        await this.cache.expire(keyFor(subjectId), this.ttlMs);
      });
    } catch {
      // The next read asks Postgres again; nothing is lost.
    }
  }

  /** Records an assignment in the hot store; false when another writer got there first. */
  async remember(subjectId: string, a: AssignmentRecord): Promise<boolean> {
    return this.guards.cache.execute(() => this.cache.hsetnx(keyFor(subjectId), a.experimentId, encode(a)));
  }

  /** Reads one assignment back from the hot store (after losing a HSETNX race). */
  async readOne(subjectId: string, experimentId: string): Promise<AssignmentRecord | undefined> {
    const hash = await this.guards.cache.execute(() => this.cache.hgetall(keyFor(subjectId)));
    const raw = hash[experimentId];
    return raw === undefined ? undefined : decode(experimentId, raw);
  }
}

/**
 * Assignments this replica knows to be stored, by subject, bounded (least recently used subject
 * evicted first). Only what a store returned goes in: read from Redis or Postgres, or a new
 * assignment's winner after its write (Postgres read-back in sync mode, HSETNX or its read-back
 * otherwise). An assignment never changes during its experiment's life, so a known one is the
 * answer any later history read would give, and the decider may serve it without one.
 */
export class KnownAssignments {
  private readonly bySubject = new Map<string, Map<string, AssignmentRecord>>();
  constructor(private readonly capacity: number) {}

  remember(subjectId: string, records: Iterable<AssignmentRecord>): void {
    const known = this.bySubject.get(subjectId) ?? new Map<string, AssignmentRecord>();
    for (const a of records) known.set(a.experimentId, a);
    if (known.size === 0) return;
    // Re-insert so Map order is recency order; evict the oldest beyond capacity.
    this.bySubject.delete(subjectId);
    this.bySubject.set(subjectId, known);
    if (this.bySubject.size > this.capacity) this.bySubject.delete(this.bySubject.keys().next().value!);
  }

  /** The subject's known assignments by experiment id (a hit counts as use). */
  of(subjectId: string): ReadonlyMap<string, AssignmentRecord> | undefined {
    const known = this.bySubject.get(subjectId);
    if (known) {
      this.bySubject.delete(subjectId);
      this.bySubject.set(subjectId, known);
    }
    return known;
  }
}
