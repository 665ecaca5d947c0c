// The five services as separate processes on the machine's real Postgres, Redis and NATS, isolated
// by a unique namespace (NATS subjects, stream, Redis keys) and unique databases; stop() removes
// processes, databases and the stream whatever state start() reached.
import type { DescService } from "@bufbuild/protobuf";
import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { bearerInterceptor, mintUserToken, type Role } from "@lotty/platform/auth";
import { dropDatabase } from "@lotty/platform/db";
import { freePort, startNode, type RunningProcess } from "./process.js";

export const SERVICES = ["experiment", "decision", "metrics", "guardrail", "notification"] as const;
export type ServiceName = (typeof SERVICES)[number];

const ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres";

/**
 * Our children still running with this namespace. startNode keeps no handle on a child that
 * timed out before it was ready, so stop() finds such strays here (Linux /proc) and kills them.
 */
function strayChildren(namespace: string): number[] {
  const mine = `LOTTY_NAMESPACE=${namespace}`;
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        const ppid = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ")[1];
        return Number(ppid) === process.pid && readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(mine);
      } catch {
        return false; // gone meanwhile, or not ours to read
      }
    })
    .map(Number);
}

export interface LottyStack {
  readonly namespace: string;
  /** Base URL (http://127.0.0.1:port) of each service. */
  readonly urls: Record<ServiceName, string>;
  /**
   * A gRPC client of one service, calling as `actor` ("e2e" when not given) with an admin token
   * signed with the stack's LOTTY_JWT_SECRET (also sent as the x-lotty-actor header, which
   * counts only when a test runs the stack with extraEnv LOTTY_AUTH=off).
   */
  client<T extends DescService>(service: T, at: ServiceName, actor?: string): Client<T>;
  /** Everything the processes printed, for failure messages. */
  /** A user token this stack accepts (what a CronJob or a person would hold). */
  token(sub: string, roles: Role[]): Promise<string>;
  logs(): string;
  stop(): Promise<void>;
}

/** Starts the stack; on a failed start it cleans up before rethrowing. */
export async function startLottyStack(opts: { logLevel?: "info" | "debug"; extraEnv?: Record<string, string> } = {}): Promise<LottyStack> {
  const namespace = `e2e${process.pid}${Date.now().toString(36)}`;
  const procs: RunningProcess[] = [];
  const ports = {} as Record<ServiceName, number>;
  for (const s of SERVICES) ports[s] = await freePort();
  const urls = Object.fromEntries(SERVICES.map((s) => [s, `http://127.0.0.1:${ports[s]}`])) as Record<ServiceName, string>;
  // Auth on, as in production: user tokens signed with a per-stack secret, service tokens with
  // another; client() presents an admin token whose subject is the actor (owner vs approver).
  const jwtSecret = randomBytes(32).toString("base64url");
  const env: Record<string, string> = {
    LOTTY_NAMESPACE: namespace,
    // Fault tests, not overload tests: on a CPU-starved 2-core runner admission control would shed
    // decides as overload (test/overload covers that), which these suites would count as failures.
    LOTTY_ADMISSION: "off",
    LOTTY_LOG_LEVEL: opts.logLevel ?? "info",
    LOTTY_JWT_SECRET: jwtSecret,
    LOTTY_SERVICE_TOKEN_SECRET: randomBytes(32).toString("base64url"),
    ...opts.extraEnv,
  };
  for (const s of SERVICES) env[`LOTTY_${s.toUpperCase()}_URL`] = urls[s];

  const start = (s: ServiceName) =>
    startNode(
      s,
      `services/${s}/src/main.ts`,
      { ...env, LOTTY_PORT: String(ports[s]), DATABASE_URL: `postgres://postgres@127.0.0.1:5432/lotty_${namespace}_${s}` },
      new RegExp(`lotty-${s} ready`),
      45_000,
    ).then((p) => void procs.push(p));

  const stop = async () => {
    await Promise.all(procs.map((p) => p.stop(5_000)));
    for (const pid of strayChildren(namespace)) process.kill(pid, "SIGKILL");
    await Promise.all(SERVICES.map((s) => dropDatabase(ADMIN_URL, `lotty_${namespace}_${s}`).catch(() => undefined)));
    const nc = await connect({ servers: "127.0.0.1:4222" });
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.delete(`LOTTY_${namespace.toUpperCase()}`).catch(() => false);
    } finally {
      await nc.close();
    }
  };

  try {
    // The experiment service first: the decision service loads its ruleset from it at start.
    await start("experiment");
    const rest = await Promise.allSettled(SERVICES.filter((s) => s !== "experiment").map(start));
    const failed = rest.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    namespace,
    urls,
    client(service, at, actor) {
      const sub = actor ?? "e2e";
      let token: Promise<string> | undefined;
      const interceptors: Interceptor[] = [
        bearerInterceptor(() => (token ??= mintUserToken({ secret: jwtSecret, sub, roles: ["admin"], ttlSeconds: 3600 }))),
        ...(actor
          ? [
              ((next) => (req) => {
                req.header.set("x-lotty-actor", actor);
                return next(req);
              }) satisfies Interceptor,
            ]
          : []),
      ];
      return createClient(service, createGrpcTransport({ baseUrl: urls[at], interceptors, defaultTimeoutMs: 15_000 }));
    },
    token: (sub, roles) => mintUserToken({ secret: jwtSecret, sub, roles, ttlSeconds: 3600 }),
    logs: () => procs.map((p) => `--- ${p.name}\n${p.output()}`).join("\n"),
    stop,
  };
}
