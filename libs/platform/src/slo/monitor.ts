import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { Interceptor } from "@connectrpc/connect";
import { SloBurnSchema } from "@lotty/proto/events";
import { Gauge, type Registry } from "prom-client";
import type { Bus } from "../bus/types.js";
import { publishEvent, Subjects } from "../events/index.js";
import type { Logger } from "../log/index.js";
import { codeName, observeCall, rpcName } from "../telemetry/rpc-call.js";
import type { AlertEvaluation } from "./burn.js";
import type { SloDefinition } from "./definitions.js";
import { SLO_WINDOWS, SloTracker, type SloTrackerOptions } from "./tracker.js";

export interface SloMonitorOptions extends SloTrackerOptions {
  slos: readonly SloDefinition[];
  /** Where SloBurn goes when an alert starts burning (the notification service sends it on). */
  bus: Bus;
  registry: Registry;
  logger: Logger;
  /** How often alerts are evaluated. */
  evaluateEveryMs?: number;
}

export interface SloMonitor {
  readonly tracker: SloTracker;
  /** Records every call of the SLOs' methods; install it where it sees shed calls too. */
  readonly interceptor: Interceptor;
  /** Evaluates the alerts now and publishes SloBurn for each one that started burning. */
  evaluate(): Promise<void>;
  start(): void;
  close(): Promise<void>;
}

/**
 * The platform measuring its own SLOs: the tracker fed by an interceptor, Prometheus gauges read
 * from it at scrape time, and one SloBurn event per alert episode (an alert firing
 * continuously, from the evaluation that sees it start to the one that sees it stop).
 */
export function createSloMonitor(opts: SloMonitorOptions): SloMonitor {
  const tracker = new SloTracker(opts.slos, opts);
  const now = opts.now ?? Date.now;
  /** Alerts whose episode has been announced, by "slo/alert". */
  const announced = new Set<string>();
  const firing = new Map<string, boolean>();
  registerGauges(opts.registry, tracker, firing);

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  const announce = async (slo: SloDefinition, e: AlertEvaluation): Promise<void> => {
    const key = `${slo.name}/${e.alert.name}`;
    if (!e.firing) {
      if (announced.delete(key)) opts.logger.info({ slo: slo.name, alert: e.alert.name }, "SLO burn stopped");
      return;
    }
    if (announced.has(key)) return;
    const event = create(SloBurnSchema, {
      eventId: randomUUID(),
      occurTime: timestampFromMs(now()),
      slo: slo.name,
      burnRateLong: e.longRate,
      burnRateShort: e.shortRate,
      threshold: e.alert.threshold,
      longWindow: e.alert.longWindow,
      shortWindow: e.alert.shortWindow,
    });
    opts.logger.warn({ slo: slo.name, alert: e.alert.name, burnRateLong: e.longRate, burnRateShort: e.shortRate }, "SLO burning");
    try {
      await publishEvent(opts.bus, Subjects.sloBurn, SloBurnSchema, event, event.eventId);
      announced.add(key);
    } catch (err) {
      // Not announced yet: the next evaluation tries again while the alert still fires.
      opts.logger.warn({ err, slo: slo.name }, "could not publish SloBurn");
    }
  };

  const evaluateOnce = async (): Promise<void> => {
    for (const slo of tracker.slos) {
      for (const e of tracker.evaluate(slo.name)) {
        firing.set(`${slo.name}/${e.alert.name}`, e.firing);
        await announce(slo, e);
      }
    }
  };
  // One evaluation at a time: a slow publish must not let a second one announce the same episode.
  const evaluate = (): Promise<void> => (running ??= evaluateOnce().finally(() => (running = undefined)));

  return {
    tracker,
    interceptor: (next) => (req) => {
      const method = rpcName(req);
      if (!tracker.tracks(method)) return next(req);
      const started = performance.now();
      return observeCall(next, req, (err) => tracker.record(method, { code: codeName(err?.code), durationMs: performance.now() - started }));
    },
    evaluate,
    start() {
      timer ??= setInterval(() => void evaluate(), opts.evaluateEveryMs ?? 15_000);
      timer.unref();
    },
    async close() {
      clearInterval(timer);
      await running;
    },
  };
}

function registerGauges(registry: Registry, tracker: SloTracker, firing: ReadonlyMap<string, boolean>): void {
  new Gauge({
    name: "lotty_slo_error_budget_remaining",
    help: "Share of the 30-day error budget left, as seen by this process since it started (1 = untouched, below 0 = overspent)",
    labelNames: ["slo"] as const,
    registers: [registry],
    collect() {
      for (const slo of tracker.slos) this.set({ slo: slo.name }, tracker.budgetRemaining(slo.name));
    },
  });
  new Gauge({
    name: "lotty_slo_burn_rate",
    help: "Error-budget burn rate over a rolling window (1 = spending exactly the budget)",
    labelNames: ["slo", "window"] as const,
    registers: [registry],
    collect() {
      for (const slo of tracker.slos) for (const window of Object.keys(SLO_WINDOWS)) this.set({ slo: slo.name, window }, tracker.burnRate(slo.name, window));
    },
  });
  new Gauge({
    name: "lotty_slo_alert_firing",
    help: "Multi-window burn-rate alert state at the last evaluation (1 = firing): page = 1h and 5m above 14.4x, ticket = 6h and 30m above 6x",
    labelNames: ["slo", "alert"] as const,
    registers: [registry],
    collect() {
      for (const [key, on] of firing) {
        const [slo, alert] = key.split("/");
        this.set({ slo, alert }, on ? 1 : 0);
      }
    },
  });
}
