// TrackEvents traffic as an SDK sends it: batches of events with unique ids that refer to real
// decisions, each batch retried (same ids) until the service confirms it, so a fault delays events
// but never drops them on the client side. What was confirmed is recorded per phase, to compare
// with what the metrics service stored and reports.
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ConnectError, type Client } from "@connectrpc/connect";
import type { MetricsService } from "@lotty/proto/metrics";
import type { EventInit } from "./scenario.js";

/** A decision an event can refer to. */
export interface DecisionRef {
  subjectId: string;
  decisionId: string;
}

export interface EventLoadOptions {
  client: Client<typeof MetricsService>;
  /** Decisions to attribute events to (one is picked per event). */
  decisions: () => readonly DecisionRef[];
  /** The event type of events created during a phase. */
  eventType: (phase: string) => string;
  concurrency: number;
  batchSize: number;
  pauseMs: number;
  timeoutMs: number;
  phase: string;
}

export interface PhaseEvents {
  /** Event ids the service confirmed as stored (accepted, or duplicate of an earlier attempt). */
  confirmed: string[];
  /** Calls made for this phase's batches, and those that failed (then retried). */
  calls: number;
  failedCalls: number;
  rejected: string[];
  lastError?: string;
}

export interface EventLoad {
  setPhase(phase: string): void;
  byPhase(): ReadonlyMap<string, PhaseEvents>;
  /** Batches whose sending failed at least once and that are not confirmed yet. */
  retrying(): number;
  /** Stops creating batches; resolves once every open batch is confirmed, or rejects after drainMs. */
  stop(drainMs: number): Promise<void>;
}

export function startEventLoad(opts: EventLoadOptions): EventLoad {
  let phase = opts.phase;
  let stopped = false;
  /** Set when stop() gave up waiting: open batches stop retrying. */
  let abandoned = false;
  let seq = 0;
  let open = 0;
  let retrying = 0;
  const stats = new Map<string, PhaseEvents>();
  const statsOf = (p: string) => {
    let s = stats.get(p);
    if (!s) stats.set(p, (s = { confirmed: [], calls: 0, failedCalls: 0, rejected: [] }));
    return s;
  };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  function batch(id: number): EventInit[] | undefined {
    const refs = opts.decisions();
    if (refs.length === 0) return undefined;
    const type = opts.eventType(phase);
    return Array.from({ length: opts.batchSize }, () => {
      const ref = refs[seq % refs.length];
      return { eventId: `ev-${id}-${seq++}`, type, decisionId: ref.decisionId, subjectId: ref.subjectId, timestamp: timestampFromDate(new Date()), value: 1 };
    });
  }

  /** Sends one batch until confirmed; never gives up on its own (stop() bounds the wait). */
  async function deliver(events: EventInit[], s: PhaseEvents): Promise<void> {
    open++;
    let failed = false;
    try {
      for (;;) {
        s.calls++;
        try {
          const res = await opts.client.trackEvents({ events }, { timeoutMs: opts.timeoutMs });
          const rejected = new Set(res.rejections.map((r) => r.index));
          s.rejected.push(...res.rejections.map((r) => `${r.eventId}: ${r.message}`));
          s.confirmed.push(...events.filter((_, i) => !rejected.has(i)).map((e) => e.eventId!));
          return;
        } catch (err) {
          s.failedCalls++;
          if (!failed) retrying++;
          failed = true;
          s.lastError = ConnectError.from(err).message;
          if (abandoned) return;
          await sleep(100);
        }
      }
    } finally {
      open--;
      if (failed) retrying--;
    }
  }

  async function loop(id: number): Promise<void> {
    while (!stopped) {
      const events = batch(id);
      if (events) await deliver(events, statsOf(phase));
      await sleep(opts.pauseMs);
    }
  }

  const loops = Array.from({ length: opts.concurrency }, (_, id) => loop(id));
  return {
    setPhase: (p) => void (phase = p),
    byPhase: () => stats,
    retrying: () => retrying,
    async stop(drainMs) {
      stopped = true;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${open} event batch(es) still unconfirmed after ${drainMs} ms`)), drainMs);
      });
      try {
        await Promise.race([Promise.all(loops), timeout]);
      } finally {
        clearTimeout(timer);
        abandoned = true;
      }
    },
  };
}
