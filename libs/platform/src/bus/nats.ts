import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from "@nats-io/jetstream";
import { connect, headers as natsHeaders, nanos, type NatsConnection } from "@nats-io/transport-node";
import { DEFAULT_DUPLICATE_WINDOW_MS, DEFAULT_RETRY_DELAY_MS, isLastDelivery, type OnDrop } from "./drop.js";
import type { Bus, BusMessage, PublishOptions, SubscribeOptions, Subscription } from "./types.js";

export interface NatsBusOptions {
  /** Comma-separated server URLs, e.g. `nats://127.0.0.1:4222`. */
  servers: string;
  /** JetStream stream name, default "LOTTY". */
  stream?: string;
  /** Subjects the stream captures, default ["lotty.>"]. */
  subjects?: string[];
  /** How long the stream keeps messages, default 7 days. */
  maxAgeMs?: number;
  /** msgId deduplication window, default 2 minutes. */
  duplicateWindowMs?: number;
  /** Connection name shown by the server. */
  name?: string;
  /** How long publish waits for the PubAck, default 5000 ms. */
  publishTimeoutMs?: number;
  onDrop?: OnDrop;
}

const DEFAULT_MAX_AGE_MS = 7 * 24 * 3600_000;
/**
 * Messages a durable subscriber pulls ahead. Small so replicas sharing a durable split the work
 * evenly and a closing replica hands back little.
 */
const PULL_BATCH = 10;

/**
 * Bus on NATS JetStream (v3 client). Targets nats-server 2.9, which has no multi-subject consumer
 * filters: every subscribed subject gets its own consumer (for durables, named
 * `<durable>_<hash of subject>`), so a subscription to overlapping subjects may see a message twice.
 */
export async function createNatsBus(opts: NatsBusOptions): Promise<Bus> {
  const stream = opts.stream ?? "LOTTY";
  const maxAgeMs = opts.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  const nc = await connect({
    servers: opts.servers.split(",").map((s) => s.trim()),
    name: opts.name,
    maxReconnectAttempts: -1, // survive any NATS outage; publish fails fast meanwhile
    reconnectTimeWait: 500,
  });
  let connected = true;
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "disconnect") connected = false;
      else if (s.type === "reconnect") connected = true;
    }
  })();

  try {
    const jsm = await jetstreamManager(nc);
    await ensureStream(jsm, {
      name: stream,
      subjects: opts.subjects ?? ["lotty.>"],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      max_age: nanos(maxAgeMs),
      // the server refuses a dedup window longer than the stream keeps messages
      duplicate_window: nanos(Math.min(opts.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS, maxAgeMs)),
    });
    const js = jetstream(nc, { timeout: opts.publishTimeoutMs ?? 5000 });
    const subs = new Set<Subscription>();

    return {
      async publish(subject: string, data: Uint8Array, pub: PublishOptions = {}): Promise<void> {
        // The client would queue the request until reconnect; callers want to know now and buffer.
        if (!connected || nc.isClosed()) throw new Error("nats bus: not connected");
        const h = natsHeaders();
        for (const [k, v] of Object.entries(pub.headers ?? {})) h.set(k, v);
        await js.publish(subject, data, { headers: h, msgID: pub.msgId });
      },

      async subscribe(sub: SubscribeOptions): Promise<Subscription> {
        const s = await subscribeJetStream(nc, js, jsm, stream, sub, opts.onDrop);
        subs.add(s);
        return {
          async close() {
            subs.delete(s);
            await s.close();
          },
        };
      },

      isConnected: () => connected && !nc.isClosed(),

      async close(): Promise<void> {
        await Promise.allSettled([...subs].map((s) => s.close()));
        subs.clear();
        if (!nc.isClosed()) await nc.drain();
      },
    };
  } catch (err) {
    await nc.close();
    throw err;
  }
}

type StreamConfig = Parameters<JetStreamManager["streams"]["add"]>[0] & { name: string };

async function ensureStream(jsm: JetStreamManager, cfg: StreamConfig): Promise<void> {
  try {
    await jsm.streams.add(cfg); // a no-op when it exists with these settings
  } catch (err) {
    // It exists with other settings (or another replica raced us): bring it to ours.
    if (!(err instanceof JetStreamApiError)) throw err;
    await jsm.streams.update(cfg.name, cfg);
  }
}

/** Pause after a consume loop ended unexpectedly, before opening it again. */
const REOPEN_DELAY_MS = 1000;

/**
 * One consume loop per subject. A loop whose consumer fails (deleted, permissions) is reopened
 * until the subscription closes. close() stops pulling and waits for the in-flight handler.
 */
async function subscribeJetStream(
  nc: NatsConnection,
  js: JetStreamClient,
  jsm: JetStreamManager,
  stream: string,
  sub: SubscribeOptions,
  onDrop: OnDrop | undefined,
): Promise<Subscription> {
  const abort = new AbortController();
  const stopped = () => abort.signal.aborted || nc.isClosed();
  const current: ConsumerMessages[] = [];
  const loops: Promise<void>[] = [];
  const subscription: Subscription = {
    async close() {
      abort.abort();
      await Promise.allSettled(current.map((it) => it.close()));
      await Promise.allSettled(loops);
    },
  };
  const durable = sub.durable;
  const handle = durable === undefined ? handleWithLocalRetry : handleWithAck;
  const drop = (msg: BusMessage, err: unknown) => onDrop?.(msg, err, durable);

  async function consumeLoop(slot: number, open: () => Promise<ConsumerMessages>): Promise<void> {
    while (!stopped()) {
      try {
        for await (const m of current[slot]) {
          if (abort.signal.aborted) {
            // Pulled ahead but not handled: give it back to other replicas at once.
            if (durable !== undefined) m.nak();
            continue;
          }
          await handle(m, sub, abort.signal, drop);
        }
      } catch {
        // the consumer failed; reopened below
      }
      await current[slot].close();
      if (!(await pause(REOPEN_DELAY_MS, abort.signal))) return;
      try {
        current[slot] = await open();
        if (stopped()) await current[slot].close();
      } catch {
        // still failing; the next round tries again
      }
    }
  }

  try {
    for (const subject of sub.subjects) {
      const open = () =>
        durable === undefined
          ? consumeOrdered(js, stream, subject)
          : consumeDurable(js, jsm, stream, durableName(durable, subject), subject, sub.maxDeliver);
      current.push(await open());
      loops.push(consumeLoop(current.length - 1, open));
    }
  } catch (err) {
    await subscription.close();
    throw err;
  }
  return subscription;
}

/** Waits `ms`; false when the signal aborted first. */
async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal, ref: false });
    return true;
  } catch {
    return false;
  }
}

/** Consumer names allow neither `.` nor wildcards, so the subject is represented by a hash. */
export function durableName(durable: string, subject: string): string {
  return `${durable}_${createHash("sha256").update(subject).digest("hex").slice(0, 10)}`;
}

async function consumeDurable(
  js: JetStreamClient,
  jsm: JetStreamManager,
  stream: string,
  name: string,
  subject: string,
  maxDeliver: number | undefined,
): Promise<ConsumerMessages> {
  const max_deliver = maxDeliver ?? -1;
  try {
    await jsm.consumers.add(stream, {
      durable_name: name,
      ack_policy: AckPolicy.Explicit,
      // A brand-new durable starts at "now" (not at the stream's history); from then on its
      // position is kept by the server across restarts.
      deliver_policy: DeliverPolicy.New,
      filter_subject: subject,
      max_deliver,
    });
  } catch (err) {
    // 2.9 refuses to re-create an existing durable with different settings; update those.
    if (!(err instanceof JetStreamApiError)) throw err;
    await jsm.consumers.update(stream, name, { max_deliver });
  }
  const consumer = await js.consumers.get(stream, name);
  // Fail instead of waiting forever if the consumer is deleted, so the loop re-creates it.
  return consumer.consume({ max_messages: PULL_BATCH, abort_on_missing_resource: true });
}

async function consumeOrdered(js: JetStreamClient, stream: string, subject: string): Promise<ConsumerMessages> {
  const consumer = await js.consumers.get(stream, { filter_subjects: subject, deliver_policy: DeliverPolicy.New });
  return consumer.consume();
}

function toBusMessage(m: JsMsg, redeliveries: number): BusMessage {
  const headers: Record<string, string> = {};
  for (const k of m.headers?.keys() ?? []) {
    if (!k.startsWith("Nats-")) headers[k] = m.headers!.get(k);
  }
  return { subject: m.subject, data: m.data, headers, redeliveries };
}

type Handle = (m: JsMsg, sub: SubscribeOptions, signal: AbortSignal, drop: (msg: BusMessage, err: unknown) => void) => Promise<void>;

/** Durable: the server redelivers a nak'ed message after the delay and counts deliveries. */
const handleWithAck: Handle = async (m, sub, _signal, drop) => {
  const msg = toBusMessage(m, m.info.deliveryCount - 1);
  try {
    await sub.handler(msg);
    m.ack();
  } catch (err) {
    if (isLastDelivery(m.info.deliveryCount, sub.maxDeliver)) {
      m.term();
      drop(msg, err);
    } else {
      m.nak(sub.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS);
    }
  }
};

/**
 * Ephemeral: ordered consumers cannot nak, so a failed message is retried here, in place (which
 * also keeps the subscriber's order).
 */
const handleWithLocalRetry: Handle = async (m, sub, signal, drop) => {
  for (let redeliveries = 0; ; redeliveries++) {
    const msg = toBusMessage(m, redeliveries);
    try {
      await sub.handler(msg);
      return;
    } catch (err) {
      if (isLastDelivery(redeliveries + 1, sub.maxDeliver)) return drop(msg, err);
    }
    if (!(await pause(sub.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS, signal))) return; // closing
  }
};
