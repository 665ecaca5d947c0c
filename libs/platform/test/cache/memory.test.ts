import { afterEach, describe, expect, it, vi } from "vitest";
import { createMemoryCache } from "../../src/cache/index.js";
import { cacheContract } from "./contract.js";

cacheContract("memory", () => createMemoryCache());

describe("memory cache specifics", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("honours TTL exactly on an injected clock", async () => {
    let t = 1000;
    const cache = createMemoryCache({ now: () => t });
    await cache.set("k", "v", { ttlMs: 100 });
    t = 1099;
    expect(await cache.get("k")).toBe("v");
    t = 1100;
    expect(await cache.get("k")).toBeNull();
    await cache.close();
  });

  it("sweeps expired keys on its timer and clears the timer on close", async () => {
    vi.useFakeTimers();
    const cache = createMemoryCache({ sweepIntervalMs: 1000 });
    expect(vi.getTimerCount()).toBe(1);
    await cache.set("k", "v", { ttlMs: 10 });
    vi.advanceTimersByTime(1000);
    // The sweep removed it: a hash write now succeeds on a key that held a string.
    await expect(cache.hset("k", { f: "1" })).resolves.toBeUndefined();
    await cache.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("refuses use after close", async () => {
    const cache = createMemoryCache();
    await cache.close();
    await expect(cache.get("k")).rejects.toThrow(/closed/);
    await expect(cache.ping()).rejects.toThrow(/closed/);
  });
});
