import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { randomBytes } from "node:crypto";
import { mintUserToken } from "@lotty/platform/auth";
import { dropDatabase } from "@lotty/platform/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, startNode, type RunningProcess } from "../support/process.js";
import { tracerWithConnect, tracerWithGrpcJs } from "../support/tracer.js";

const SERVICES = ["experiment", "decision", "metrics", "guardrail", "notification"] as const;
const ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres";

// The five services as separate processes on the machine's real Postgres, Redis and NATS.
describe("tracer bullet: five services as separate processes", () => {
  const run = `e2e${process.pid}${Date.now().toString(36)}`;
  const procs: RunningProcess[] = [];
  const ports: Record<string, number> = {};
  // Auth on: user tokens signed with this secret, service tokens with their own.
  const jwtSecret = randomBytes(32).toString("base64url");
  let token: string;
  const endpoints = () => ({ experiment: `127.0.0.1:${ports.experiment}`, decision: `127.0.0.1:${ports.decision}`, token });

  beforeAll(async () => {
    for (const s of SERVICES) ports[s] = await freePort();
    token = await mintUserToken({ secret: jwtSecret, sub: "tracer", roles: ["admin"], ttlSeconds: 600 });
    const env: Record<string, string> = {
      LOTTY_NAMESPACE: run,
      LOTTY_LOG_LEVEL: "info",
      LOTTY_JWT_SECRET: jwtSecret,
      LOTTY_SERVICE_TOKEN_SECRET: randomBytes(32).toString("base64url"),
    };
    for (const s of SERVICES) env[`LOTTY_${s.toUpperCase()}_URL`] = `http://127.0.0.1:${ports[s]}`;
    // The experiment service first: the decision service loads its ruleset from it at start.
    for (const s of SERVICES) {
      procs.push(
        await startNode(
          s,
          `services/${s}/src/main.ts`,
          { ...env, LOTTY_PORT: String(ports[s]), DATABASE_URL: `postgres://postgres@127.0.0.1:5432/lotty_${run}_${s}` },
          new RegExp(`lotty-${s} ready`),
        ),
      );
    }
  }, 120_000);

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    for (const s of SERVICES) await dropDatabase(ADMIN_URL, `lotty_${run}_${s}`);
    const nc = await connect({ servers: "127.0.0.1:4222" });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(`LOTTY_${run.toUpperCase()}`).catch(() => false);
    await nc.close();
  }, 60_000);

  it("a flag created in the experiment service is decided by the decision service within a second (connect-node)", async () => {
    const r = await tracerWithConnect(endpoints(), "tracer.connect");
    expect(r.reason).toBe("NO_ACTIVE_EXPERIMENT");
    expect(r.value).toBe(true);
    expect(r.visibleAfterMs).toBeLessThan(1000);
  });

  it("the same through @grpc/grpc-js", async () => {
    const r = await tracerWithGrpcJs(endpoints(), "tracer.grpcjs");
    expect(r.reason).toBe("NO_ACTIVE_EXPERIMENT");
    expect(r.visibleAfterMs).toBeLessThan(1000);
  });
});
