import { fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { DecisionService } from "@lotty/proto/decision";
import { SloBurnSchema, type SloBurn } from "@lotty/proto/events";
import { ExperimentService } from "@lotty/proto/experiment";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { createMemoryBus } from "../../src/bus/memory.js";
import type { Bus } from "../../src/bus/types.js";
import { Subjects } from "../../src/events/index.js";
import { createLogger } from "../../src/log/index.js";
import { createSloMonitor, DECIDE_SLOS, sloFor, SloTracker, type SloMonitor } from "../../src/slo/index.js";

const MIN = 60_000;
const DECIDE = "lotty.decision.v1.DecisionService/Decide";
const logger = createLogger("test", { level: "silent" });

/** A clock the test moves. */
function clock(start = 1_000 * MIN) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe("SloTracker with the decide SLOs", () => {
  it("counts server faults against availability and slow answers against latency, not client mistakes", () => {
    const c = clock();
    const tracker = new SloTracker(DECIDE_SLOS, { now: c.now });
    tracker.record(DECIDE, { code: "ok", durationMs: 1 });
    tracker.record(DECIDE, { code: "ok", durationMs: 25 }); // slow answer
    tracker.record(DECIDE, { code: "unavailable", durationMs: 1 });
    tracker.record(DECIDE, { code: "resource_exhausted", durationMs: 0.1 }); // shed
    tracker.record(DECIDE, { code: "invalid_argument", durationMs: 1 }); // the caller's fault
    tracker.record("lotty.experiment.v1.ExperimentService/ListFlags", { code: "internal", durationMs: 1 });
    // Availability: 2 bad of 5 = 40 % against a 0.05 % budget.
    expect(tracker.burnRate("decide_availability", "5m")).toBeCloseTo(0.4 / 0.0005);
    // Latency: 1 slow of the 3 answered calls (ok or client error are answers; only "ok" counts).
    expect(tracker.burnRate("decide_latency", "5m")).toBeCloseTo(0.5 / 0.01);
    expect(tracker.budgetRemaining("decide_availability")).toBeCloseTo(1 - 800);
    c.advance(6 * MIN);
    expect(tracker.burnRate("decide_availability", "5m")).toBe(0);
    expect(tracker.burnRate("decide_availability", "1h")).toBeCloseTo(800);
  });

  it("applies only where the decision service is served", () => {
    expect(sloFor(DECIDE_SLOS, [DecisionService.typeName]).map((s) => s.name)).toEqual(["decide_availability", "decide_latency"]);
    expect(sloFor(DECIDE_SLOS, [ExperimentService.typeName])).toEqual([]);
  });
});

describe("SLO monitor", () => {
  let monitor: SloMonitor | undefined;
  let bus: Bus | undefined;
  afterEach(async () => {
    await monitor?.close();
    await bus?.close();
  });

  async function setup() {
    const c = clock();
    bus = createMemoryBus();
    const burns: SloBurn[] = [];
    await bus.subscribe({ subjects: [Subjects.sloBurn], handler: async (m) => void burns.push(fromBinary(SloBurnSchema, m.data)) });
    const registry = new Registry();
    monitor = createSloMonitor({ slos: DECIDE_SLOS, bus, registry, logger, now: c.now });
    let failing = false;
    const transport = createRouterTransport(
      (router) =>
        router.service(DecisionService, {
          decide(req) {
            if (failing) throw new ConnectError("store down", Code.Unavailable);
            return { flagKey: req.flagKey };
          },
        }),
      { router: { interceptors: [monitor.interceptor] } },
    );
    const decision = createClient(DecisionService, transport);
    const traffic = async (n: number) => {
      for (let i = 0; i < n; i++) await decision.decide({ flagKey: "f", subjectId: `s${i}` }).catch(() => undefined);
    };
    return { c, burns, registry, traffic, fail: (on: boolean) => (failing = on), monitor };
  }

  it("publishes SloBurn once per alert episode, and again for a new episode", async () => {
    const { c, burns, traffic, fail, monitor } = await setup();
    await traffic(100);
    await monitor.evaluate();
    expect(burns).toEqual([]);

    fail(true);
    await traffic(20);
    await monitor.evaluate();
    c.advance(MIN);
    await traffic(20);
    await monitor.evaluate(); // still the same episode
    const pages = () => burns.filter((b) => b.slo === "decide_availability" && b.longWindow === "1h");
    expect(pages()).toHaveLength(1);
    expect(pages()[0]).toMatchObject({ slo: "decide_availability", shortWindow: "5m", threshold: 14.4 });
    expect(pages()[0].burnRateLong).toBeGreaterThan(14.4);
    expect(pages()[0].eventId).not.toBe("");
    // The slow (6h/30m at 6×) alert burns too; each alert has its own episode.
    expect(burns.filter((b) => b.slo === "decide_availability" && b.longWindow === "6h")).toHaveLength(1);

    // Recovery: 10 minutes of good traffic empty the 5m window, which ends the episode.
    fail(false);
    c.advance(10 * MIN);
    await traffic(50);
    await monitor.evaluate();
    expect(pages()).toHaveLength(1);

    fail(true);
    await traffic(50);
    await monitor.evaluate();
    expect(pages()).toHaveLength(2);
  });

  it("exposes budget, burn rates and alert state as Prometheus gauges", async () => {
    const { registry, traffic, fail, monitor } = await setup();
    await traffic(90);
    fail(true);
    await traffic(10);
    await monitor.evaluate();
    const text = await registry.metrics();
    expect(text).toMatch(/lotty_slo_burn_rate\{slo="decide_availability",window="5m"\} 200/);
    expect(text).toMatch(/lotty_slo_burn_rate\{slo="decide_availability",window="6h"\} 200/);
    expect(text).toMatch(/lotty_slo_error_budget_remaining\{slo="decide_availability"\} -199/);
    expect(text).toMatch(/lotty_slo_alert_firing\{slo="decide_availability",alert="page"\} 1/);
    expect(text).toMatch(/lotty_slo_alert_firing\{slo="decide_latency",alert="page"\} 0/);
  });

  it("retries an announcement the bus refused, while the alert still fires", async () => {
    const { burns, traffic, fail, monitor } = await setup();
    const publish = bus!.publish.bind(bus);
    let refuse = true;
    bus!.publish = (subject, data, opts) => (refuse ? Promise.reject(new Error("nats down")) : publish(subject, data, opts));
    fail(true);
    await traffic(20);
    await monitor.evaluate();
    expect(burns).toHaveLength(0);
    refuse = false;
    await monitor.evaluate();
    expect(burns.filter((b) => b.longWindow === "1h")).toHaveLength(1);
  });
});
