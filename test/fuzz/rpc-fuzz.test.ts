// Random and mutated requests at every RPC of a running embedded Lotty, for a bounded time
// (FUZZ_SECONDS, default 20, at most 60) from a fixed seed (FUZZ_SEED). It checks that the server
// answers bad input with client error codes only (never INTERNAL or UNKNOWN), refuses every
// poisoned change to the seed data, leaves that data as it was, and still answers health.
import { create, type DescMethod, type DescService, type Message } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { allServices } from "@lotty/embedded/services";
import { bearerInterceptor } from "@lotty/platform/auth";
import { startEmbedded, type EmbeddedLotty } from "@lotty/platform/host";
import { createLogger } from "@lotty/platform/log";
import { DecisionService } from "@lotty/proto/decision";
import { ExperimentService } from "@lotty/proto/experiment";
import { Health, HealthCheckResponse_ServingStatus } from "@lotty/proto/grpc-health";
import { GuardrailService } from "@lotty/proto/guardrail";
import { MetricsService } from "@lotty/proto/metrics";
import { NotificationService } from "@lotty/proto/notification";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { messageFromBytes, mutate, poison, randomMessage, wrongJson } from "./messages.js";
import { Rng } from "./random.js";
import { createSeed, methodKey, type SeedCorpus } from "./seed.js";

const SERVICES: DescService[] = [ExperimentService, DecisionService, MetricsService, GuardrailService, NotificationService];
const SECONDS = Math.min(60, Math.max(1, Number(process.env.FUZZ_SECONDS ?? 20)));
const SEED = Number(process.env.FUZZ_SEED ?? 0x10771);

/** What bad input may be answered with: every code a client can act on. */
const CLIENT_ERRORS = new Set([
  Code.InvalidArgument,
  Code.NotFound,
  Code.FailedPrecondition,
  Code.AlreadyExists,
  Code.Aborted,
  Code.PermissionDenied,
  Code.Unauthenticated,
  Code.OutOfRange,
  Code.ResourceExhausted,
]);
const JSON_CODES: Record<string, Code> = Object.fromEntries(
  Object.entries(Code)
    .filter(([, v]) => typeof v === "number")
    .map(([name, v]) => [name.replace(/[A-Z]/g, (c, i: number) => (i ? "_" : "") + c.toLowerCase()), v as Code]),
);

/** A short readable form of any request (toJson refuses out-of-range timestamps, which we send). */
const describeRequest = (req: Message) =>
  JSON.stringify(req, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : typeof v === "string" && v.length > 60 ? `${v.slice(0, 40)}…(${v.length})` : v)).slice(0, 600);

type Strategy = "empty" | "random" | "bytes" | "mutated" | "poisoned" | "wrong-json";
interface Finding {
  rpc: string;
  strategy: Strategy;
  outcome: string;
  message: string;
  request: string;
}

describe("RPC fuzz (embedded default, auth on)", () => {
  let lotty: EmbeddedLotty;
  let url: string;
  let token: string;
  let transport: Transport;
  let seed: SeedCorpus;
  let before: string;
  const newTransport = () => createGrpcTransport({ baseUrl: url, defaultTimeoutMs: 20_000, interceptors: [bearerInterceptor(() => token)] });

  beforeAll(async () => {
    lotty = await startEmbedded(allServices, { port: 0, host: "127.0.0.1", logger: createLogger("fuzz", { level: process.env.FUZZ_LOG === "1" ? "warn" : "silent" }) });
    url = `http://127.0.0.1:${lotty.port}`;
    token = await lotty.auth!.mintToken({ sub: "alice", roles: ["admin"] });
    const approverToken = await lotty.auth!.mintToken({ sub: "bob", roles: ["approver"] });
    // The seed and its snapshots use their own connection; the fuzzer's may be reset under it.
    const seedTransport = newTransport();
    transport = newTransport();
    const as = <S extends DescService>(s: S, t = seedTransport): Client<S> => createClient(s, t);
    seed = await createSeed({
      experiment: as(ExperimentService),
      approver: as(ExperimentService, createGrpcTransport({ baseUrl: url, interceptors: [bearerInterceptor(() => approverToken)] })),
      decision: as(DecisionService),
      metrics: as(MetricsService),
      guardrail: as(GuardrailService),
      notification: as(NotificationService),
    });
    before = await seed.snapshot();
  }, 120_000);

  afterAll(async () => {
    await lotty?.close();
  }, 30_000);

  let lastMessage = "";
  async function callGrpc(service: DescService, method: DescMethod, req: Message): Promise<Code | "ok" | "reset"> {
    const client = createClient(service, transport) as unknown as Record<string, (r: Message) => Promise<unknown>>;
    try {
      await client[method.localName](req);
      return "ok";
    } catch (err) {
      const e = ConnectError.from(err);
      lastMessage = e.rawMessage.slice(0, 300);
      // Node's HTTP/2 flood protection (e.g. against rapid resets, which oversized requests cause
      // when the server refuses them before reading them whole) ends the connection: reconnect.
      if (/NGHTTP2_(ENHANCE_YOUR_CALM|REFUSED_STREAM)/.test(lastMessage)) {
        transport = newTransport();
        return "reset";
      }
      return e.code;
    }
  }

  /** Connect JSON over HTTP/1.1, so the server's own JSON parser meets the wrong shapes. */
  async function callJson(service: DescService, method: DescMethod, body: string): Promise<Code | "ok"> {
    const res = await fetch(`${url}/${service.typeName}/${method.name}`, {
      method: "POST",
      headers: { "content-type": "application/json", "connect-protocol-version": "1", authorization: `Bearer ${token}` },
      body,
    });
    if (res.ok) return (await res.arrayBuffer(), "ok");
    const err = (await res.json().catch(() => ({}))) as { code?: string; message?: string };
    lastMessage = (err.message ?? "").slice(0, 300);
    return JSON_CODES[err.code ?? ""] ?? Code.Unknown;
  }

  it(`answers ${SECONDS}s of random and mutated requests to every RPC with client errors only`, async () => {
    const rng = new Rng(SEED);
    const methods = SERVICES.flatMap((s) => s.methods.map((m) => ({ service: s, method: m, key: methodKey(s, m) })));
    const findings: Finding[] = [];
    const counts = new Map<string, number>();
    const calledRpcs = new Set<string>();
    const count = (k: string) => counts.set(k, (counts.get(k) ?? 0) + 1);

    const run = async (t: (typeof methods)[number], strategy: Strategy, req: Message | undefined) => {
      if (!req && strategy !== "wrong-json") return count("skipped: undecodable bytes");
      const outcome =
        strategy === "wrong-json" ? await callJson(t.service, t.method, JSON.stringify(wrongJson(rng, t.method.input))) : await callGrpc(t.service, t.method, req!);
      calledRpcs.add(t.key);
      if (outcome === "reset") return count("connection reset by HTTP/2 flood protection");
      count(`${strategy} → ${outcome === "ok" ? "ok" : Code[outcome]}`);
      const bad = outcome === "ok" ? strategy === "poisoned" : !CLIENT_ERRORS.has(outcome);
      if (bad) {
        const request = req ? describeRequest(req) : "(wrong-shaped JSON)";
        findings.push({ rpc: t.key, strategy, outcome: outcome === "ok" ? "accepted" : Code[outcome], message: outcome === "ok" ? "" : lastMessage, request });
      }
    };

    // Every RPC at least once with an empty and a random request, then random picks until time is up.
    for (const t of methods) {
      await run(t, "empty", create(t.method.input));
      await run(t, "random", randomMessage(rng, t.method.input));
    }
    const deadline = Date.now() + SECONDS * 1000;
    let sent = 0;
    while (Date.now() < deadline) {
      const t = rng.pick(methods);
      const guarded = seed.guarded.get(t.key);
      const valid = seed.valid.get(t.key);
      const roll = rng.next();
      if (guarded && roll < 0.5) await run(t, "poisoned", poison(rng, t.method.input, rng.pick(guarded)));
      else if (valid && roll < 0.5) await run(t, "mutated", mutate(rng, t.method.input, rng.pick(valid)));
      else if (roll < 0.8) await run(t, "random", randomMessage(rng, t.method.input));
      else if (roll < 0.9) await run(t, "bytes", messageFromBytes(rng, t.method.input));
      else await run(t, "wrong-json", undefined);
      sent++;
    }

    // A new connection: the server, not the fuzzer's connection, must still answer.
    transport = newTransport();
    const health = await createClient(Health, transport).check({});
    const after = await seed.snapshot();
    console.log(
      `rpc fuzz: seed=${SEED} (FUZZ_SEED) seconds=${SECONDS} (FUZZ_SECONDS) requests=${sent + 2 * methods.length} rpcs=${calledRpcs.size}/${methods.length} findings=${findings.length}\n` +
        [...counts].sort().map(([k, n]) => `  ${k}: ${n}`).join("\n"),
    );
    // One line per RPC and outcome, with its first request: what to fix, not every repeat.
    const grouped = new Map<string, Finding & { times: number }>();
    for (const f of findings) {
      const k = `${f.rpc} ${f.outcome}`;
      grouped.set(k, { ...(grouped.get(k) ?? f), times: (grouped.get(k)?.times ?? 0) + 1 });
    }
    expect([...grouped.values()]).toEqual([]);
    expect(calledRpcs.size).toBe(methods.length);
    expect(health.status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    expect(after).toBe(before);
  }, 120_000);
});
