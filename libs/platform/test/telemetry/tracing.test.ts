import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { node, tracing } from "@opentelemetry/sdk-node";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createRpcClient, createRpcServer, type RpcServer } from "../../src/rpc/index.js";
import { injectTraceHeaders, withExtractedContext } from "../../src/telemetry/index.js";
import { Gate, Probe, probeFile, probeRoutes } from "../rpc/probe.js";

// A test-only provider: in-memory spans, AsyncLocalStorage context, W3C propagation.
const exporter = new tracing.InMemorySpanExporter();
const provider = new node.NodeTracerProvider({ spanProcessors: [new tracing.SimpleSpanProcessor(exporter)] });
provider.register();
const tracer = trace.getTracer("test");

let server: RpcServer;
let baseUrl: string;
let handlerSpanId: string | undefined;

beforeAll(async () => {
  server = createRpcServer({
    name: "traced",
    routes: probeRoutes(new Gate(), () => (handlerSpanId = trace.getActiveSpan()?.spanContext().spanId)),
    files: [probeFile],
  });
  const { port } = await server.listen(0, "127.0.0.1");
  baseUrl = `http://127.0.0.1:${port}`;
});
afterAll(async () => {
  await server.close({ graceMs: 0 });
  await provider.shutdown();
});
beforeEach(() => exporter.reset());

const spanNamed = (name: string, kind: SpanKind) => {
  const found = exporter.getFinishedSpans().filter((s) => s.name === name && s.kind === kind);
  expect(found).toHaveLength(1);
  return found[0];
};

describe("RPC tracing interceptors", () => {
  it("links caller, client span and server span in one trace", async () => {
    const client = createRpcClient(Probe, baseUrl);
    const root = await tracer.startActiveSpan("caller", async (span) => {
      await client.check({});
      span.end();
      return span.spanContext();
    });
    const clientSpan = spanNamed("lotty.test.v1.Probe/Check", SpanKind.CLIENT);
    const serverSpan = spanNamed("lotty.test.v1.Probe/Check", SpanKind.SERVER);

    expect(clientSpan.spanContext().traceId).toBe(root.traceId);
    expect(serverSpan.spanContext().traceId).toBe(root.traceId);
    expect(clientSpan.parentSpanContext?.spanId).toBe(root.spanId);
    expect(serverSpan.parentSpanContext?.spanId).toBe(clientSpan.spanContext().spanId);
    expect(serverSpan.attributes).toMatchObject({ "rpc.service": "lotty.test.v1.Probe", "rpc.method": "Check" });
    // The handler runs inside the server span, so spans it starts (pg, redis) nest under it.
    expect(handlerSpanId).toBe(serverSpan.spanContext().spanId);
  });

  it("records the status code on failed calls", async () => {
    await expect(createRpcClient(Probe, baseUrl).fail({})).rejects.toSatisfy(
      (e: unknown) => ConnectError.from(e).code === Code.InvalidArgument,
    );
    for (const kind of [SpanKind.CLIENT, SpanKind.SERVER]) {
      const span = spanNamed("lotty.test.v1.Probe/Fail", kind);
      expect(span.status.code).toBe(SpanStatusCode.ERROR);
      expect(span.attributes["rpc.grpc.status_code"]).toBe(Code.InvalidArgument);
      expect(span.attributes["rpc.connect_rpc.error_code"]).toBe("invalid_argument");
    }
  });
});

describe("message header propagation", () => {
  it("round-trips the trace context through plain headers", () => {
    const producer = tracer.startSpan("publish");
    const headers = context.with(trace.setSpan(context.active(), producer), () => injectTraceHeaders({ "nats-msg-id": "1" }));
    producer.end();
    expect(headers["nats-msg-id"]).toBe("1");
    expect(headers.traceparent).toMatch(new RegExp(`^00-${producer.spanContext().traceId}-${producer.spanContext().spanId}-0[01]$`));

    const consumer = withExtractedContext(headers, () => {
      const span = tracer.startSpan("consume");
      span.end();
      return span;
    });
    const finished = exporter.getFinishedSpans().find((s) => s.name === "consume")!;
    expect(finished.spanContext().traceId).toBe(producer.spanContext().traceId);
    expect(finished.parentSpanContext?.spanId).toBe(producer.spanContext().spanId);
    expect(consumer.spanContext().spanId).toBe(finished.spanContext().spanId);
  });

  it("adds nothing when there is no active span", () => {
    expect(injectTraceHeaders({})).toEqual({});
  });
});
