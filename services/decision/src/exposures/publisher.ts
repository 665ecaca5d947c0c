import type { Bus } from "@lotty/platform/bus";
import { Subjects } from "@lotty/platform/events";
import type { Guard } from "@lotty/platform/resilience";
import type { Logger } from "@lotty/platform/log";
import { injectTraceHeaders } from "@lotty/platform/telemetry";
import { randomUUID } from "node:crypto";
import { Counter, type Registry } from "prom-client";
import { encodeExposureBatch } from "./encode.js";

/** What the hot path hands over: plain fields, encoded later off the request. */
export interface ExposureRecord {
  decisionId: string;
  occurMs: number;
  subjectId: string;
  flagKey: string;
  experimentId: string;
  variant: string;
  reason: string;
  rulesetVersion: bigint;
  firstAssignment: boolean;
}

export interface ExposureStats {
  /** Exposures (not batches) the bus acknowledged. */
  published: number;
  buffered: number;
  dropped: number;
}

export interface ExposurePublisherOptions {
  capacity: number;
  /** Exposures per batch message; a full batch is published without waiting. */
  batchSize: number;
  /**
   * Exposures per batch while a backlog waits (more than batchSize pending when a batch is
   * sealed): fewer, larger messages catch up faster. Default batchSize. Capped by MAX_BATCH_BYTES.
   */
  maxBatchSize?: number;
  /** Batches published at once, each awaiting its own ack. Default 1. */
  maxInFlight?: number;
  /** How long the first exposure of a batch waits for more before the batch is published. */
  flushMs?: number;
  /** Wait before retrying after the bus failed. */
  retryMs: number;
}

const DEFAULT_FLUSH_MS = 25;
/** Well under NATS's default max_payload (1 MiB), which a larger message would exceed. */
export const MAX_BATCH_BYTES = 512 * 1024;

/** An encoded batch: keeps its id (and bytes) until published, so a republish is deduplicated. */
interface SealedBatch {
  id: string;
  data: Uint8Array;
  count: number;
}

/**
 * Publishes exposures off the hot path as ExposureBatch messages: one publish, one ack and one
 * guard call per batch instead of per decision. Up to maxInFlight batches are out at once, so
 * the acks' round trips overlap. The buffer is bounded: while the bus is down it holds
 * exposures and a timer retries one batch at a time until one gets through; what does not fit
 * is dropped and counted.
 */
export class ExposurePublisher {
  /** Exposures not sealed yet: pending[head..]. */
  private pending: ExposureRecord[] = [];
  private head = 0;
  /** Batches whose publish failed, oldest first; they go before new ones. */
  private failed: SealedBatch[] = [];
  private readonly sending = new Set<Promise<void>>();
  /** Exposures in `failed` and in flight. */
  private sealedCount = 0;
  /** After a failure: nothing more is sent until the retry timer's single batch gets through. */
  private holding = false;
  /** The flush delay, the retry delay, or an immediate pump; never two at once. */
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private published = 0;
  private dropped = 0;
  private readonly batchPrefix = randomUUID();
  private batchSeq = 0;
  private readonly flushMs: number;
  private readonly maxBatchSize: number;
  private readonly maxInFlight: number;
  private readonly droppedCounter: Counter;
  private readonly publishedCounter: Counter;
  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.pump(true);
  };

  constructor(
    private readonly bus: Bus,
    private readonly guard: Guard,
    private readonly logger: Logger,
    registry: Registry,
    private readonly opts: ExposurePublisherOptions,
  ) {
    this.flushMs = opts.flushMs ?? DEFAULT_FLUSH_MS;
    this.maxBatchSize = Math.max(opts.batchSize, opts.maxBatchSize ?? opts.batchSize);
    this.maxInFlight = Math.max(1, opts.maxInFlight ?? 1);
    this.droppedCounter = new Counter({
      name: "lotty_decision_exposures_dropped_total",
      help: "Exposures dropped because the buffer was full (the bus was down too long)",
      registers: [registry],
    });
    this.publishedCounter = new Counter({
      name: "lotty_decision_exposures_published_total",
      help: "Exposures published to the bus",
      registers: [registry],
    });
  }

  /** Never blocks and never throws; costs an array push (and a timer per batch). */
  enqueue(record: ExposureRecord): void {
    if (this.closed || this.buffered() >= this.opts.capacity) {
      this.dropped++;
      this.droppedCounter.inc();
      return;
    }
    this.pending.push(record);
    // While holding, the retry timer resumes publishing.
    if (this.holding) return;
    if (this.pending.length - this.head === this.opts.batchSize && this.sending.size < this.maxInFlight) {
      clearTimeout(this.timer);
      this.timer = setTimeout(this.onTimer, 0);
    } else if (!this.timer) {
      this.timer = setTimeout(this.onTimer, this.flushMs);
    }
  }

  stats(): ExposureStats {
    return { published: this.published, buffered: this.buffered(), dropped: this.dropped };
  }

  private buffered(): number {
    return this.pending.length - this.head + this.sealedCount;
  }

  /** Starts batches while slots are free: failed ones first, then full ones, then (when `partial`) the rest. */
  private pump(partial: boolean): void {
    // After a failure one batch probes the bus; the rest wait for its success.
    for (let free = (this.holding ? 1 : this.maxInFlight) - this.sending.size; free > 0; free--) {
      const batch = this.failed.shift() ?? this.seal(partial, free);
      if (!batch) break;
      this.send(batch);
    }
    // A partial batch left behind waits for company.
    if (!this.timer && !this.holding && !this.closed && this.pending.length > this.head) this.timer = setTimeout(this.onTimer, this.flushMs);
  }

  /** Takes the next batch: batchSize, or while more wait than `free` slots take at that size, an even share up to maxBatchSize. */
  private seal(partial: boolean, free: number): SealedBatch | undefined {
    const waiting = this.pending.length - this.head;
    if (waiting === 0 || (waiting < this.opts.batchSize && !partial)) return undefined;
    const size = Math.min(this.maxBatchSize, Math.max(this.opts.batchSize, Math.ceil(waiting / free)));
    const { data, count } = encodeExposureBatch(this.pending, this.head, size, MAX_BATCH_BYTES);
    this.head += count;
    if (this.head === this.pending.length) {
      this.pending = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.pending.length) {
      // Drop what was sealed once it is most of the array, so the array does not grow unbounded.
      this.pending = this.pending.slice(this.head);
      this.head = 0;
    }
    this.sealedCount += count;
    return { id: `${this.batchPrefix}-${(this.batchSeq++).toString(36)}`, data, count };
  }

  private send(batch: SealedBatch): void {
    const sent: Promise<void> = this.guard
      .execute(() => this.bus.publish(Subjects.exposureBatches, batch.data, { msgId: batch.id, headers: injectTraceHeaders({}) }))
      .then(
        () => {
          this.sending.delete(sent);
          this.onPublished(batch);
        },
        (err: unknown) => {
          this.sending.delete(sent);
          this.onFailed(batch, err);
        },
      );
    this.sending.add(sent);
  }

  private onPublished(batch: SealedBatch): void {
    this.sealedCount -= batch.count;
    this.published += batch.count;
    this.publishedCounter.inc(batch.count);
    if (this.closed) return;
    if (this.holding) {
      // The bus is back: what waited goes now, at full width.
      this.holding = false;
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    // Full batches go at once; a partial one waits for company (pump arms the flush timer).
    this.pump(false);
  }

  private onFailed(batch: SealedBatch, err: unknown): void {
    this.failed.push(batch);
    if (this.closed) return;
    if (!this.holding) {
      this.logger.warn({ err, failed: batch.count, buffered: this.buffered() }, "exposure batch publish failed; retrying later");
      this.holding = true;
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.timer ??= setTimeout(this.onTimer, this.opts.retryMs);
  }

  /** Publishes what is buffered (one last attempt), then stops; what remains is counted as dropped. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await Promise.all(this.sending);
    const last = this.failed.splice(0);
    for (let batch = this.seal(true, 1); batch; batch = this.seal(true, 1)) last.push(batch);
    for (const batch of last) this.send(batch);
    await Promise.all(this.sending);
    const lost = this.buffered();
    if (lost > 0) {
      this.dropped += lost;
      this.droppedCounter.inc(lost);
      this.logger.warn({ lost }, "exposures not published before close");
      this.pending = [];
      this.head = 0;
      this.failed = [];
      this.sealedCount = 0;
    }
  }
}
