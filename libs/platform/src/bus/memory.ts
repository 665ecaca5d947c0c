import { DEFAULT_DUPLICATE_WINDOW_MS, DEFAULT_RETRY_DELAY_MS, isLastDelivery, type OnDrop } from "./drop.js";
import { matchesAny } from "./subject.js";
import type { Bus, BusMessage, PublishOptions, SubscribeOptions, Subscription } from "./types.js";

export interface MemoryBusOptions {
  /** msgId deduplication window, default 2 minutes (as NATS). */
  duplicateWindowMs?: number;
  onDrop?: OnDrop;
}

/** One live subscriber; it handles one message at a time, so it sees its messages in order. */
interface Member {
  readonly opts: SubscribeOptions;
  busy: boolean;
  closed: boolean;
  inflight?: Promise<void>;
}

/**
 * Messages waiting for a set of members. A durable queue outlives its members (keyed by durable
 * name), an ephemeral one belongs to a single subscription.
 */
interface Queue {
  filters: string[];
  readonly durable?: string;
  readonly pending: BusMessage[];
  readonly members: Member[];
  /** Round-robin cursor over members. */
  next: number;
}

/**
 * In-process bus with the NATS bus's at-least-once semantics, for the embedded single-process
 * mode and for tests. Delivery always happens on a later tick, never inside publish().
 */
export function createMemoryBus(opts: MemoryBusOptions = {}): Bus {
  const windowMs = opts.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS;
  const durables = new Map<string, Queue>();
  const ephemerals = new Set<Queue>();
  const seenIds = new Map<string, number>(); // msgId -> expiry; insertion order = expiry order
  const timers = new Set<NodeJS.Timeout>();
  const inflight = new Set<Promise<void>>();
  let closed = false;

  const isLive = (q: Queue) => !closed && (q.durable !== undefined || ephemerals.has(q));

  function schedule(q: Queue): void {
    queueMicrotask(() => pump(q));
  }

  function pump(q: Queue): void {
    while (isLive(q) && q.pending.length > 0) {
      const member = takeIdle(q);
      if (!member) return;
      run(q, member, q.pending.shift()!);
    }
  }

  function takeIdle(q: Queue): Member | undefined {
    for (let i = 0; i < q.members.length; i++) {
      const idx = (q.next + i) % q.members.length;
      const m = q.members[idx];
      if (!m.busy && !m.closed) {
        q.next = idx + 1;
        return m;
      }
    }
    return undefined;
  }

  function run(q: Queue, member: Member, msg: BusMessage): void {
    member.busy = true;
    const p = deliver(q, member, msg).finally(() => {
      member.busy = false;
      member.inflight = undefined;
      inflight.delete(p);
      schedule(q);
    });
    member.inflight = p;
    inflight.add(p);
  }

  async function deliver(q: Queue, member: Member, msg: BusMessage): Promise<void> {
    try {
      await member.opts.handler({ ...msg, headers: { ...msg.headers } });
    } catch (err) {
      retryOrDrop(q, member.opts, msg, err);
    }
  }

  function retryOrDrop(q: Queue, sub: SubscribeOptions, msg: BusMessage, err: unknown): void {
    const deliveries = msg.redeliveries + 1;
    if (isLastDelivery(deliveries, sub.maxDeliver)) {
      opts.onDrop?.(msg, err, q.durable);
      return;
    }
    if (!isLive(q)) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!isLive(q)) return;
      // Redeliveries go first, as JetStream serves pending redeliveries before new messages.
      q.pending.unshift({ ...msg, redeliveries: deliveries });
      pump(q);
    }, sub.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS);
    timer.unref();
    timers.add(timer);
  }

  function isDuplicate(msgId: string): boolean {
    const now = Date.now();
    for (const [id, expiry] of seenIds) {
      if (expiry > now) break;
      seenIds.delete(id);
    }
    if (seenIds.has(msgId)) return true;
    seenIds.set(msgId, now + windowMs);
    return false;
  }

  return {
    async publish(subject: string, data: Uint8Array, pub: PublishOptions = {}): Promise<void> {
      if (closed) throw new Error("bus closed");
      if (pub.msgId !== undefined && isDuplicate(pub.msgId)) return;
      const msg: BusMessage = { subject, data, headers: { ...pub.headers }, redeliveries: 0 };
      for (const q of [...durables.values(), ...ephemerals]) {
        if (!matchesAny(q.filters, subject)) continue;
        q.pending.push(msg);
        schedule(q);
      }
    },

    async subscribe(sub: SubscribeOptions): Promise<Subscription> {
      if (closed) throw new Error("bus closed");
      let q: Queue;
      if (sub.durable !== undefined) {
        q = durables.get(sub.durable) ?? { durable: sub.durable, filters: [], pending: [], members: [], next: 0 };
        q.filters = [...sub.subjects]; // the latest subscriber defines the filter, like a consumer update
        durables.set(sub.durable, q);
      } else {
        q = { filters: [...sub.subjects], pending: [], members: [], next: 0 };
        ephemerals.add(q);
      }
      const member: Member = { opts: sub, busy: false, closed: false };
      q.members.push(member);
      schedule(q); // a durable may hold messages kept while it had no subscriber
      return {
        async close() {
          if (member.closed) return;
          member.closed = true;
          q.members.splice(q.members.indexOf(member), 1);
          if (q.durable === undefined) ephemerals.delete(q);
          await member.inflight;
        },
      };
    },

    isConnected: () => !closed,

    async close(): Promise<void> {
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await Promise.allSettled([...inflight]);
    },
  };
}
