// LOTTY_RPC_MAX_REQUEST_SIZE through both real entry points: the embedded default (`npm start`)
// and a standalone service on the machine's Postgres, Redis and NATS (its own database and
// namespace, removed afterwards). A bad value stops the start naming the variable; a configured
// limit refuses larger requests with RESOURCE_EXHAUSTED, before decoding them.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { dropDatabase } from "@lotty/platform/db";
import { Health } from "@lotty/proto/grpc-health";
import { afterAll, describe, expect, it } from "vitest";
import { freePort, startNode, type RunningProcess } from "../support/process.js";

const EMBEDDED = "apps/embedded/src/main.ts";
const STANDALONE = "services/experiment/src/main.ts";
const LIMIT = 8 * 1024;
const namespace = `size${process.pid}${Date.now().toString(36)}`;
const database = `lotty_${namespace}_experiment`;
const dataDir = mkdtempSync(join(tmpdir(), "lotty-request-size-"));
const running: RunningProcess[] = [];

afterAll(async () => {
  await Promise.all(running.map((p) => p.stop(5_000)));
  rmSync(dataDir, { recursive: true, force: true });
  await dropDatabase("postgres://postgres@127.0.0.1:5432/postgres", database).catch(() => undefined);
  const nc = await connect({ servers: "127.0.0.1:4222" });
  try {
    await (await jetstreamManager(nc)).streams.delete(`LOTTY_${namespace.toUpperCase()}`).catch(() => false);
  } finally {
    await nc.close();
  }
}, 30_000);

const MODES: { mode: string; entry: string; ready: RegExp; env: Record<string, string> }[] = [
  { mode: "embedded default", entry: EMBEDDED, ready: /Lotty is ready/, env: { LOTTY_DATA_DIR: dataDir } },
  {
    mode: "standalone service",
    entry: STANDALONE,
    ready: /lotty-experiment ready/,
    env: { LOTTY_NAMESPACE: namespace, DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${database}` },
  },
];

describe.each(MODES)("LOTTY_RPC_MAX_REQUEST_SIZE, $mode", ({ entry, ready, env }) => {
  it("a bad value stops the start, naming the variable and why", async () => {
    const start = startNode("bad-size", entry, { ...env, LOTTY_PORT: String(await freePort()), LOTTY_RPC_MAX_REQUEST_SIZE: "4MB" }, ready);
    await expect(start).rejects.toThrow(/exited with 1 before it was ready[\s\S]*LOTTY_RPC_MAX_REQUEST_SIZE: must be a size like "512KiB", "4MiB", "1GiB" or plain bytes \(got "4MB"\)/);
  });

  it(`a ${LIMIT / 1024}KiB limit refuses a larger request with RESOURCE_EXHAUSTED and serves smaller ones`, async () => {
    const port = await freePort();
    running.push(await startNode("size", entry, { ...env, LOTTY_PORT: String(port), LOTTY_AUTH: "off", LOTTY_RPC_MAX_REQUEST_SIZE: `${LIMIT / 1024}KiB` }, ready, 60_000));
    const baseUrl = `http://127.0.0.1:${port}`;
    for (const transport of [createGrpcTransport({ baseUrl }), createConnectTransport({ baseUrl, httpVersion: "1.1" })]) {
      const health = createClient(Health, transport);
      // Far below the 4MiB default: only the configured limit refuses it.
      const err = await health.check({ service: "x".repeat(2 * LIMIT) }).then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
      expect(err?.code).toBe(Code.ResourceExhausted);
      // Just below the limit: decoded and answered (an unknown service is NOT_FOUND).
      const under = await health.check({ service: "x".repeat(LIMIT - 100) }).then(
        () => "answered",
        (e: unknown) => Code[ConnectError.from(e).code],
      );
      expect(under).toBe("NotFound");
    }
  }, 90_000);
});
