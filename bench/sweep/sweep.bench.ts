/**
 * Guardrail sweep benchmark (issue 6): one Sweep over N running experiments with 3 guardrails each.
 *
 *   node --import tsx bench/sweep/sweep.bench.ts [--experiments 1000] [--breach-every 20] [--limit-ms 10000]
 *
 * Real: the guardrail service module (its SQL, claims and trigger records on the machine's Postgres,
 * in a fresh database dropped at the end), served over gRPC (HTTP/2 on loopback) and called
 * through a gRPC client, as the CronJob's CLI does. Faked: the experiment and metrics services
 * (the guardrail service's own test fakes: versioned lifecycle with ABORTED/FAILED_PRECONDITION,
 * metric values computed from the query), served over gRPC on their own port so every call the
 * sweep makes crosses the wire and is counted there. The bus is in memory.
 *
 * Every `--breach-every`-th experiment has a treatment error rate over its threshold, so the first
 * sweep records triggers and rolls those experiments back; the second sweep is the steady state
 * (nothing fires). Exits 1 when a sweep exceeds --limit-ms or metric values were fetched one RPC
 * per query instead of in batches.
 */
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { createClient, type ServiceImpl } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createGuardrailService } from "@lotty/guardrail-service/server";
import { createMemoryBus } from "@lotty/platform/bus";
import { dropDatabase, ensureDatabase, openPostgres } from "@lotty/platform/db";
import { createLogger } from "@lotty/platform/log";
import { createRpcServer, type RpcServer } from "@lotty/platform/rpc";
import { ExperimentService, ExperimentStatus, file_lotty_experiment_v1_experiment_service } from "@lotty/proto/experiment";
import { GuardrailAction, GuardrailService, type SweepResponse } from "@lotty/proto/guardrail";
import { MetricDirection, MetricsService, file_lotty_metrics_v1_metrics } from "@lotty/proto/metrics";
import { fakeExperimentService, fakeMetricsService, metricValue } from "../../services/guardrail/test/fakes.js";

const { values: args } = parseArgs({
  options: {
    experiments: { type: "string", default: "1000" },
    "breach-every": { type: "string", default: "20" },
    "limit-ms": { type: "string", default: "10000" },
    pg: { type: "string", default: "postgres://postgres@127.0.0.1:5432/postgres" },
  },
});
const N = Number(args.experiments);
const BREACH_EVERY = Number(args["breach-every"]);
const LIMIT_MS = Number(args["limit-ms"]);
const HOUR = 3_600_000;

/** Wraps every method of a service implementation with a call counter (the RPCs the sweep made). */
function counted<S extends object>(impl: S, counts: Map<string, number>): S {
  return Object.fromEntries(
    Object.entries(impl).map(([name, fn]: [string, (...a: unknown[]) => unknown]) => [
      name,
      (...a: unknown[]) => {
        counts.set(name, (counts.get(name) ?? 0) + 1);
        return fn(...a);
      },
    ]),
  ) as S;
}

async function serve(server: RpcServer): Promise<string> {
  const { port } = await server.listen(0, "127.0.0.1");
  return `http://127.0.0.1:${port}`;
}

const dbName = `lotty_bench_sweep_${process.pid}_${randomBytes(3).toString("hex")}`;
const dbUrl = args.pg.replace(/\/[^/]*$/, `/${dbName}`);
const closers: (() => Promise<unknown>)[] = [];

try {
  await ensureDatabase(args.pg, dbName);
  closers.push(() => dropDatabase(args.pg, dbName));
  const db = openPostgres(dbUrl, { max: 10 });
  closers.unshift(() => db.close());
  const bus = createMemoryBus();
  closers.unshift(() => bus.close());

  // Peers: the experiment and metrics fakes, behind a real gRPC server, every call counted.
  const exp = fakeExperimentService(() => new Date());
  const metrics = fakeMetricsService();
  metrics.metric("error_rate", MetricDirection.LOWER_IS_BETTER);
  metrics.metric("latency_p95", MetricDirection.LOWER_IS_BETTER);
  metrics.metric("conversion", MetricDirection.HIGHER_IS_BETTER);
  const breached = new Set<string>();
  metrics.values((q) => {
    switch (q.metricKey) {
      case "error_rate":
        return metricValue({ control: 0.01, treatment: breached.has(q.experimentId) ? 0.3 : 0.012 });
      case "latency_p95":
        return metricValue({ control: 180, treatment: 190 });
      default:
        return metricValue({ control: 0.1, treatment: 0.101 }, { comparisons: [{ variant: "treatment", relativeLift: 0.01, lower: -0.03, upper: 0.05 }] });
    }
  });
  const peerCalls = new Map<string, number>();
  const peers = createRpcServer({
    name: "bench-peers",
    files: [file_lotty_experiment_v1_experiment_service, file_lotty_metrics_v1_metrics],
    routes: (r) => {
      r.service(ExperimentService, counted(exp.impl, peerCalls) as Partial<ServiceImpl<typeof ExperimentService>>);
      r.service(MetricsService, counted(metrics.impl, peerCalls) as Partial<ServiceImpl<typeof MetricsService>>);
    },
  });
  const peersUrl = await serve(peers);
  closers.unshift(() => peers.close({ graceMs: 1000 }));
  const peerTransport = createGrpcTransport({ baseUrl: peersUrl });

  // The real guardrail service, behind its own gRPC server.
  const module = await createGuardrailService({
    db,
    bus,
    logger: createLogger("guardrail-bench", { level: "warn" }),
    experiment: createClient(ExperimentService, peerTransport),
    metrics: createClient(MetricsService, peerTransport),
  });
  closers.unshift(() => module.close());
  const server = createRpcServer({ name: "guardrail", files: [...module.files], routes: (r) => module.register(r) });
  const guardrail = createClient(GuardrailService, createGrpcTransport({ baseUrl: await serve(server), defaultTimeoutMs: 60_000 }));
  closers.unshift(() => server.close({ graceMs: 1000 }));

  // N running experiments, 3 guardrails each (rollback on error rate, pause on latency and on a
  // relative conversion drop), created through the API.
  const setupStart = performance.now();
  const variants = [{ name: "control", control: true, weight: 1 }, { name: "treatment", control: false, weight: 1 }];
  const ids = Array.from({ length: N }, (_, i) => exp.put({ id: `exp-${String(i).padStart(5, "0")}`, name: `bench ${i}`, variants }).id);
  ids.forEach((id, i) => i % BREACH_EVERY === 0 && breached.add(id));
  const specs = ids.flatMap((experimentId) => [
    { experimentId, metricKey: "error_rate", window: durationFromMs(HOUR), action: GuardrailAction.ROLLBACK, active: true, rule: { case: "threshold" as const, value: { threshold: 0.05 } } },
    { experimentId, metricKey: "latency_p95", window: durationFromMs(HOUR), action: GuardrailAction.PAUSE, active: true, rule: { case: "threshold" as const, value: { threshold: 400 } } },
    { experimentId, metricKey: "conversion", window: durationFromMs(24 * HOUR), action: GuardrailAction.PAUSE, active: true, rule: { case: "relative" as const, value: { maxDegradation: 0.05, minSample: 100n } } },
  ]);
  for (let i = 0; i < specs.length; i += 32) await Promise.all(specs.slice(i, i + 32).map((g) => guardrail.createGuardrail({ guardrail: g })));
  console.log(`setup: ${N} experiments, ${specs.length} guardrails created through CreateGuardrail in ${((performance.now() - setupStart) / 1000).toFixed(1)} s`);

  const results: { label: string; ms: number; res: SweepResponse; calls: Map<string, number>; metricRequests: number }[] = [];
  for (const label of ["first sweep (acts on the breached)", "second sweep (steady state)"]) {
    peerCalls.clear();
    const requestsBefore = metrics.counts.requests;
    const t0 = performance.now();
    const res = await guardrail.sweep({});
    const ms = performance.now() - t0;
    results.push({ label, ms, res, calls: new Map(peerCalls), metricRequests: metrics.counts.requests - requestsBefore });
  }

  let ok = true;
  for (const { label, ms, res, calls, metricRequests } of results) {
    const rpcs = [...calls.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`).join(" ");
    const total = [...calls.values()].reduce((a, b) => a + b, 0);
    console.log(`\n${label}`);
    console.log(`  total ${(ms / 1000).toFixed(2)} s, ${Math.round(res.experimentsChecked / (ms / 1000))} experiments/s`);
    console.log(`  checked ${res.experimentsChecked} experiments, ${res.guardrailsChecked} guardrails; ${res.triggers.length} triggers (${res.triggers.filter((t) => t.applied).length} applied)`);
    console.log(`  RPCs to peers: ${total} (${rpcs}); metric queries inside BatchGetMetricValues: ${metricRequests}`);
    if (ms > LIMIT_MS) {
      ok = false;
      console.log(`  FAIL: over the ${LIMIT_MS} ms limit`);
    }
    if ((calls.get("getMetricValue") ?? 0) > 0) {
      ok = false;
      console.log("  FAIL: metric values fetched one RPC per query");
    }
  }
  // The first sweep sees every experiment (acting on one page must not hide the next) and rolls
  // back exactly the breached ones; the second sees the rest and finds nothing.
  const rolledBack = ids.filter((id) => exp.get(id).status === ExperimentStatus.COMPLETED).length;
  console.log(`\nexperiments rolled back: ${rolledBack} of ${breached.size} breached`);
  const [first, second] = results.map((r) => r.res);
  if (rolledBack !== breached.size || first.experimentsChecked !== N || first.triggers.length !== breached.size || second.triggers.length !== 0) {
    ok = false;
    console.log("FAIL: the sweeps did not check every experiment or did not act exactly on the breached ones");
  }
  process.exitCode = ok ? 0 : 1;
} finally {
  for (const close of closers) await close().catch((err: unknown) => console.error("cleanup:", err));
}
