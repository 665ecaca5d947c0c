import { fromBinary } from "@bufbuild/protobuf";
import { durationFromMs, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import type { Bus } from "@lotty/platform/bus";
import type { Db } from "@lotty/platform/db";
import { createLogger } from "@lotty/platform/log";
import { Subjects } from "@lotty/platform/events";
import type { ServiceModule } from "@lotty/platform/service";
import { validatedRouter } from "@lotty/platform/rpc";
import { AutopilotSteppedSchema, GuardrailTriggeredSchema, type AutopilotStepped, type GuardrailTriggered } from "@lotty/proto/events";
import { ExperimentService } from "@lotty/proto/experiment";
import { GuardrailService } from "@lotty/proto/guardrail";
import { MetricsService } from "@lotty/proto/metrics";
import { createGuardrailService } from "../src/server.js";
import { fakeExperimentService, fakeMetricsService } from "./fakes.js";

export const NOW = new Date("2026-03-01T12:00:00Z");
export const HOUR = 3600_000;

/** Captures the events the service publishes. */
export async function recordEvents(bus: Bus) {
  const triggered: GuardrailTriggered[] = [];
  const stepped: AutopilotStepped[] = [];
  const subs = await Promise.all([
    bus.subscribe({ subjects: [Subjects.guardrailTriggered], handler: async (m) => void triggered.push(fromBinary(GuardrailTriggeredSchema, m.data)) }),
    bus.subscribe({ subjects: [Subjects.autopilotStepped], handler: async (m) => void stepped.push(fromBinary(AutopilotSteppedSchema, m.data)) }),
  ]);
  return { triggered, stepped, close: () => Promise.all(subs.map((s) => s.close())) };
}

/** A guardrail module wired to the fakes, with a client that reaches it through a router transport. */
export async function harness(db: Db, bus: Bus, exp = fakeExperimentService(() => NOW), metrics = fakeMetricsService()) {
  const module: ServiceModule = await createGuardrailService({
    db,
    bus,
    logger: createLogger("guardrail-test", { level: "silent" }),
    experiment: exp.client,
    metrics: metrics.client,
    clock: () => NOW,
  });
  const client: Client<typeof GuardrailService> = createClient(
    GuardrailService,
    createRouterTransport((r) => {
      module.register(r);
      r.service(ExperimentService, exp.impl);
      r.service(MetricsService, metrics.impl);
    }, validatedRouter()),
  );
  return { module, client, exp, metrics };
}

export const window = (ms: number) => durationFromMs(ms);
export const ago = (ms: number) => timestampFromDate(new Date(NOW.getTime() - ms));
