import type { Db } from "@lotty/platform/db";
import type { Logger } from "@lotty/platform/log";
import { nextStep } from "../domain/backoff.js";
import { buildMessage } from "../domain/message.js";
import { getChannel } from "../store/channels.js";
import { claimDue, completeAttempt, nextDueTime, releaseLeases, type Completion, type DeliveryRecord } from "../store/deliveries.js";
import type { DeliveryOptions } from "./options.js";
import type { Send } from "./send.js";

export interface Worker {
  start(): void;
  /** New work is due at `at` (default now). */
  wake(at?: Date): void;
  close(): Promise<void>;
}

/**
 * Drains the outbox. Each claimed delivery is sent on its own (never awaited by the loop), so a
 * receiver that hangs holds one slot until its timeout, not the queue.
 */
export function createWorker(deps: { db: Db; logger: Logger; clock: () => Date; send: Send; options: DeliveryOptions }): Worker {
  const opts = deps.options;
  const stop = new AbortController();
  // Sends are not cut at shutdown: a message the receiver already has would be sent again after
  // the restart. close() waits for them, aborting only those still running after sendTimeoutMs.
  const sends = new AbortController();
  const inflight = new Map<string, { channelId: string; done: Promise<void> }>();
  let timer: NodeJS.Timeout | undefined;
  let timerAt = Infinity;
  let current: Promise<void> | undefined;
  let again = false;
  let started = false;

  function schedule(at: number): void {
    if (stop.signal.aborted || !started || at >= timerAt) return;
    clearTimeout(timer);
    timerAt = at;
    timer = setTimeout(() => {
      timerAt = Infinity;
      void tick();
    }, Math.max(0, at - deps.clock().getTime()));
  }

  function tick(): Promise<void> {
    if (current) {
      again = true;
      return current;
    }
    current = drain().finally(() => {
      current = undefined;
    });
    return current;
  }

  async function drain(): Promise<void> {
    try {
      do {
        again = false;
        await claimAndSend();
      } while (again && !stop.signal.aborted);
      const now = deps.clock().getTime();
      const due = await nextDueTime(deps.db);
      schedule(Math.min(now + opts.pollIntervalMs, due ? Math.max(due.getTime(), now) : Infinity));
    } catch (err) {
      if (!stop.signal.aborted) deps.logger.error({ err }, "outbox poll failed");
      schedule(deps.clock().getTime() + opts.pollIntervalMs);
    }
  }

  async function claimAndSend(): Promise<void> {
    const free = opts.concurrency - inflight.size;
    if (free <= 0 || stop.signal.aborted) return;
    const perChannel = new Map<string, number>();
    for (const f of inflight.values()) perChannel.set(f.channelId, (perChannel.get(f.channelId) ?? 0) + 1);
    const saturated = [...perChannel].filter(([, n]) => n >= opts.perChannelConcurrency).map(([id]) => id);
    const now = deps.clock();
    const lease = new Date(now.getTime() + 2 * opts.sendTimeoutMs + 5000);
    const claimed = await claimDue(deps.db, now, lease, free, saturated);
    const over: string[] = [];
    for (const d of claimed) {
      const n = perChannel.get(d.channelId) ?? 0;
      if (n >= opts.perChannelConcurrency) {
        over.push(d.id);
        continue;
      }
      perChannel.set(d.channelId, n + 1);
      const done = attempt(d).finally(() => {
        inflight.delete(d.id);
        if (!stop.signal.aborted) void tick();
      });
      inflight.set(d.id, { channelId: d.channelId, done });
    }
    await releaseLeases(deps.db, over);
    // A full batch means more may be due right now.
    if (claimed.length === free && over.length === 0) again = true;
  }

  async function attempt(d: DeliveryRecord): Promise<void> {
    try {
      const channel = await getChannel(deps.db, d.channelId);
      const outcome = channel
        ? await deps.send(channel, buildMessage(d.notices, d.template), d.id, sends.signal)
        : { kind: "permanent" as const, error: "channel deleted" };
      if (sends.signal.aborted && outcome.kind !== "delivered") {
        // Cut short by shutdown: not the receiver's fault, so it does not use up an attempt.
        await releaseLeases(deps.db, [d.id]);
        return;
      }
      const attempts = d.attempts + 1;
      const step = nextStep(outcome, attempts, { baseMs: opts.baseBackoffMs, maxMs: opts.maxBackoffMs, maxAttempts: opts.maxAttempts, maxRetryAfterMs: opts.maxRetryAfterMs });
      const now = deps.clock();
      const completion: Completion =
        step.status === "pending" ? { status: "pending", error: step.error, nextAttemptAt: new Date(now.getTime() + step.delayMs) }
        : step.status === "delivered" ? { status: "delivered", at: now }
        : step;
      await completeAttempt(deps.db, d.id, completion);
      if (step.status === "dead_letter") {
        deps.logger.warn({ deliveryId: d.id, channelId: d.channelId, attempts, error: step.error }, "delivery dead-lettered");
      } else if (step.status === "pending") {
        deps.logger.info({ deliveryId: d.id, channelId: d.channelId, attempts, error: step.error, retryInMs: step.delayMs }, "delivery will be retried");
      }
    } catch (err) {
      // The lease expires and the delivery comes due again.
      deps.logger.error({ err, deliveryId: d.id }, "delivery attempt failed to record");
    }
  }

  return {
    start() {
      started = true;
      void tick();
    },
    wake(at) {
      if (!started) return;
      const t = (at ?? deps.clock()).getTime();
      if (t <= deps.clock().getTime()) void tick();
      else schedule(t);
    },
    async close() {
      stop.abort();
      clearTimeout(timer);
      // A poll already under way may still start sends; wait for it first, then for every send.
      await current;
      const deadline = setTimeout(() => sends.abort(), opts.sendTimeoutMs);
      await Promise.allSettled([...inflight.values()].map((f) => f.done));
      clearTimeout(deadline);
    },
  };
}
