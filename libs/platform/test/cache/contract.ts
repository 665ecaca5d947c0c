import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Cache } from "../../src/cache/index.js";

/** Polls until check passes; TTLs are real time on Redis, so wait for the outcome, not a fixed sleep. */
async function eventually(check: () => Promise<boolean>, timeoutMs = 3000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return false;
}

/** The behaviour every Cache backend must share; run once per backend. */
export function cacheContract(label: string, open: () => Cache): void {
  describe(`Cache contract: ${label}`, () => {
    let cache: Cache;
    beforeAll(() => {
      cache = open();
    });
    afterAll(async () => {
      await cache?.close();
    });

    it("gets, sets and deletes strings", async () => {
      expect(await cache.get("s:missing")).toBeNull();
      await cache.set("s:a", "1");
      await cache.set("s:a", "2");
      expect(await cache.get("s:a")).toBe("2");
      await cache.del("s:a");
      await cache.del("s:never-set");
      expect(await cache.get("s:a")).toBeNull();
    });

    it("mgets in order with nulls for missing keys", async () => {
      await cache.set("m:a", "A");
      await cache.set("m:c", "C");
      expect(await cache.mget(["m:a", "m:b", "m:c", "m:a"])).toEqual(["A", null, "C", "A"]);
      expect(await cache.mget([])).toEqual([]);
    });

    it("expires a key set with a TTL and keeps one without", async () => {
      await cache.set("t:short", "x", { ttlMs: 40 });
      await cache.set("t:long", "y", { ttlMs: 60_000 });
      await cache.set("t:forever", "z");
      expect(await cache.get("t:long")).toBe("y");
      expect(await eventually(async () => (await cache.get("t:short")) === null)).toBe(true);
      expect(await cache.mget(["t:short", "t:long", "t:forever"])).toEqual([null, "y", "z"]);
    });

    it("set without a TTL clears an earlier one", async () => {
      await cache.set("t:reset", "1", { ttlMs: 40 });
      await cache.set("t:reset", "2");
      await cache.set("t:probe", "p", { ttlMs: 40 });
      expect(await eventually(async () => (await cache.get("t:probe")) === null)).toBe(true);
      expect(await cache.get("t:reset")).toBe("2");
    });

    it("writes and reads hashes", async () => {
      expect(await cache.hgetall("h:missing")).toEqual({});
      await cache.hset("h:a", { x: "1", y: "2" });
      await cache.hset("h:a", { y: "3" });
      await cache.hset("h:a", {});
      expect(await cache.hgetall("h:a")).toEqual({ x: "1", y: "3" });
    });

    it("hsetnx lets only the first writer win", async () => {
      expect(await cache.hsetnx("h:nx", "subject", "a")).toBe(true);
      expect(await cache.hsetnx("h:nx", "subject", "b")).toBe(false);
      const results = await Promise.all(["c", "d", "e"].map((v) => cache.hsetnx("h:nx", "other", v)));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect((await cache.hgetall("h:nx")).subject).toBe("a");
    });

    it("expire puts a TTL on an existing hash", async () => {
      await cache.hset("h:exp", { f: "v" });
      await cache.expire("h:exp", 40);
      await cache.expire("h:no-such-key", 40);
      expect(await eventually(async () => Object.keys(await cache.hgetall("h:exp")).length === 0)).toBe(true);
    });

    it("rejects reading a hash as a string", async () => {
      await cache.hset("h:typed", { f: "v" });
      await expect(cache.get("h:typed")).rejects.toThrow(/WRONGTYPE/);
      expect(await cache.mget(["h:typed"])).toEqual([null]);
    });

    it("answers ping", async () => {
      await expect(cache.ping()).resolves.toBeUndefined();
    });
  });
}
