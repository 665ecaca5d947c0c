import type { Cache } from "./types.js";

export interface MemoryCacheOptions {
  /** How often expired keys are swept (default 60 s); reads evict lazily in between. */
  sweepIntervalMs?: number;
  /** Clock, injectable for tests. */
  now?: () => number;
}

type Value = { kind: "string"; value: string } | { kind: "hash"; value: Map<string, string> };
type Entry = Value & { expiresAt?: number };

/** In-process cache for the embedded default, with Redis semantics for TTL and types. */
export function createMemoryCache(opts: MemoryCacheOptions = {}): Cache {
  const now = opts.now ?? Date.now;
  const entries = new Map<string, Entry>();
  let closed = false;

  const isExpired = (e: Entry, t: number): boolean => e.expiresAt !== undefined && e.expiresAt <= t;
  const sweep = setInterval(() => {
    const t = now();
    for (const [k, e] of entries) if (isExpired(e, t)) entries.delete(k);
  }, opts.sweepIntervalMs ?? 60_000);
  sweep.unref();

  function assertOpen(): void {
    if (closed) throw new Error("cache is closed");
  }
  function live(key: string): Entry | undefined {
    assertOpen();
    const e = entries.get(key);
    if (e && isExpired(e, now())) {
      entries.delete(key);
      return undefined;
    }
    return e;
  }
  function wrongType(key: string): Error {
    return new Error(`WRONGTYPE key ${key} holds another kind of value`);
  }
  function getString(key: string): string | null {
    const e = live(key);
    if (!e) return null;
    if (e.kind !== "string") throw wrongType(key);
    return e.value;
  }
  function hashFor(key: string, create: boolean): Map<string, string> | undefined {
    const e = live(key);
    if (e && e.kind !== "hash") throw wrongType(key);
    if (e || !create) return e?.value;
    const value = new Map<string, string>();
    entries.set(key, { kind: "hash", value });
    return value;
  }

  return {
    get: async (key) => getString(key),
    mget: async (keys) => keys.map((k) => {
      const e = live(k);
      // Like Redis MGET: a key of another type reads as missing rather than failing the batch.
      return e?.kind === "string" ? e.value : null;
    }),
    async set(key, value, o) {
      assertOpen();
      entries.set(key, { kind: "string", value, expiresAt: o?.ttlMs !== undefined ? now() + o.ttlMs : undefined });
    },
    async del(key) {
      assertOpen();
      entries.delete(key);
    },
    hgetall: async (key) => Object.fromEntries(hashFor(key, false) ?? []),
    async hset(key, fields) {
      const pairs = Object.entries(fields);
      if (pairs.length === 0) return;
      const hash = hashFor(key, true)!;
      for (const [f, v] of pairs) hash.set(f, v);
    },
    async hsetnx(key, field, value) {
      const hash = hashFor(key, true)!;
      if (hash.has(field)) return false;
      hash.set(field, value);
      return true;
    },
    async expire(key, ttlMs) {
      const e = live(key);
      if (e) e.expiresAt = now() + ttlMs;
    },
    async ping() {
      assertOpen();
    },
    async close() {
      closed = true;
      clearInterval(sweep);
      entries.clear();
    },
  };
}
