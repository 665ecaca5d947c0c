import { fromBinary } from "@bufbuild/protobuf";
import type { Bus, PublishOptions } from "@lotty/platform/bus";
import { Subjects } from "@lotty/platform/events";
import { createGuard } from "@lotty/platform/resilience";
import { ExposureBatchSchema } from "@lotty/proto/events";
import { Registry } from "prom-client";
import { describe, expect, it, vi } from "vitest";
import { ExposurePublisher, type ExposureRecord } from "../src/exposures/publisher.js";
import { silentLogger } from "./harness.js";

interface Sent {
  subject: string;
  msgId: string | undefined;
  decisionIds: string[];
}

/** Records every publish; rejects while `down`. */
function recordingBus() {
  const sent: Sent[] = [];
  const state = { down: false, attempts: [] as (string | undefined)[] };
  const bus: Bus = {
    async publish(subject: string, data: Uint8Array, opts?: PublishOptions) {
      state.attempts.push(opts?.msgId);
      if (state.down) throw new Error("nats down");
      sent.push({ subject, msgId: opts?.msgId, decisionIds: fromBinary(ExposureBatchSchema, data).exposures.map((x) => x.decisionId) });
    },
    subscribe: () => Promise.reject(new Error("not used")),
    isConnected: () => !state.down,
    close: async () => {},
  };
  return { bus, sent, state };
}

function publisher(bus: Bus, opts: { capacity?: number; batchSize?: number } = {}) {
  // A generous circuit so the retry test sees every attempt reach the bus.
  const guard = createGuard("nats-test", { timeoutMs: 1_000, failureThreshold: 1_000, halfOpenAfterMs: 10 });
  return new ExposurePublisher(bus, guard, silentLogger, new Registry(), { capacity: opts.capacity ?? 10_000, batchSize: opts.batchSize ?? 500, flushMs: 5, retryMs: 10 });
}

const record = (i: number): ExposureRecord => ({
  decisionId: `d${i}`,
  occurMs: 1_700_000_000_000,
  subjectId: `s${i}`,
  flagKey: "f",
  experimentId: i % 2 ? "exp" : "",
  variant: i % 2 ? "a" : "",
  reason: i % 2 ? "experiment_assigned" : "no_active_experiment",
  rulesetVersion: 7n,
  firstAssignment: false,
});

describe("ExposurePublisher", () => {
  it("publishes a burst as batches of at most batchSize, one message each, every exposure once", async () => {
    const { bus, sent } = recordingBus();
    const p = publisher(bus);
    for (let i = 0; i < 1_234; i++) p.enqueue(record(i));
    await vi.waitFor(() => expect(p.stats()).toEqual({ published: 1_234, buffered: 0, dropped: 0 }));
    expect(sent.map((s) => s.decisionIds.length)).toEqual([500, 500, 234]);
    expect(sent.every((s) => s.subject === Subjects.exposureBatches)).toBe(true);
    expect(new Set(sent.map((s) => s.msgId)).size).toBe(3);
    expect(sent.flatMap((s) => s.decisionIds)).toEqual(Array.from({ length: 1_234 }, (_, i) => `d${i}`));
    await p.close();
  });

  it("republishes a failed batch under the same id (so JetStream drops a duplicate) and counts overflow", async () => {
    const { bus, sent, state } = recordingBus();
    state.down = true;
    const p = publisher(bus, { capacity: 3, batchSize: 10 });
    for (let i = 0; i < 5; i++) p.enqueue(record(i));
    await vi.waitFor(() => expect(state.attempts.length).toBeGreaterThanOrEqual(2));
    expect(p.stats()).toEqual({ published: 0, buffered: 3, dropped: 2 });
    state.down = false;
    await vi.waitFor(() => expect(p.stats()).toEqual({ published: 3, buffered: 0, dropped: 2 }));
    expect(sent).toHaveLength(1);
    expect(new Set(state.attempts)).toEqual(new Set([sent[0].msgId]));
    expect(sent[0].decisionIds).toEqual(["d0", "d1", "d2"]);
    await p.close();
  });

  it("publishes what is left on close, and counts what cannot be published as dropped", async () => {
    const up = recordingBus();
    const a = publisher(up.bus);
    a.enqueue(record(1));
    await a.close();
    expect(up.sent.flatMap((s) => s.decisionIds)).toEqual(["d1"]);
    expect(a.stats()).toEqual({ published: 1, buffered: 0, dropped: 0 });

    const down = recordingBus();
    down.state.down = true;
    const b = publisher(down.bus);
    b.enqueue(record(1));
    b.enqueue(record(2));
    await b.close();
    expect(b.stats()).toEqual({ published: 0, buffered: 0, dropped: 2 });
    b.enqueue(record(3));
    expect(b.stats().dropped).toBe(3);
  });
});
