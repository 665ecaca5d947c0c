import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { Bus } from "@lotty/platform/bus";
import { publishEvent, Subjects } from "@lotty/platform/events";
import type { Guard } from "@lotty/platform/resilience";
import type { Logger } from "@lotty/platform/log";
import { ExposureBatchSchema, type ExposureSchema } from "@lotty/proto/events";
import { randomUUID } from "node:crypto";
import { Counter, type Registry } from "prom-client";

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
  /** Exposures per batch message at most; a full batch is published without waiting. */
  batchSize: number;
  /** How long the first exposure of a batch waits for more before the batch is published. */
  flushMs?: number;
  /** Wait before retrying after the bus failed. */
  retryMs: number;
}

const DEFAULT_FLUSH_MS = 25;

/** A batch taken from the buffer: keeps its id until published, so a republish is deduplicated. */
interface SealedBatch {
  id: string;
  records: ExposureRecord[];
}

/**
 * Publishes exposures off the hot path as ExposureBatch messages: one publish, one ack and one
 * guard call per batch instead of per decision (per-decision publishing dominated the decision
 * service's CPU). The buffer is bounded: while the bus is down it holds exposures and a timer
 * retries; what does not fit is dropped and counted.
 */
export class ExposurePublisher {
  private pending: ExposureRecord[] = [];
  /** The batch being published, or waiting for a retry after a failure. */
  private sealed: SealedBatch | undefined;
  private flushing = false;
  private flushDone: Promise<void> | undefined;
  /** Either the flush delay or the retry delay; never both. */
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private published = 0;
  private dropped = 0;
  private readonly batchPrefix = randomUUID();
  private batchSeq = 0;
  private readonly flushMs: number;
  private readonly droppedCounter: Counter;
  private readonly publishedCounter: Counter;
  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.startFlush();
  };

  constructor(
    private readonly bus: Bus,
    private readonly guard: Guard,
    private readonly logger: Logger,
    registry: Registry,
    private readonly opts: ExposurePublisherOptions,
  ) {
    this.flushMs = opts.flushMs ?? DEFAULT_FLUSH_MS;
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
    // A running flush picks it up; a sealed batch not in flight waits for its retry timer.
    if (this.flushing || this.sealed) return;
    if (this.pending.length === this.opts.batchSize) {
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
    return this.pending.length + (this.sealed?.records.length ?? 0);
  }

  private startFlush(): void {
    if (this.flushing) return;
    this.flushing = true;
    this.flushDone = this.flush();
  }

  private async flush(): Promise<void> {
    try {
      for (;;) {
        const batch = (this.sealed ??= this.seal());
        if (!batch) return;
        try {
          await this.guard.execute(() => this.publish(batch));
        } catch (err) {
          this.logger.warn({ err, failed: batch.records.length, buffered: this.buffered() }, "exposure batch publish failed; retrying later");
          if (!this.closed) this.timer = setTimeout(this.onTimer, this.opts.retryMs);
          return;
        }
        this.sealed = undefined;
        this.published += batch.records.length;
        this.publishedCounter.inc(batch.records.length);
        // Full batches go at once; a partial one waits for company (unless closing).
        if (this.pending.length === 0) return;
        if (this.pending.length < this.opts.batchSize && !this.closed) {
          this.timer = setTimeout(this.onTimer, this.flushMs);
          return;
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private seal(): SealedBatch | undefined {
    if (this.pending.length === 0) return undefined;
    let records: ExposureRecord[];
    if (this.pending.length <= this.opts.batchSize) {
      records = this.pending;
      this.pending = [];
    } else {
      records = this.pending.splice(0, this.opts.batchSize);
    }
    return { id: `${this.batchPrefix}-${(this.batchSeq++).toString(36)}`, records };
  }

  private publish(batch: SealedBatch): Promise<void> {
    const message = create(ExposureBatchSchema, { exposures: batch.records.map(toExposure) });
    return publishEvent(this.bus, Subjects.exposureBatches, ExposureBatchSchema, message, batch.id);
  }

  /** Publishes what is buffered (one last attempt), then stops; what remains is counted as dropped. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flushDone;
    if (this.buffered() > 0) {
      this.startFlush();
      await this.flushDone;
    }
    const lost = this.buffered();
    if (lost > 0) {
      this.dropped += lost;
      this.droppedCounter.inc(lost);
      this.logger.warn({ lost }, "exposures not published before close");
      this.pending = [];
      this.sealed = undefined;
    }
  }
}

function toExposure(r: ExposureRecord): MessageInitShape<typeof ExposureSchema> {
  return {
    eventId: r.decisionId,
    occurTime: timestampFromMs(r.occurMs),
    decisionId: r.decisionId,
    subjectId: r.subjectId,
    flagKey: r.flagKey,
    experimentId: r.experimentId,
    variant: r.variant,
    reason: r.reason,
    rulesetVersion: r.rulesetVersion,
    firstAssignment: r.firstAssignment,
  };
}
