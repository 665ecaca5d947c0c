import { describe, expect, it } from "vitest";
import { groupingStore } from "../src/ingest/grouping.js";

/** A store whose calls stay open until the test finishes them. */
function heldStore() {
  const calls: { items: number[]; finish: (err?: Error) => void }[] = [];
  const store = (items: number[]) =>
    new Promise<void>((resolve, reject) => calls.push({ items, finish: (err) => (err ? reject(err) : resolve()) }));
  return { calls, store };
}
const tick = () => new Promise((r) => setTimeout(r, 0));

describe("groupingStore", () => {
  it("stores at once when a slot is free and groups what queues up meanwhile, up to maxItems", async () => {
    const { calls, store } = heldStore();
    const submit = groupingStore(store, { slots: 1, maxItems: 5 });
    const first = submit([1, 2]);
    await tick();
    expect(calls.map((c) => c.items)).toEqual([[1, 2]]);
    const queued = [submit([3, 4]), submit([5]), submit([6, 7]), submit([8])];
    calls[0].finish();
    await first;
    await tick();
    expect(calls.map((c) => c.items)).toEqual([[1, 2], [3, 4, 5, 6, 7]]);
    calls[1].finish();
    await tick();
    await tick();
    expect(calls.map((c) => c.items)).toEqual([[1, 2], [3, 4, 5, 6, 7], [8]]);
    calls[2].finish();
    await Promise.all(queued);
  });

  it("fails every batch of a failed transaction and no other", async () => {
    const { calls, store } = heldStore();
    const submit = groupingStore(store, { slots: 2, maxItems: 10 });
    const a = submit([1]);
    const b = submit([2]);
    await tick();
    const c = submit([3]);
    const d = submit([4]);
    calls[0].finish(new Error("deadlock"));
    await expect(a).rejects.toThrow("deadlock");
    await tick();
    expect(calls.map((x) => x.items)).toEqual([[1], [2], [3, 4]]);
    calls[2].finish(new Error("timeout"));
    await expect(Promise.allSettled([c, d])).resolves.toEqual([
      { status: "rejected", reason: new Error("timeout") },
      { status: "rejected", reason: new Error("timeout") },
    ]);
    calls[1].finish();
    await expect(b).resolves.toBeUndefined();
  });

  it("sends a batch larger than maxItems alone", async () => {
    const { calls, store } = heldStore();
    const submit = groupingStore(store, { slots: 1, maxItems: 2 });
    const big = submit([1]);
    const rest = [submit([2, 3, 4]), submit([5])];
    await tick();
    calls[0].finish();
    await big;
    await tick();
    expect(calls.map((c) => c.items)).toEqual([[1], [2, 3, 4]]);
    calls[1].finish();
    await tick();
    await tick();
    expect(calls.map((c) => c.items)).toEqual([[1], [2, 3, 4], [5]]);
    calls[2].finish();
    await Promise.all(rest);
  });
});
