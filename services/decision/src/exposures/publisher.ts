import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { Bus } from "@lotty/platform/bus";
import { publishEvent, Subjects } from "@lotty/platform/events";
import type { Guard } from "@lotty/platform/resilience";
import type { Logger } from "@lotty/platform/log";
import { ExposureSchema } from "@lotty/proto/events";
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
  published: number;
  buffered: number;
  dropped: number;
}

export interface ExposurePublisherOptions {
  capacity: number;
  /** Exposures published concurrently per drain step. */
  batchSize: number;
  /** Wait before retrying after the bus failed. */
  retryMs: number;
}

/**
 * Publishes exposures off the hot path through a bounded buffer. When the bus is down the
 * buffer holds them and a timer retries; what does not fit is dropped and counted.
 */
export class ExposurePublisher {
  private buffer: ExposureRecord[] = [];
  private draining: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private published = 0;
  private dropped = 0;
  private readonly droppedCounter: Counter;
  private readonly publishedCounter: Counter;

  constructor(
    private readonly bus: Bus,
    private readonly guard: Guard,
    private readonly logger: Logger,
    registry: Registry,
    private readonly opts: ExposurePublisherOptions,
  ) {
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

  /** Never blocks and never throws. */
  enqueue(record: ExposureRecord): void {
    if (this.closed || this.buffer.length >= this.opts.capacity) {
      this.dropped++;
      this.droppedCounter.inc();
      return;
    }
    this.buffer.push(record);
    if (!this.draining && !this.retryTimer) this.draining = this.drain();
  }

  stats(): ExposureStats {
    return { published: this.published, buffered: this.buffer.length, dropped: this.dropped };
  }

  private async drain(): Promise<void> {
    // Yield first so a burst of decides is published in batches rather than one by one.
    await new Promise<void>((resolve) => setImmediate(resolve));
    try {
      while (this.buffer.length > 0) {
        const batch = this.buffer.splice(0, this.opts.batchSize);
        const results = await Promise.allSettled(batch.map((r) => this.publishOne(r)));
        const failed = batch.filter((_, i) => results[i].status === "rejected");
        this.published += batch.length - failed.length;
        this.publishedCounter.inc(batch.length - failed.length);
        if (failed.length > 0) {
          // Keep them at the front; the event id doubles as msgId so a republish is deduplicated.
          this.buffer.unshift(...failed);
          this.logger.warn({ failed: failed.length, buffered: this.buffer.length }, "exposure publish failed; retrying later");
          if (!this.closed) this.retryTimer = setTimeout(() => this.retry(), this.opts.retryMs);
          return;
        }
      }
    } finally {
      this.draining = undefined;
    }
  }

  private retry(): void {
    this.retryTimer = undefined;
    if (!this.draining) this.draining = this.drain();
  }

  private publishOne(r: ExposureRecord): Promise<void> {
    const event = create(ExposureSchema, {
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
    });
    return this.guard.execute(() => publishEvent(this.bus, Subjects.exposure, ExposureSchema, event, r.decisionId));
  }

  /** Publishes what is buffered (one last attempt), then stops; what remains is counted as dropped. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await this.draining;
    if (this.buffer.length > 0) {
      this.draining = this.drain();
      await this.draining;
    }
    const lost = this.buffer.length;
    if (lost > 0) {
      this.dropped += lost;
      this.droppedCounter.inc(lost);
      this.logger.warn({ lost }, "exposures not published before close");
      this.buffer = [];
    }
  }
}
