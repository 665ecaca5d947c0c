import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { createRedisCache } from "../../src/cache/index.js";
import { cacheContract } from "./contract.js";

const url = process.env.LOTTY_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const keyPrefix = `lotty-test:${process.pid}:${randomBytes(4).toString("hex")}:`;

afterAll(async () => {
  const admin = new Redis(url);
  try {
    const keys: string[] = [];
    for await (const batch of admin.scanStream({ match: `${keyPrefix}*`, count: 200 })) keys.push(...(batch as string[]));
    if (keys.length > 0) await admin.del(...keys);
    expect(await admin.keys(`${keyPrefix}*`)).toEqual([]);
  } finally {
    await admin.quit();
  }
});

cacheContract("redis", () => createRedisCache(url, { keyPrefix }));

describe("redis cache specifics", () => {
  it("stores keys under the prefix", async () => {
    const cache = createRedisCache(url, { keyPrefix });
    const admin = new Redis(url);
    try {
      await cache.set("p:k", "v");
      expect(await admin.get(`${keyPrefix}p:k`)).toBe("v");
    } finally {
      await Promise.all([cache.close(), admin.quit()]);
    }
  });

  it("fails fast when Redis is unreachable instead of queueing", async () => {
    // Port 1 on loopback: nothing listens, so the connection is refused.
    const cache = createRedisCache("redis://127.0.0.1:1", { commandTimeoutMs: 200 });
    try {
      await expect(cache.get("k")).rejects.toThrow();
      await expect(cache.ping()).rejects.toThrow(/isn't writeable|not connected|closed/i);
    } finally {
      await cache.close();
    }
  });
});
