import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JetStreamApiCodes, JetStreamApiError, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { afterAll, describe, expect, it, vi } from "vitest";
import { createNatsBus, durableName, type Bus } from "../../src/bus/index.js";
import { busContract } from "./contract.js";

const SERVERS = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const id = randomBytes(6).toString("hex");
const stream = `T_${id}`;
const prefix = `t${id}`;

busContract("nats", () => ({
  makeBus: (opts) => createNatsBus({ servers: SERVERS, stream, subjects: [`${prefix}.>`], name: "bus-contract", ...opts }),
  prefix,
}));

afterAll(async () => {
  const nc = await connect({ servers: SERVERS });
  try {
    await (await jetstreamManager(nc)).streams.delete(stream).catch((err: unknown) => {
      // a filtered run (-t) may never have created it
      if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)) throw err;
    });
  } finally {
    await nc.close();
  }
});

describe("nats bus specifics", () => {
  it("derives one durable consumer name per subject, valid for NATS", () => {
    const a = durableName("metrics", "lotty.exposure.>");
    expect(a).toMatch(/^metrics_[0-9a-f]{10}$/);
    expect(durableName("metrics", "lotty.exposure.>")).toBe(a);
    expect(durableName("metrics", "lotty.event.>")).not.toBe(a);
  });

  it("consumes several subjects with one durable subscription", async () => {
    const bus = await createNatsBus({ servers: SERVERS, stream, subjects: [`${prefix}.>`] });
    try {
      const got: string[] = [];
      await bus.subscribe({
        subjects: [`${prefix}.multi.a`, `${prefix}.multi.b.*`],
        durable: "multi",
        handler: async (m) => void got.push(m.subject),
      });
      await bus.publish(`${prefix}.multi.a`, new Uint8Array());
      await bus.publish(`${prefix}.multi.c`, new Uint8Array());
      await bus.publish(`${prefix}.multi.b.x`, new Uint8Array());
      await vi.waitFor(() => expect(got.sort()).toEqual([`${prefix}.multi.a`, `${prefix}.multi.b.x`]), { timeout: 10_000 });
    } finally {
      await bus.close();
    }
  });

  it("updates an existing durable when its maxDeliver changes", async () => {
    const bus = await createNatsBus({ servers: SERVERS, stream, subjects: [`${prefix}.>`] });
    const nc = await connect({ servers: SERVERS });
    try {
      const opts = { subjects: [`${prefix}.upd`], durable: "upd", handler: async () => {} };
      await (await bus.subscribe({ ...opts, maxDeliver: 3 })).close();
      await (await bus.subscribe({ ...opts, maxDeliver: 7 })).close();
      const info = await (await jetstreamManager(nc)).consumers.info(stream, durableName("upd", `${prefix}.upd`));
      expect(info.config.max_deliver).toBe(7);
    } finally {
      await nc.close();
      await bus.close();
    }
  });

  it("re-creates a durable consumer deleted under a live subscription", async () => {
    const bus = await createNatsBus({ servers: SERVERS, stream, subjects: [`${prefix}.>`] });
    const nc = await connect({ servers: SERVERS });
    try {
      const got: string[] = [];
      await bus.subscribe({ subjects: [`${prefix}.gone`], durable: "gone", handler: async (m) => void got.push(m.subject) });
      await (await jetstreamManager(nc)).consumers.delete(stream, durableName("gone", `${prefix}.gone`));
      await vi.waitFor(() => bus.publish(`${prefix}.gone`, new Uint8Array()).then(() => expect(got.length).toBeGreaterThan(0)), {
        timeout: 20_000,
        interval: 500,
      });
    } finally {
      await nc.close();
      await bus.close();
    }
  }, 30_000);

  it("updates the stream's settings when they change", async () => {
    const own = { servers: SERVERS, stream: `${stream}_cfg`, subjects: [`${prefix}cfg.>`] };
    await (await createNatsBus({ ...own, maxAgeMs: 60_000 })).close();
    await (await createNatsBus({ ...own, maxAgeMs: 120_000 })).close();
    const nc = await connect({ servers: SERVERS });
    try {
      const jsm = await jetstreamManager(nc);
      const info = await jsm.streams.info(own.stream);
      expect(info.config.max_age).toBe(120_000 * 1_000_000);
      expect(info.config.storage).toBe("file");
      await jsm.streams.delete(own.stream);
    } finally {
      await nc.close();
    }
  });

  it("fails fast when NATS is unreachable at start", async () => {
    const port = await freePort();
    await expect(createNatsBus({ servers: `nats://127.0.0.1:${port}` })).rejects.toThrow();
  });
});

describe("nats bus across a server restart (private nats-server)", () => {
  let server: ChildProcess | undefined;
  let bus: Bus | undefined;
  let dir: string | undefined;

  afterAll(async () => {
    await bus?.close();
    await stopServer(server);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("rejects publish while down and resumes consumers after the server returns", async () => {
    const port = await freePort();
    dir = mkdtempSync(join(tmpdir(), "lotty-nats-"));
    server = await startServer(port, dir);
    bus = await createNatsBus({ servers: `nats://127.0.0.1:${port}`, stream: "RESTART", subjects: ["r.>"] });
    const durable: string[] = [];
    const ephemeral: string[] = [];
    await bus.subscribe({ subjects: ["r.>"], durable: "survivor", handler: async (m) => void durable.push(m.subject) });
    await bus.subscribe({ subjects: ["r.>"], handler: async (m) => void ephemeral.push(m.subject) });
    await bus.publish("r.before", new Uint8Array());
    await vi.waitFor(() => expect([durable, ephemeral]).toEqual([["r.before"], ["r.before"]]), { timeout: 10_000 });

    await stopServer(server);
    await vi.waitFor(() => expect(bus!.isConnected()).toBe(false), { timeout: 10_000 });
    const started = Date.now();
    await expect(bus.publish("r.down", new Uint8Array())).rejects.toThrow(/not connected/);
    expect(Date.now() - started).toBeLessThan(1000);

    server = await startServer(port, dir);
    await vi.waitFor(() => expect(bus!.isConnected()).toBe(true), { timeout: 20_000 });
    // JetStream may need a moment after the socket is back; callers retry their buffer the same way.
    await vi.waitFor(() => bus!.publish("r.after", new Uint8Array()), { timeout: 20_000, interval: 200 });
    // At least once: an ack that was in flight when the server stopped is lost, and JetStream
    // redelivers that message (consumers are idempotent), so repeats of r.before may precede r.after.
    const distinct = (subjects: string[]) => subjects.filter((s, i) => s !== subjects[i - 1]);
    await vi.waitFor(() => expect([distinct(durable), distinct(ephemeral)]).toEqual([["r.before", "r.after"], ["r.before", "r.after"]]), {
      timeout: 45_000,
      interval: 50,
    });
  }, 90_000);
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function startServer(port: number, storeDir: string): Promise<ChildProcess> {
  const child = spawn("/usr/sbin/nats-server", ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", storeDir], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  // nats-server logs to stderr; it is ready once it listens for clients.
  await new Promise<void>((resolve, reject) => {
    let log = "";
    child.stderr!.on("data", (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes("Server is ready")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`nats-server exited ${code}: ${log}`)));
  });
  return child;
}

async function stopServer(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGKILL");
  await exited;
}
