import { create } from "@bufbuild/protobuf";
import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { propagation } from "@opentelemetry/api";
import { FlagChangedSchema } from "@lotty/proto/events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMemoryBus } from "../../src/bus/index.js";
import { publishEvent, subscribeEvents, Subjects } from "../../src/events/index.js";

describe("events", () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(provider);
  });
  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
    propagation.disable();
    context.disable();
  });

  it("round-trips a typed event and carries the producer's trace to the consumer", async () => {
    const bus = createMemoryBus();
    const seen: { key: string; traceId: string | undefined }[] = [];
    const sub = await subscribeEvents(bus, {
      subjects: [Subjects.flagChanged],
      schema: FlagChangedSchema,
      handler: async (e) => {
        seen.push({ key: e.flagKey, traceId: trace.getSpanContext(context.active())?.traceId });
      },
    });
    const span = provider.getTracer("t").startSpan("producer");
    await context.with(trace.setSpan(context.active(), span), () =>
      publishEvent(bus, Subjects.flagChanged, FlagChangedSchema, create(FlagChangedSchema, { eventId: "e1", flagKey: "f" }), "e1"),
    );
    span.end();
    await expect.poll(() => seen.length).toBe(1);
    expect(seen[0]).toEqual({ key: "f", traceId: span.spanContext().traceId });
    await sub.close();
    await bus.close();
  });

  it("acks and drops a payload that does not decode instead of redelivering it forever", async () => {
    const bus = createMemoryBus();
    const undecodable: string[] = [];
    let handled = 0;
    const sub = await subscribeEvents(bus, {
      subjects: [Subjects.flagChanged],
      schema: FlagChangedSchema,
      handler: async () => {
        handled++;
      },
      onUndecodable: (subject) => undecodable.push(subject),
    });
    await bus.publish(Subjects.flagChanged, new Uint8Array([0xff, 0xff, 0xff]));
    await expect.poll(() => undecodable.length).toBe(1);
    expect(handled).toBe(0);
    await sub.close();
    await bus.close();
  });
});
