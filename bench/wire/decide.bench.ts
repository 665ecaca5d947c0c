// Decide over the wire (issue 4): the decision service standalone on real Postgres/Redis/NATS,
// loaded by h2load (gRPC over h2c, 4 connections × 16 streams) and wrk (Connect JSON over
// HTTP/1.1, 64 connections), against the framework floor — grpc.health.v1.Health/Check on the
// same server stack, same process, same load — in the same run. Prints a markdown report.
//
//   node --import tsx bench/wire/decide.bench.ts       (BENCH_SECONDS=10 per run, BENCH_WARMUP=2)
//   BENCH_CPU_PROF=/tmp/prof …                          (writes the decision service's .cpuprofile)
//   BENCH_PEER=0 …                                      (skips @unleash/proxy)
import { create, toBinary } from "@bufbuild/protobuf";
import { DecideBatchRequestSchema, DecideRequestSchema, DecisionReason } from "@lotty/proto/decision";
import { HealthCheckRequestSchema } from "@lotty/proto/grpc-health";
import { freePort, startNode } from "../../test/support/process.js";
import { h2loadGrpc, toolVersions, wrk, type LoadResult } from "./load.js";
import { histogramDiff, sample, scrape } from "./prom.js";
import { createFlag, startExperiment, value, waitForReason } from "./seed.js";
import { startStack } from "./stack.js";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2);
const CONNECTIONS = 64;
const H2 = { clients: 4, streams: 16 };
const SUBJECTS = 1_000_000; // distinct subjects for the no-history flag over Connect JSON
const RETURNING = 1_000; // the experiment flag's subject pool: assigned once, sticky afterwards

const PLAIN = "wire.plain";
const EXP = "wire.exp";
const BATCH = Array.from({ length: 20 }, (_, i) => `wire.batch.${String(i).padStart(2, "0")}`);
const US = { country: value("US") };

const DECIDE = "lotty.decision.v1.DecisionService/Decide";
const DECIDE_BATCH = "lotty.decision.v1.DecisionService/DecideBatch";
const CHECK = "grpc.health.v1.Health/Check";

interface Row {
  name: string;
  protocol: string;
  method: string;
  flagsPerCall: number;
  load: LoadResult;
  /** Server-side, from lotty_rpc_duration_seconds (interpolated within buckets). */
  rpcP50Ms: number;
  rpcP99Ms: number;
  /** From the decision service's own lotty_decision_decide_seconds (Decide/DecideBatch only). */
  decideP99Ms?: number;
  decideShareAtMost2ms?: number;
  rpcErrors: number;
  reasons: string;
}

const stack = await startStack({ decisionReplicas: 1, cpuProfileDir: process.env.BENCH_CPU_PROF });
const rows: Row[] = [];
let peer: { load: LoadResult } | { error: string } | undefined;
try {
  const exp = stack.experiment;
  const decisionUrl = stack.decisionUrls[0];
  const decisions = stack.decisions[0];
  await createFlag(exp, PLAIN, false);
  for (const k of BATCH) await createFlag(exp, k, false);
  await createFlag(exp, EXP, false);
  await startExperiment(exp, EXP, 'country IN ["US"]', 100);
  await waitForReason(decisions, EXP, DecisionReason.EXPERIMENT_ASSIGNED, US);
  await waitForReason(decisions, BATCH.at(-1)!, DecisionReason.NO_ACTIVE_EXPERIMENT);

  async function measure(
    name: string,
    protocol: string,
    method: string,
    flagsPerCall: number,
    load: (seconds: number) => Promise<LoadResult>,
  ): Promise<void> {
    if (WARMUP > 0) await load(WARMUP);
    const before = await scrape(decisionUrl);
    const result = await load(SECONDS);
    const after = await scrape(decisionUrl);
    const rpc = histogramDiff(before, after, "lotty_rpc_duration_seconds", { method });
    const isDecide = method !== CHECK;
    const decide = isDecide ? histogramDiff(before, after, "lotty_decision_decide_seconds") : undefined;
    const errors =
      sample(after, "lotty_rpc_requests_total", { method }) -
      sample(before, "lotty_rpc_requests_total", { method }) -
      (sample(after, "lotty_rpc_requests_total", { method, code: "ok" }) - sample(before, "lotty_rpc_requests_total", { method, code: "ok" }));
    const reasons = isDecide
      ? Object.values(DecisionReason)
          .filter((r): r is string => typeof r === "string")
          .map((r) => [r.toLowerCase(), sample(after, "lotty_decision_decisions_total", { reason: r.toLowerCase() }) - sample(before, "lotty_decision_decisions_total", { reason: r.toLowerCase() })] as const)
          .filter(([, n]) => n > 0)
          .map(([r, n]) => `${r} ${n}`)
          .join(", ")
      : "";
    const row: Row = {
      name,
      protocol,
      method,
      flagsPerCall,
      load: result,
      rpcP50Ms: rpc.quantile(0.5) * 1e3,
      rpcP99Ms: rpc.quantile(0.99) * 1e3,
      decideP99Ms: decide ? decide.quantile(0.99) * 1e3 : undefined,
      decideShareAtMost2ms: decide?.shareAtMost(0.002),
      rpcErrors: errors,
      reasons,
    };
    rows.push(row);
    console.error(`${name} [${protocol}]: ${result.reqPerSec.toFixed(0)} req/s, server p99 ${row.rpcP99Ms.toFixed(3)} ms, ${reasons}`);
  }

  // gRPC over h2c with h2load: one body file per run, so one subject per run.
  const grpc = (method: string, body: Uint8Array) => (seconds: number) =>
    h2loadGrpc({ url: `${decisionUrl}/${method}`, body, ...H2, seconds });
  const decideBody = (flagKey: string) => toBinary(DecideRequestSchema, create(DecideRequestSchema, { subjectId: "subject-42", flagKey, attributes: US }));
  const batchBody = toBinary(DecideBatchRequestSchema, create(DecideBatchRequestSchema, { subjectId: "subject-42", flagKeys: BATCH, attributes: US }));
  const checkBody = toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema, {}));
  const g = "gRPC h2c (h2load -c4 -m16)";
  await measure("floor: Health/Check", g, CHECK, 1, grpc(CHECK, checkBody));
  await measure("Decide, no-history flag", g, DECIDE, 1, grpc(DECIDE, decideBody(PLAIN)));
  await measure("Decide, experiment flag (sticky, 1 Redis read)", g, DECIDE, 1, grpc(DECIDE, decideBody(EXP)));
  await measure("DecideBatch, 20 no-history flags", g, DECIDE_BATCH, 20, grpc(DECIDE_BATCH, batchBody));
  await measure("floor: Health/Check (again)", g, CHECK, 1, grpc(CHECK, checkBody));

  // Connect JSON over HTTP/1.1 with wrk: the subject varies per request.
  const json = (method: string, bodyTemplate: string, vary: number) => (seconds: number) =>
    wrk({ url: `${decisionUrl}/${method}`, bodyTemplate, vary, connections: CONNECTIONS, seconds });
  const decideJson = (flagKey: string) => `{"subjectId":"s%d","flagKey":"${flagKey}","attributes":{"country":"US"}}`;
  const batchJson = `{"subjectId":"s%d","flagKeys":${JSON.stringify(BATCH)},"attributes":{"country":"US"}}`;
  const j = "Connect JSON HTTP/1.1 (wrk -c64)";
  await measure("floor: Health/Check", j, CHECK, 1, json(CHECK, `{"service":""}`, 1));
  await measure(`Decide, no-history flag (${SUBJECTS} subjects)`, j, DECIDE, 1, json(DECIDE, decideJson(PLAIN), SUBJECTS));
  await measure(`Decide, experiment flag (${RETURNING} sticky subjects)`, j, DECIDE, 1, json(DECIDE, decideJson(EXP), RETURNING));
  await measure("DecideBatch, 20 no-history flags", j, DECIDE_BATCH, 20, json(DECIDE_BATCH, batchJson, SUBJECTS));
  await measure("floor: Health/Check (again)", j, CHECK, 1, json(CHECK, `{"service":""}`, 1));

  if (process.env.BENCH_PEER !== "0") peer = await runUnleashProxy();

  // Exposures: wait until every decision was published (or dropped), then count the stream.
  const exposures = await settleExposures(decisionUrl);
  const stored = await stack.storedExposures();
  console.log(await report(rows, peer, { ...exposures, stored }));
} finally {
  await stack.close();
}

async function runUnleashProxy(): Promise<{ load: LoadResult } | { error: string }> {
  const port = await freePort();
  try {
    const proxy = await startNode("unleash-proxy", "bench/wire/unleash-proxy.ts", { PORT: String(port) }, /unleash-proxy ready/);
    try {
      const load = (seconds: number) =>
        wrk({
          url: `http://127.0.0.1:${port}`,
          method: "GET",
          bodyTemplate: "",
          pathTemplate: "/proxy?userId=s%d&properties%5Bcountry%5D=US",
          headers: { Authorization: "bench-secret" },
          vary: SUBJECTS,
          connections: CONNECTIONS,
          seconds,
        });
      if (WARMUP > 0) await load(WARMUP);
      const result = await load(SECONDS);
      console.error(`@unleash/proxy: ${result.reqPerSec.toFixed(0)} req/s`);
      return { load: result };
    } finally {
      await proxy.stop();
    }
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

interface ExposureCount {
  decided: number;
  published: number;
  dropped: number;
  waitedMs: number;
}

/** Polls /metrics until published + dropped catches up with decisions (or stops moving for 15 s). */
async function settleExposures(url: string): Promise<ExposureCount> {
  const started = Date.now();
  let last = -1;
  let still = Date.now();
  for (;;) {
    const m = await scrape(url);
    const decided = sample(m, "lotty_decision_decisions_total");
    const published = sample(m, "lotty_decision_exposures_published_total");
    const dropped = sample(m, "lotty_decision_exposures_dropped_total");
    if (published + dropped !== last) {
      last = published + dropped;
      still = Date.now();
    }
    if (published + dropped >= decided || Date.now() - still > 15_000) {
      return { decided, published, dropped, waitedMs: Date.now() - started };
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

const fmt = (n: number, d = 0) => n.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });

async function report(rs: Row[], p: typeof peer, ex: ExposureCount & { stored: number }): Promise<string> {
  const v = await toolVersions();
  const lines = [
    `Run ${new Date().toISOString()} — ${v.node}, ${v.h2load}, ${v.wrk}; ${SECONDS} s per run after ${WARMUP} s warm-up.`,
    "",
    "| protocol | call | req/s | decisions/s | vs floor | client latency | server p50 / p99 (rpc histogram) | decide p99 (own histogram) | ≤ 2 ms | errors | reasons |",
    "| --- | --- | ---: | ---: | ---: | --- | --- | --- | ---: | ---: | --- |",
  ];
  for (const protocol of [...new Set(rs.map((r) => r.protocol))]) {
    const group = rs.filter((r) => r.protocol === protocol);
    const floors = group.filter((r) => r.method === CHECK).map((r) => r.load.reqPerSec);
    const floor = floors.reduce((a, b) => a + b, 0) / floors.length;
    for (const r of group) {
      lines.push(
        `| ${protocol} | ${r.name} | ${fmt(r.load.reqPerSec)} | ${fmt(r.load.reqPerSec * r.flagsPerCall)} | ${r.method === CHECK ? "—" : `${fmt((100 * r.load.reqPerSec) / floor, 1)} %`} | ${r.load.latency} | ${fmt(r.rpcP50Ms, 3)} / ${fmt(r.rpcP99Ms, 3)} ms | ${r.decideP99Ms === undefined ? "—" : `${fmt(r.decideP99Ms, 3)} ms`} | ${r.decideShareAtMost2ms === undefined ? "—" : `${fmt(100 * r.decideShareAtMost2ms, 2)} %`} | ${r.load.failed + r.rpcErrors} | ${r.reasons} |`,
      );
    }
    const single = group.find((r) => r.method === DECIDE);
    const batch = group.find((r) => r.method === DECIDE_BATCH);
    if (single && batch) {
      lines.push(`| ${protocol} | DecideBatch(20) decisions/s ÷ Decide (no-history) req/s | | | **${fmt((batch.load.reqPerSec * 20) / single.load.reqPerSec, 1)}×** | | | | | | |`);
    }
    lines.push(`| ${protocol} | floor mean | ${fmt(floor)} | | | | | | | | |`);
  }
  lines.push("");
  if (p && "load" in p) {
    lines.push(`Peer: @unleash/proxy (GET /proxy, 1 bootstrapped toggle, same wrk -c64, varying userId): ${fmt(p.load.reqPerSec)} req/s, ${p.load.latency}, ${p.load.failed} errors.`);
  } else if (p) {
    lines.push(`Peer: @unleash/proxy could not run: ${p.error}`);
  }
  lines.push(
    "",
    `Exposures: ${fmt(ex.decided)} decisions, ${fmt(ex.published)} published, ${fmt(ex.dropped)} dropped (buffer overflow), ${fmt(ex.stored)} stored in the stream; ` +
      `${fmt(ex.decided - ex.published - ex.dropped)} still buffered after waiting ${fmt(ex.waitedMs / 1000, 1)} s; ` +
      `${ex.published === ex.stored ? "published = stored" : `published − stored = ${fmt(ex.published - ex.stored)}`}.`,
  );
  return lines.join("\n");
}
