import { afterEach, describe, expect, it, vi } from "vitest";
import { createMemoryBus, type Bus } from "../../src/bus/index.js";
import { busContract } from "./contract.js";

busContract("memory", () => ({ makeBus: async (opts) => createMemoryBus(opts), prefix: "mem" }));

describe("memory bus specifics", () => {
  let bus: Bus;
  afterEach(async () => {
    vi.useRealTimers();
    await bus.close();
  });

  it("never delivers inside publish's call stack", async () => {
    bus = createMemoryBus();
    let calls = 0;
    await bus.subscribe({ subjects: ["s.>"], handler: async () => void calls++ });
    const published = bus.publish("s.x", new Uint8Array());
    expect(calls).toBe(0);
    await published;
    await vi.waitFor(() => expect(calls).toBe(1));
  });

  it("splits a durable round-robin between replicas", async () => {
    bus = createMemoryBus();
    const got: Array<[number, number]> = [];
    for (const replica of [0, 1, 2]) {
      await bus.subscribe({ subjects: ["s.>"], durable: "rr", handler: async (m) => void got.push([replica, m.data[0]]) });
    }
    for (let i = 0; i < 6; i++) await bus.publish("s.x", Uint8Array.of(i));
    await vi.waitFor(() => expect(got).toHaveLength(6));
    expect(got.sort((a, b) => a[1] - b[1])).toEqual([[0, 0], [1, 1], [2, 2], [0, 3], [1, 4], [2, 5]]);
  });

  it("forgets a msgId once the dedup window has passed", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    bus = createMemoryBus({ duplicateWindowMs: 1000 });
    const got: number[] = [];
    await bus.subscribe({ subjects: ["s.>"], handler: async (m) => void got.push(m.data[0]) });
    await bus.publish("s.x", Uint8Array.of(1), { msgId: "id" });
    vi.advanceTimersByTime(999);
    await bus.publish("s.x", Uint8Array.of(2), { msgId: "id" });
    vi.advanceTimersByTime(2);
    await bus.publish("s.x", Uint8Array.of(3), { msgId: "id" });
    await vi.waitFor(() => expect(got).toEqual([1, 3]));
  });

  it("drops messages for a durable name nobody ever subscribed", async () => {
    bus = createMemoryBus();
    const got: number[] = [];
    await bus.publish("s.x", Uint8Array.of(1));
    await bus.subscribe({ subjects: ["s.>"], durable: "late", handler: async (m) => void got.push(m.data[0]) });
    await bus.publish("s.x", Uint8Array.of(2));
    await vi.waitFor(() => expect(got).toEqual([2]));
  });
});
