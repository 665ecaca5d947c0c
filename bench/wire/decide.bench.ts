// Decide over the wire (issue 4): the decision service standalone on real Postgres/Redis/NATS,
// loaded by h2load (gRPC over h2c, 4 connections × 16 streams) and wrk (Connect JSON over
// HTTP/1.1, 64 connections), against the framework floor — grpc.health.v1.Health/Check on the
// same server stack, same process, same load — in the same run. Prints a markdown report.
//
//   node --import tsx bench/wire/decide.bench.ts       (BENCH_SECONDS=10 per run, BENCH_WARMUP=2)
//   BENCH_CPU_PROF=/tmp/prof …                          (writes the decision service's .cpuprofile)
//   BENCH_PEER=0 …                                      (skips @unleash/proxy)
//   BENCH_EXPOSURES=off …                               (LOTTY_DECISION_EXPOSURES: what publishing costs)
import { create, toBinary } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { DecideBatchRequestSchema, DecideRequestSchema, DecisionReason } from "@lotty/proto/decision";
import { HealthCheckRequestSchema } from "@lotty/proto/grpc-health";
import { freePort, startNode } from "../../test/support/process.js";
import { h2loadGrpc, toolVersions, wrk, type LoadResult } from "./load.js";
import { histogramDiff, sample, scrape } from "./prom.js";
import os from "node:os";
import { createFlag, startExperiment, value, waitForReason } from "./seed.js";
import { startStack } from "./stack.js";

// Rounds interleave floor and Decide runs: the machine is shared, so throughput drifts between
// runs; each round's ratio is taken against that round's floors, and the median is reported.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
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
  round: number;
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

const EXPOSURES = process.env.BENCH_EXPOSURES ?? "async";
const stack = await startStack({
  decisionReplicas: 1,
  cpuProfileDir: process.env.BENCH_CPU_PROF,
  decisionEnv: { LOTTY_DECISION_EXPOSURES: EXPOSURES },
});
const loadBefore = os.loadavg()[0];
const rows: Row[] = [];
const peers: ({ round: number; load: LoadResult } | { error: string })[] = [];
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

  let round = 0;
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
    const served = (code: string) => sample(after, "lotty_rpc_requests_total", { method, code }) - sample(before, "lotty_rpc_requests_total", { method, code });
    // Which codes the non-ok answers had, so the errors column explains itself (e.g. admission sheds).
    const errorCodes = Object.values(Code)
      .filter((c): c is string => typeof c === "string")
      .map((c) => c.replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase())
      .map((c) => [c, served(c)] as const)
      .filter(([, n]) => n > 0);
    const errors = errorCodes.reduce((a, [, n]) => a + n, 0);
    const reasons = isDecide
      ? Object.values(DecisionReason)
          .filter((r): r is string => typeof r === "string")
          .map((r) => [r.toLowerCase(), sample(after, "lotty_decision_decisions_total", { reason: r.toLowerCase() }) - sample(before, "lotty_decision_decisions_total", { reason: r.toLowerCase() })] as const)
          .filter(([, n]) => n > 0)
          .map(([r, n]) => `${r} ${n}`)
          .concat(errorCodes.map(([c, n]) => `non-ok ${c} ${n}`))
          .join(", ")
      : "";
    const row: Row = {
      round,
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
  const j = "Connect JSON HTTP/1.1 (wrk -c64)";
  // Connect JSON over HTTP/1.1 with wrk: the subject varies per request.
  const json = (method: string, bodyTemplate: string, vary: number) => (seconds: number) =>
    wrk({ url: `${decisionUrl}/${method}`, bodyTemplate, vary, connections: CONNECTIONS, seconds });
  const decideJson = (flagKey: string) => `{"subjectId":"s%d","flagKey":"${flagKey}","attributes":{"country":"US"}}`;
  const batchJson = `{"subjectId":"s%d","flagKeys":${JSON.stringify(BATCH)},"attributes":{"country":"US"}}`;
  for (round = 1; round <= ROUNDS; round++) {
    await measure("floor: Health/Check", g, CHECK, 1, grpc(CHECK, checkBody));
    await measure("Decide, no-history flag", g, DECIDE, 1, grpc(DECIDE, decideBody(PLAIN)));
    await measure("Decide, experiment flag (1 subject, sticky)", g, DECIDE, 1, grpc(DECIDE, decideBody(EXP)));
    await measure("DecideBatch, 20 no-history flags", g, DECIDE_BATCH, 20, grpc(DECIDE_BATCH, batchBody));
    await measure("floor: Health/Check", g, CHECK, 1, grpc(CHECK, checkBody));

    await measure("floor: Health/Check", j, CHECK, 1, json(CHECK, `{"service":""}`, 1));
    await measure(`Decide, no-history flag (${fmt(SUBJECTS)} subjects)`, j, DECIDE, 1, json(DECIDE, decideJson(PLAIN), SUBJECTS));
    await measure(`Decide, experiment flag (${fmt(RETURNING)} sticky subjects)`, j, DECIDE, 1, json(DECIDE, decideJson(EXP), RETURNING));
    await measure("DecideBatch, 20 no-history flags", j, DECIDE_BATCH, 20, json(DECIDE_BATCH, batchJson, SUBJECTS));
    if (process.env.BENCH_PEER !== "0") peers.push(await runUnleashProxy(round));
    await measure("floor: Health/Check", j, CHECK, 1, json(CHECK, `{"service":""}`, 1));
  }

  // Exposures: wait until every decision was published (or dropped), then count the stream.
  const exposures = EXPOSURES === "off" ? undefined : await settleExposures(decisionUrl);
  const stored = await stack.storedExposures();
  console.log(await report(rows, peers, exposures && { ...exposures, stored }));
} finally {
  await stack.close();
}

async function runUnleashProxy(round: number): Promise<{ round: number; load: LoadResult } | { error: string }> {
  const port = await freePort();
  try {
    const proxy = await startNode("unleash-proxy", "bench/wire/unleash-proxy.ts", { PORT: String(port) }, /unleash-proxy ready/);
    try {
      const load = (seconds: number) =>
        wrk({
          url: `http://127.0.0.1:${port}`,
          method: "GET",
          bodyTemplate: "",
          pathTemplate: "/proxy?userId=s%d&properties[country]=US",
          headers: { Authorization: "bench-secret" },
          vary: SUBJECTS,
          connections: CONNECTIONS,
          seconds,
        });
      if (WARMUP > 0) await load(WARMUP);
      const result = await load(SECONDS);
      console.error(`@unleash/proxy: ${result.reqPerSec.toFixed(0)} req/s`);
      return { round, load: result };
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

function fmt(n: number, d = 0): string {
  return n.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
}

function median(xs: number[]): number {
  const a = [...xs].sort((x, y) => x - y);
  return a.length % 2 ? a[(a.length - 1) / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
}

async function report(rs: Row[], ps: typeof peers, ex: (ExposureCount & { stored: number }) | undefined): Promise<string> {
  const v = await toolVersions();
  const floorOf = (protocol: string, round: number): number =>
    median(rs.filter((r) => r.protocol === protocol && r.round === round && r.method === CHECK).map((r) => r.load.reqPerSec));
  const lines = [
    `Run ${new Date().toISOString()} — ${v.node}, ${v.h2load}, ${v.wrk}; exposures ${EXPOSURES}; ${ROUNDS} rounds, ${SECONDS} s per run after ${WARMUP} s warm-up; medians over rounds; ` +
      `load average ${fmt(loadBefore, 1)} → ${fmt(os.loadavg()[0], 1)} on ${os.cpus().length} cores (shared machine).`,
    "",
    "| protocol | call | req/s | decisions/s | vs floor (per round) | client latency (last round) | server p50 / p99, rpc histogram | decide p99, own histogram | decides ≤ 2 ms | errors | reasons (last round) |",
    "| --- | --- | ---: | ---: | --- | --- | --- | --- | ---: | ---: | --- |",
  ];
  for (const protocol of [...new Set(rs.map((r) => r.protocol))]) {
    const names = [...new Set(rs.filter((r) => r.protocol === protocol).map((r) => r.name))];
    const reqs: Record<string, number> = {};
    for (const name of names) {
      const group = rs.filter((r) => r.protocol === protocol && r.name === name);
      const last = group.at(-1)!;
      const rps = median(group.map((r) => r.load.reqPerSec));
      reqs[name] = rps;
      const ratios = group.map((r) => (100 * r.load.reqPerSec) / floorOf(protocol, r.round));
      const isFloor = last.method === CHECK;
      const med = (f: (r: Row) => number | undefined) => median(group.map(f).filter((x): x is number => x !== undefined));
      lines.push(
        `| ${protocol} | ${name} | ${fmt(rps)} | ${fmt(rps * last.flagsPerCall)} | ${isFloor ? "= 100 %" : `**${fmt(median(ratios), 1)} %** (${ratios.map((x) => fmt(x, 0)).join(", ")})`} | ${last.load.latency} | ${fmt(med((r) => r.rpcP50Ms), 3)} / ${fmt(med((r) => r.rpcP99Ms), 3)} ms | ${isFloor ? "—" : `${fmt(med((r) => r.decideP99Ms), 3)} ms (max ${fmt(Math.max(...group.map((r) => r.decideP99Ms ?? 0)), 3)})`} | ${isFloor ? "—" : `${fmt(100 * med((r) => r.decideShareAtMost2ms), 2)} %`} | ${group.reduce((a, r) => a + r.load.failed + r.rpcErrors, 0)} | ${last.reasons} |`,
      );
    }
    const single = rs.filter((r) => r.protocol === protocol && r.method === DECIDE && r.name.includes("no-history"));
    const batch = rs.filter((r) => r.protocol === protocol && r.method === DECIDE_BATCH);
    if (single.length && batch.length) {
      const x = batch.map((b) => (20 * b.load.reqPerSec) / single.find((s1) => s1.round === b.round)!.load.reqPerSec);
      lines.push(`| ${protocol} | DecideBatch(20) decisions/s ÷ Decide (no-history) decisions/s | | | **${fmt(median(x), 1)}×** (${x.map((y) => fmt(y, 1)).join(", ")}) | | | | | | |`);
    }
  }
  lines.push("");
  const ran = ps.filter((p): p is { round: number; load: LoadResult } => "load" in p);
  if (ran.length > 0) {
    const j = "Connect JSON HTTP/1.1 (wrk -c64)";
    const ratios = ran.map((p) => {
      const lotty = rs.find((r) => r.protocol === j && r.round === p.round && r.method === DECIDE && r.name.includes("no-history"))!;
      return lotty.load.reqPerSec / p.load.reqPerSec;
    });
    lines.push(
      `Peer: @unleash/proxy 1.4.9 (GET /proxy, 1 bootstrapped toggle: country IN [US], 50 % rollout, a/b; same wrk -c64, varying userId): ` +
        `${fmt(median(ran.map((p) => p.load.reqPerSec)))} req/s (${ran.at(-1)!.load.latency}, ${ran.reduce((a, p) => a + p.load.failed, 0)} errors); ` +
        `Lotty Decide (no-history, Connect JSON) ÷ proxy = **${fmt(median(ratios), 2)}×** (${ratios.map((r) => fmt(r, 2)).join(", ")}).`,
    );
  }
  for (const p of ps) if ("error" in p) lines.push(`Peer: @unleash/proxy could not run: ${p.error}`);
  if (!ex) return [...lines, "", "Exposures: off in this run (LOTTY_DECISION_EXPOSURES=off)."].join("\n");
  lines.push(
    "",
    `Exposures: ${fmt(ex.decided)} decisions, ${fmt(ex.published)} published, ${fmt(ex.dropped)} dropped (buffer overflow), ${fmt(ex.stored)} stored in the stream; ` +
      `${fmt(ex.decided - ex.published - ex.dropped)} still buffered after waiting ${fmt(ex.waitedMs / 1000, 1)} s; ` +
      `${ex.published === ex.stored ? "published = stored" : `published − stored = ${fmt(ex.published - ex.stored)}`}.`,
  );
  return lines.join("\n");
}
