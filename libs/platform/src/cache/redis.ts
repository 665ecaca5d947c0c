import { Redis } from "ioredis";
import type { Cache } from "./types.js";

export interface RedisCacheOptions {
  /** Prepended to every key, so services (and test runs) sharing one Redis never collide. */
  keyPrefix?: string;
  /** Per-command deadline (default 1000 ms); also bounds the wait for the first connection. */
  commandTimeoutMs?: number;
}

/**
 * Redis-backed cache. The offline queue is off so that while Redis is down commands fail at once
 * (callers degrade) instead of queueing without bound; only the very first connection is waited
 * for, briefly, so a freshly created cache is usable straight away.
 */
export function createRedisCache(url: string, opts: RedisCacheOptions = {}): Cache {
  const timeoutMs = opts.commandTimeoutMs ?? 1000;
  const redis = new Redis(url, {
    keyPrefix: opts.keyPrefix,
    commandTimeout: timeoutMs,
    connectTimeout: Math.max(timeoutMs, 1000),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
  });
  // Connection errors are reported to each failing command; without a listener ioredis would
  // print every reconnect attempt.
  redis.on("error", () => {});

  let firstConnect: Promise<void> | undefined = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off("ready", onReady);
      reject(new Error(`redis: not connected to ${redactUrl(url)} within ${timeoutMs} ms`));
    }, timeoutMs);
    timer.unref();
    const onReady = (): void => {
      clearTimeout(timer);
      resolve();
    };
    redis.once("ready", onReady);
  });
  firstConnect.then(
    () => (firstConnect = undefined),
    () => (firstConnect = undefined),
  );

  async function ready(): Promise<Redis> {
    if (firstConnect && redis.status !== "ready") await firstConnect;
    return redis;
  }

  return {
    get: async (key) => (await ready()).get(key),
    mget: async (keys) => (keys.length === 0 ? [] : (await ready()).mget(...keys)),
    async set(key, value, o) {
      const r = await ready();
      await (o?.ttlMs !== undefined ? r.set(key, value, "PX", o.ttlMs) : r.set(key, value));
    },
    async del(key) {
      await (await ready()).del(key);
    },
    hgetall: async (key) => (await ready()).hgetall(key),
    async hset(key, fields) {
      if (Object.keys(fields).length > 0) await (await ready()).hset(key, fields);
    },
    hsetnx: async (key, field, value) => (await (await ready()).hsetnx(key, field, value)) === 1,
    async expire(key, ttlMs) {
      await (await ready()).pexpire(key, ttlMs);
    },
    async ping() {
      await (await ready()).ping();
    },
    async close() {
      // QUIT lets in-flight replies arrive; when Redis is unreachable just drop the socket.
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "redis";
  }
}
