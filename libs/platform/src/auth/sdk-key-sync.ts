import type { Bus, BusMessage, Subscription } from "../bus/types.js";
import type { Cache } from "../cache/types.js";
import type { Logger } from "../log/index.js";
import type { SdkKeyEntry, SdkKeySet } from "./sdk-keys.js";

/** Where the last key list is kept (hashes only), so a replica started while the experiment service is down still accepts keys. */
const SNAPSHOT_KEY = "auth:sdk-keys";

export async function saveSdkKeySnapshot(cache: Cache, keys: readonly SdkKeyEntry[], logger: Logger): Promise<void> {
  try {
    await cache.set(SNAPSHOT_KEY, JSON.stringify(keys));
  } catch (err) {
    logger.warn({ err }, "could not store the SDK key snapshot");
  }
}

/** Installs the snapshot unless a live list arrived first. */
export async function restoreSdkKeySnapshot(cache: Cache, set: SdkKeySet, logger: Logger): Promise<void> {
  if (set.isLoaded()) return;
  try {
    const raw = await cache.get(SNAPSHOT_KEY);
    if (raw !== null && !set.isLoaded()) set.replace(JSON.parse(raw) as SdkKeyEntry[]);
  } catch (err) {
    logger.warn({ err }, "no SDK key snapshot: SDK keys are refused until the experiment service answers");
  }
}

export interface SdkKeyFollowerOptions {
  set: SdkKeySet;
  /** Fetches the current keys; undefined = unchanged since the last call. */
  load(): Promise<readonly SdkKeyEntry[] | undefined>;
  bus: Bus;
  /** Subjects announcing changes, and which of their messages concern SDK keys. */
  subjects: string[];
  isKeyChange(msg: BusMessage): boolean;
  cache: Cache;
  logger: Logger;
  /** Periodic reload, in case an event was lost. */
  intervalMs: number;
}

/**
 * Keeps an SdkKeySet current for a service that does not hold the ruleset itself (metrics):
 * load at start (snapshot when the experiment service is down), on key change events, and
 * periodically.
 */
export function followSdkKeys(opts: SdkKeyFollowerOptions): { start(): Promise<void>; close(): Promise<void> } {
  let sub: Subscription | undefined;
  let timer: NodeJS.Timeout | undefined;
  let inflight: Promise<void> | undefined;
  const reload = (): Promise<void> =>
    (inflight ??= (async () => {
      try {
        const keys = await opts.load();
        if (keys) {
          opts.set.replace(keys);
          await saveSdkKeySnapshot(opts.cache, keys, opts.logger);
        }
      } catch (err) {
        opts.logger.warn({ err }, "could not reload SDK keys; keeping the last list");
      } finally {
        inflight = undefined;
      }
    })());
  return {
    async start() {
      sub = await opts.bus.subscribe({
        subjects: opts.subjects,
        handler: async (msg) => {
          if (opts.isKeyChange(msg)) await reload();
        },
      });
      await reload();
      await restoreSdkKeySnapshot(opts.cache, opts.set, opts.logger);
      timer = setInterval(() => void reload(), opts.intervalMs);
      timer.unref();
    },
    async close() {
      clearInterval(timer);
      await sub?.close();
      await inflight;
    },
  };
}
