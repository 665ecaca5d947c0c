import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Bus, BusMessage, OnDrop } from "../../src/bus/index.js";

export interface ContractSetup {
  /** A new bus; every bus made for one test shares the same underlying transport. */
  makeBus(opts?: { onDrop?: OnDrop }): Promise<Bus>;
  /** Subject prefix owned by this test file (the NATS stream captures `<prefix>.>`). */
  prefix: string;
}

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const WAIT = { timeout: 10_000, interval: 10 };

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** The at-least-once contract every Bus implementation must meet. */
export function busContract(name: string, setup: () => ContractSetup): void {
  describe(`Bus contract: ${name}`, () => {
    const open: Bus[] = [];
    let subject: string; // a subject namespace unique to the running test

    async function bus(opts?: { onDrop?: OnDrop }): Promise<Bus> {
      const b = await setup().makeBus(opts);
      open.push(b);
      return b;
    }

    function fresh(): void {
      subject = `${setup().prefix}.${randomUUID().replaceAll("-", "")}`;
    }

    afterEach(async () => {
      await Promise.all(open.splice(0).map((b) => b.close()));
    });

    it("delivers subject, data and headers, and only for matching subjects", async () => {
      fresh();
      const b = await bus();
      const got: BusMessage[] = [];
      await b.subscribe({ subjects: [`${subject}.a.*`], handler: async (m) => void got.push(m) });
      await b.publish(`${subject}.b.x`, enc("ignored"));
      await b.publish(`${subject}.a.x`, enc("hello"), { headers: { traceparent: "00-abc-def-01", "content-type": "application/x-protobuf" } });
      await vi.waitFor(() => expect(got).toHaveLength(1), WAIT);
      expect(got[0].subject).toBe(`${subject}.a.x`);
      expect(dec(got[0].data)).toBe("hello");
      expect(got[0].headers).toEqual({ traceparent: "00-abc-def-01", "content-type": "application/x-protobuf" });
      expect(got[0].redeliveries).toBe(0);
    });

    it("delivers in publish order to a durable subscriber", async () => {
      fresh();
      const b = await bus();
      const got: string[] = [];
      await b.subscribe({ subjects: [`${subject}.>`], durable: "ordered", handler: async (m) => void got.push(dec(m.data)) });
      const sent = Array.from({ length: 20 }, (_, i) => String(i));
      for (const s of sent) await b.publish(`${subject}.e`, enc(s));
      await vi.waitFor(() => expect(got).toEqual(sent), WAIT);
    });

    it("splits a durable's work between replicas with no loss and no duplicates", async () => {
      fresh();
      const b = await bus();
      const seen = new Map<string, number>();
      const perReplica = [0, 0];
      for (const replica of [0, 1]) {
        await b.subscribe({
          subjects: [`${subject}.work`],
          durable: "workers",
          handler: async (m) => {
            perReplica[replica]++;
            seen.set(dec(m.data), (seen.get(dec(m.data)) ?? 0) + 1);
            await new Promise((r) => setTimeout(r, 2));
          },
        });
      }
      const n = 60;
      for (let i = 0; i < n; i++) await b.publish(`${subject}.work`, enc(`job-${i}`));
      await vi.waitFor(() => expect(seen.size).toBe(n), WAIT);
      expect([...seen.values()].every((c) => c === 1)).toBe(true);
      expect(perReplica[0] + perReplica[1]).toBe(n);
      expect(perReplica[0]).toBeGreaterThan(0);
      expect(perReplica[1]).toBeGreaterThan(0);
    });

    for (const durable of ["retrying", undefined]) {
      it(`redelivers after a failed handler, then stops once it succeeds (${durable ? "durable" : "ephemeral"})`, async () => {
        fresh();
        const b = await bus();
        const calls: Array<[string, number]> = [];
        await b.subscribe({
          subjects: [`${subject}.job`],
          durable,
          retryDelayMs: 30,
          handler: async (m) => {
            calls.push([dec(m.data), m.redeliveries]);
            if (dec(m.data) === "flaky" && m.redeliveries === 0) throw new Error("transient");
          },
        });
        await b.publish(`${subject}.job`, enc("flaky"));
        await vi.waitFor(() => expect(calls).toContainEqual(["flaky", 1]), WAIT);
        await b.publish(`${subject}.job`, enc("after"));
        await vi.waitFor(() => expect(calls).toContainEqual(["after", 0]), WAIT);
        expect(calls.filter(([d]) => d === "flaky")).toEqual([["flaky", 0], ["flaky", 1]]);
      });
    }

    it("drops a message after maxDeliver failed deliveries and reports it", async () => {
      fresh();
      const drops: Array<[string, number, unknown, string | undefined]> = [];
      const b = await bus({ onDrop: (m, err, d) => drops.push([dec(m.data), m.redeliveries, err, d]) });
      let calls = 0;
      const boom = new Error("always");
      await b.subscribe({
        subjects: [`${subject}.poison`],
        durable: "poison",
        retryDelayMs: 20,
        maxDeliver: 3,
        handler: async () => {
          calls++;
          throw boom;
        },
      });
      await b.publish(`${subject}.poison`, enc("bad"));
      await vi.waitFor(() => expect(drops).toHaveLength(1), WAIT);
      expect(drops[0]).toEqual(["bad", 2, boom, "poison"]);
      expect(calls).toBe(3);
    });

    it("drops a second publish with the same msgId", async () => {
      fresh();
      const b = await bus();
      const got: string[] = [];
      await b.subscribe({ subjects: [`${subject}.d`], handler: async (m) => void got.push(dec(m.data)) });
      await b.publish(`${subject}.d`, enc("first"), { msgId: `${subject}-1` });
      await b.publish(`${subject}.d`, enc("again"), { msgId: `${subject}-1` });
      await b.publish(`${subject}.d`, enc("second"), { msgId: `${subject}-2` });
      await b.publish(`${subject}.d`, enc("no-id"));
      await vi.waitFor(() => expect(got).toHaveLength(3), WAIT);
      expect(got).toEqual(["first", "second", "no-id"]);
    });

    it("fans ephemeral subscriptions out: each sees every message", async () => {
      fresh();
      const b = await bus();
      const a: string[] = [];
      const c: string[] = [];
      await b.subscribe({ subjects: [`${subject}.*`], handler: async (m) => void a.push(dec(m.data)) });
      await b.subscribe({ subjects: [`${subject}.*`], handler: async (m) => void c.push(dec(m.data)) });
      const sent = ["1", "2", "3", "4", "5"];
      for (const s of sent) await b.publish(`${subject}.changed`, enc(s));
      await vi.waitFor(() => expect([a, c]).toEqual([sent, sent]), WAIT);
    });

    it("keeps messages for a durable while it has no subscriber", async () => {
      fresh();
      const b = await bus();
      const got: string[] = [];
      const first = await b.subscribe({ subjects: [`${subject}.k`], durable: "keeper", handler: async (m) => void got.push(dec(m.data)) });
      await b.publish(`${subject}.k`, enc("live"));
      await vi.waitFor(() => expect(got).toEqual(["live"]), WAIT);
      await first.close();
      await b.publish(`${subject}.k`, enc("kept-1"));
      await b.publish(`${subject}.k`, enc("kept-2"));
      await b.subscribe({ subjects: [`${subject}.k`], durable: "keeper", handler: async (m) => void got.push(dec(m.data)) });
      await vi.waitFor(() => expect(got).toEqual(["live", "kept-1", "kept-2"]), WAIT);
    });

    it("subscription close() waits for the in-flight handler and stops delivery", async () => {
      fresh();
      const b = await bus();
      const started = deferred();
      const release = deferred();
      const got: string[] = [];
      const marker: string[] = [];
      const sub = await b.subscribe({
        subjects: [`${subject}.c`],
        handler: async (m) => {
          got.push(dec(m.data));
          started.resolve();
          await release.promise;
        },
      });
      await b.subscribe({ subjects: [`${subject}.c`], handler: async (m) => void marker.push(dec(m.data)) });
      await b.publish(`${subject}.c`, enc("slow"));
      await started.promise;
      let closed = false;
      const closing = sub.close().then(() => (closed = true));
      await new Promise((r) => setTimeout(r, 20));
      expect(closed).toBe(false);
      release.resolve();
      await closing;
      await b.publish(`${subject}.c`, enc("after-close"));
      await vi.waitFor(() => expect(marker).toEqual(["slow", "after-close"]), WAIT);
      expect(got).toEqual(["slow"]);
    });

    it("bus close() waits for handlers, then refuses to publish", async () => {
      fresh();
      const b = await bus();
      const started = deferred();
      let finished = false;
      await b.subscribe({
        subjects: [`${subject}.z`],
        handler: async () => {
          started.resolve();
          await new Promise((r) => setTimeout(r, 30));
          finished = true;
        },
      });
      await b.publish(`${subject}.z`, enc("x"));
      await started.promise;
      expect(b.isConnected()).toBe(true);
      await b.close();
      expect(finished).toBe(true);
      expect(b.isConnected()).toBe(false);
      await expect(b.publish(`${subject}.z`, enc("y"))).rejects.toThrow();
    });
  });
}
