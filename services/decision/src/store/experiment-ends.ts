import type { Bus, Subscription } from "@lotty/platform/bus";
import { Subjects, subscribeEvents } from "@lotty/platform/events";
import type { Guard } from "@lotty/platform/resilience";
import type { Logger } from "@lotty/platform/log";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { ExperimentStatusChangedSchema, type ExperimentStatusChanged } from "@lotty/proto/events";
import type { ExperimentEndStore } from "./assignments.js";

const ENDED = new Set(["completed", "archived"]);

/**
 * When experiments ended, in memory for the hot path (cooldowns) and in Postgres for restarts.
 * A durable consumer writes Postgres once per event; every replica also applies events it sees
 * on the ephemeral refresh subscription, and reloads the table on resync.
 */
export class ExperimentEnds {
  private ends = new Map<string, number>();

  constructor(
    private readonly store: ExperimentEndStore,
    private readonly dbGuard: Guard,
    private readonly logger: Logger,
  ) {}

  current(): ReadonlyMap<string, number> {
    return this.ends;
  }

  /** Applies a status change in memory; returns the end time when it ended an experiment. */
  apply(event: ExperimentStatusChanged): number | undefined {
    if (!ENDED.has(event.toStatus)) return undefined;
    const endedAt = event.occurTime ? timestampMs(event.occurTime) : Date.now();
    // Completed then archived: the cooldown started at the first end.
    if (!this.ends.has(event.experimentId)) this.ends.set(event.experimentId, endedAt);
    return this.ends.get(event.experimentId);
  }

  async reload(): Promise<void> {
    try {
      const stored = await this.dbGuard.execute(() => this.store.all());
      // Keep ends seen in events but not yet written by the durable consumer.
      for (const [id, at] of this.ends) if (!stored.has(id)) stored.set(id, at);
      this.ends = stored;
    } catch (err) {
      this.logger.warn({ err }, "could not reload experiment end times; keeping the ones in memory");
    }
  }

  /** The durable writer: a failed write is redelivered. */
  subscribeDurable(bus: Bus): Promise<Subscription> {
    return subscribeEvents(bus, {
      subjects: [Subjects.experimentStatusChanged],
      schema: ExperimentStatusChangedSchema,
      durable: "decision-experiment-ends",
      handler: async (event) => {
        const endedAt = this.apply(event);
        if (endedAt !== undefined) await this.dbGuard.execute(() => this.store.record(event.experimentId, endedAt));
      },
    });
  }
}
