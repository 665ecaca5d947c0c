import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mintUserToken, readLocalSecrets } from "@lotty/platform/auth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, startNode, type RunningProcess } from "../support/process.js";
import { tracerWithConnect, tracerWithGrpcJs } from "../support/tracer.js";

// The embedded default as a user starts it (`npm start`), in its own process, called over gRPC.
describe("tracer bullet: embedded default", () => {
  let lotty: RunningProcess;
  let port: number;
  let token: string;
  const endpoints = () => ({ experiment: `127.0.0.1:${port}`, decision: `127.0.0.1:${port}`, token });
  const dataDir = mkdtempSync(join(tmpdir(), "lotty-embedded-"));

  beforeAll(async () => {
    port = await freePort();
    lotty = await startNode(
      "lotty",
      "apps/embedded/src/main.ts",
      { LOTTY_PORT: String(port), LOTTY_DATA_DIR: dataDir, LOTTY_LOG_LEVEL: "warn" },
      /Lotty is ready/,
    );
    // Auth is on by default: an admin token from the secret the first start wrote, as `lotty token` mints it.
    token = await mintUserToken({ secret: readLocalSecrets(dataDir)!.jwtSecret, sub: "tracer", roles: ["admin"], ttlSeconds: 600 });
  });

  it("announces an SDK key once, at first start, and keeps its secrets private", async () => {
    expect(lotty.output()).toMatch(/SDK key "default" \(development\), shown only this once:\s+lotty_sdk_\S+/);
    expect(statSync(join(dataDir, "auth.json")).mode & 0o777).toBe(0o600);
  });

  afterAll(async () => {
    await lotty?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("a new flag is decided with its default and no_active_experiment within a second (connect-node)", async () => {
    const r = await tracerWithConnect(endpoints(), "tracer.connect");
    expect(r.reason).toBe("NO_ACTIVE_EXPERIMENT");
    expect(r.value).toBe(true);
    expect(r.visibleAfterMs).toBeLessThan(1000);
  });

  it("the same through @grpc/grpc-js with the .proto files", async () => {
    const r = await tracerWithGrpcJs(endpoints(), "tracer.grpcjs");
    expect(r.reason).toBe("NO_ACTIVE_EXPERIMENT");
    expect(r.value).toBe("off");
    expect(r.visibleAfterMs).toBeLessThan(1000);
  });

  it("keeps its data across a restart", async () => {
    expect(await lotty.stop()).toBe(0);
    lotty = await startNode(
      "lotty",
      "apps/embedded/src/main.ts",
      { LOTTY_PORT: String(port), LOTTY_DATA_DIR: dataDir, LOTTY_LOG_LEVEL: "warn" },
      /Lotty is ready/,
    );
    const { createClient } = await import("@connectrpc/connect");
    const { createGrpcTransport } = await import("@connectrpc/connect-node");
    const { ExperimentService } = await import("@lotty/proto/experiment");
    const { bearerInterceptor } = await import("@lotty/platform/auth");
    const client = createClient(ExperimentService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}`, interceptors: [bearerInterceptor(() => token)] }));
    const { flag } = await client.getFlag({ key: "tracer.connect" });
    expect(flag?.key).toBe("tracer.connect");
    // The SDK key was shown at the first start only; tokens minted before still work.
    expect(lotty.output()).not.toMatch(/lotty_sdk_/);
  });
});
