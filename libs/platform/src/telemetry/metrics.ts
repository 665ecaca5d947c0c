import { collectDefaultMetrics, Counter, Histogram, Registry } from "prom-client";
import type { Interceptor } from "@connectrpc/connect";
import { codeName, observeCall, rpcName } from "./rpc-call.js";

/** A per-service registry (not prom-client's global one) so embedded mode can host five. */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

// Decide answers from memory in well under a millisecond, so the buckets start at 100 µs.
const DURATION_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

function metric<T>(registry: Registry, name: string, make: () => T): T {
  // Reuse the instance if another interceptor on this registry already made it.
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export function rpcMetricsInterceptor(registry: Registry): Interceptor {
  const duration = metric(
    registry,
    "lotty_rpc_duration_seconds",
    () =>
      new Histogram({
        name: "lotty_rpc_duration_seconds",
        help: "RPC handling time in seconds, by method and status code",
        labelNames: ["method", "code"] as const,
        buckets: DURATION_BUCKETS,
        registers: [registry],
      }),
  );
  const requests = metric(
    registry,
    "lotty_rpc_requests_total",
    () =>
      new Counter({
        name: "lotty_rpc_requests_total",
        help: "RPCs handled, by method and status code",
        labelNames: ["method", "code"] as const,
        registers: [registry],
      }),
  );
  return (next) => (req) => {
    const stop = duration.startTimer();
    const method = rpcName(req);
    return observeCall(next, req, (err) => {
      const labels = { method, code: codeName(err?.code) };
      stop(labels);
      requests.inc(labels);
    });
  };
}
