import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import fc from "fast-check";
import type { Bus, PublishOptions } from "@lotty/platform/bus";
import { Subjects } from "@lotty/platform/events";
import { createGuard } from "@lotty/platform/resilience";
import { ExposureBatchSchema } from "@lotty/proto/events";
import { Registry } from "prom-client";
import { describe, expect, it, vi } from "vitest";
import { encodeExposureBatch } from "../src/exposures/encode.js";
import { ExposurePublisher, MAX_BATCH_BYTES, type ExposureRecord } from "../src/exposures/publisher.js";
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

function publisher(bus: Bus, opts: { capacity?: number; batchSize?: number; maxBatchSize?: number; maxInFlight?: number } = {}) {
  // A generous circuit so the retry test sees every attempt reach the bus.
  const guard = createGuard("nats-test", { timeoutMs: 1_000, failureThreshold: 1_000, halfOpenAfterMs: 10 });
  return new ExposurePublisher(bus, guard, silentLogger, new Registry(), { capacity: 10_000, batchSize: 500, flushMs: 5, retryMs: 10, ...opts });
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

  it("keeps several batches in flight, and makes them larger while a backlog waits", async () => {
    const { bus, sent } = recordingBus();
    let inFlight = 0;
    let widest = 0;
    const acks: (() => void)[] = [];
    // Acks come back only when the test releases them.
    const slow: Bus = {
      ...bus,
      async publish(subject, data, opts) {
        widest = Math.max(widest, ++inFlight);
        await new Promise<void>((resolve) => acks.push(resolve));
        inFlight--;
        await bus.publish(subject, data, opts);
      },
    };
    const p = publisher(slow, { batchSize: 100, maxBatchSize: 1_000, maxInFlight: 3 });
    for (let i = 0; i < 300; i++) p.enqueue(record(i));
    await vi.waitFor(() => expect(acks).toHaveLength(3));
    // Every slot busy: the next exposures wait, and go out as larger batches.
    for (let i = 300; i < 2_000; i++) p.enqueue(record(i));
    while (p.stats().published < 2_000) {
      await vi.waitFor(() => expect(acks.length).toBeGreaterThan(0));
      acks.splice(0).forEach((ack) => ack());
      await new Promise((r) => setTimeout(r, 1));
    }
    expect(widest).toBe(3);
    expect(sent.map((s) => s.decisionIds.length)).toEqual([100, 100, 100, 1_000, 700]);
    expect(sent.flatMap((s) => s.decisionIds).sort()).toEqual(Array.from({ length: 2_000 }, (_, i) => `d${i}`).sort());
    expect(new Set(sent.map((s) => s.msgId)).size).toBe(sent.length);
    await p.close();
  });

  it("after a failure probes with one batch, then publishes the rest at full width, each batch under its first id", async () => {
    const { bus, sent, state } = recordingBus();
    const p = publisher(bus, { batchSize: 10, maxInFlight: 4 });
    state.down = true;
    for (let i = 0; i < 100; i++) p.enqueue(record(i));
    await vi.waitFor(() => expect(state.attempts.length).toBeGreaterThanOrEqual(8));
    // The first round went out 4 wide; from then on, one probe per retry.
    expect(new Set(state.attempts).size).toBe(4);
    state.down = false;
    await vi.waitFor(() => expect(p.stats()).toEqual({ published: 100, buffered: 0, dropped: 0 }));
    expect(sent).toHaveLength(10);
    expect(new Set(sent.map((s) => s.msgId)).size).toBe(10);
    expect(sent.flatMap((s) => s.decisionIds).sort()).toEqual(Array.from({ length: 100 }, (_, i) => `d${i}`).sort());
    await p.close();
  });
});

describe("encodeExposureBatch", () => {
  const toMessage = (r: ExposureRecord) => ({
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
  const text = fc.string({ unit: "binary", maxLength: 40 });
  const exposure = fc.record({
    decisionId: text,
    occurMs: fc.oneof(fc.constant(0), fc.constant(1_000), fc.integer({ min: 0, max: 4_102_444_800_000 })),
    subjectId: text,
    flagKey: text,
    experimentId: text,
    variant: text,
    reason: text,
    rulesetVersion: fc.oneof(fc.constant(0n), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })),
    firstAssignment: fc.boolean(),
  });

  it("writes what create + toBinary writes, byte for byte", () => {
    fc.assert(
      fc.property(fc.array(exposure, { maxLength: 20 }), (records) => {
        const { data, count } = encodeExposureBatch(records, 0, records.length, MAX_BATCH_BYTES);
        expect(count).toBe(records.length);
        expect(Buffer.from(data).equals(Buffer.from(toBinary(ExposureBatchSchema, create(ExposureBatchSchema, { exposures: records.map(toMessage) }))))).toBe(true);
      }),
    );
  });

  it("takes what fits in the byte budget from `start` on, and at least one", () => {
    const records = Array.from({ length: 50 }, (_, i) => record(i));
    const seven = encodeExposureBatch(records, 10, 7, MAX_BATCH_BYTES).data.length;
    expect(encodeExposureBatch(records, 10, 50, seven - 1).count).toBe(6);
    const fit = encodeExposureBatch(records, 10, 50, seven);
    expect(fit.count).toBe(7);
    expect(fromBinary(ExposureBatchSchema, fit.data).exposures.map((e) => e.decisionId)).toEqual(Array.from({ length: 7 }, (_, i) => `d${10 + i}`));
    expect(encodeExposureBatch(records, 0, 50, 1).count).toBe(1);
    expect(encodeExposureBatch(records, 45, 50, MAX_BATCH_BYTES).count).toBe(5);
  });
});
