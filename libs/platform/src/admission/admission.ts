import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { Counter, Gauge, type Registry } from "prom-client";
import type { HttpRoute } from "../rpc/http-routes.js";
import { observeCall } from "../telemetry/rpc-call.js";
import { PRIORITY_CLASSES, classifyHttp, classifyRpc, type PriorityClass } from "./classes.js";
import { AdmissionController } from "./controller.js";
import { startDelaySampler } from "./delay.js";
import { LoopTurn } from "./turn.js";

export interface AdmissionOptions {
  /** In-flight budget of Decide, DecideBatch and OFREP evaluations (shed first). */
  decideMaxInFlight: number;
  /** In-flight budget of every other RPC and route (never shed by queueing delay). */
  adminMaxInFlight: number;
  /** Standing event-loop delay above which decides are shed. */
  targetDelayMs: number;
  /** How long the delay must stand above target; also the AIMD adjustment period. */
  intervalMs: number;
}

export const DEFAULT_ADMISSION: AdmissionOptions = { decideMaxInFlight: 256, adminMaxInFlight: 64, targetDelayMs: 100, intervalMs: 500 };

export interface AdmissionControl {
  readonly controller: AdmissionController;
  /** Rejects with RESOURCE_EXHAUSTED before auth and the handler run; releases when the call (or its stream) ends. */
  readonly interceptor: Interceptor;
  /** The same admission for plain-HTTP routes: 429 with Retry-After, as OFREP specifies. */
  guardHttp(routes: readonly HttpRoute[]): HttpRoute[];
  /** Starts measuring the queueing delay. */
  start(): void;
  close(): void;
}

export function createAdmission(opts: AdmissionOptions, deps: { registry?: Registry; random?: () => number } = {}): AdmissionControl {
  // Shorter intervals measure timer jitter, not a standing queue.
  if (opts.intervalMs < 50) throw new Error(`admission interval must be at least 50 ms (got ${opts.intervalMs} ms)`);
  const controller = new AdmissionController(
    {
      budgets: { decide: { maxInFlight: opts.decideMaxInFlight, sheddable: true }, admin: { maxInFlight: opts.adminMaxInFlight, sheddable: false } },
      targetDelayMs: opts.targetDelayMs,
    },
    deps.random,
  );
  const rejected = deps.registry ? registerMetrics(deps.registry, controller) : undefined;
  const turn = new LoopTurn();
  const admit = (cls: PriorityClass) => {
    const verdict = controller.tryAdmit(cls, turn.elapsedMs());
    if (!verdict.admitted) rejected?.inc({ class: cls });
    return verdict;
  };
  let sampler: { close(): void } | undefined;

  return {
    controller,
    interceptor: (next) => (req) => {
      const cls = classifyRpc(req.service.typeName, req.method.name);
      if (cls === "exempt") return next(req);
      const verdict = admit(cls);
      if (!verdict.admitted) return Promise.reject(new ConnectError(verdict.reason, Code.ResourceExhausted));
      return observeCall(next, req, verdict.release);
    },
    guardHttp: (routes) =>
      routes.map((route) => ({
        ...route,
        async handle(req, res, match) {
          const verdict = admit(classifyHttp((req.url ?? "/").split("?", 1)[0]));
          if (!verdict.admitted) {
            res.writeHead(429, { "content-type": "application/json", "retry-after": "1" });
            res.end(JSON.stringify({ errorCode: "GENERAL", errorDetails: verdict.reason }));
            return;
          }
          try {
            await route.handle(req, res, match);
          } finally {
            verdict.release();
          }
        },
      })),
    start() {
      sampler ??= startDelaySampler(opts.intervalMs, (delay) => controller.onInterval(delay));
    },
    close() {
      sampler?.close();
    },
  };
}

function registerMetrics(registry: Registry, controller: AdmissionController): Counter<"class"> {
  const perClass = (name: string, help: string, read: (cls: PriorityClass) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ["class"] as const,
      registers: [registry],
      collect() {
        for (const cls of PRIORITY_CLASSES) this.set({ class: cls }, read(cls));
      },
    });
  perClass("lotty_admission_in_flight", "Calls in flight, by priority class", (c) => controller.snapshot(c).inFlight);
  perClass("lotty_admission_limit", "Current adaptive in-flight limit, by priority class", (c) => controller.snapshot(c).limit);
  perClass("lotty_admission_shed_ratio", "Share of new calls shed for queueing delay, by priority class", (c) => controller.snapshot(c).shedProbability);
  new Gauge({
    name: "lotty_admission_queueing_delay_seconds",
    help: "Standing event-loop delay over the last admission interval",
    registers: [registry],
    collect() {
      this.set(controller.queueingDelayMs / 1000);
    },
  });
  return new Counter({
    name: "lotty_admission_rejected_total",
    help: "Calls rejected by admission control (RESOURCE_EXHAUSTED, HTTP 429), by priority class",
    labelNames: ["class"] as const,
    registers: [registry],
  });
}
