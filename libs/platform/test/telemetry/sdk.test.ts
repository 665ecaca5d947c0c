import http from "node:http";
import type { AddressInfo } from "node:net";
import { trace } from "@opentelemetry/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTelemetry } from "../../src/telemetry/index.js";

// A minimal OTLP/HTTP receiver: records what the exporter posts.
const received: Array<{ path: string; body: string }> = [];
const receiver = http.createServer((req, res) => {
  let body = "";
  req.on("data", (d: Buffer) => (body += d.toString()));
  req.on("end", () => {
    received.push({ path: req.url ?? "", body });
    res.writeHead(200, { "content-type": "application/json" }).end("{}");
  });
});
let endpoint: string;

beforeAll(async () => {
  delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => receiver.close(resolve)));

// Order matters: the first test checks that nothing is registered, the second registers.
describe("startTelemetry", () => {
  it("registers nothing without an endpoint", async () => {
    const telemetry = await startTelemetry({ serviceName: "quiet" });
    const span = trace.getTracer("t").startSpan("ignored");
    expect(span.isRecording()).toBe(false);
    span.end();
    await telemetry.shutdown();
  });

  it("exports spans over OTLP/HTTP when an endpoint is set", async () => {
    const telemetry = await startTelemetry({ serviceName: "loud", otlpEndpoint: endpoint });
    const span = trace.getTracer("t").startSpan("exported-span");
    expect(span.isRecording()).toBe(true);
    span.end();
    await telemetry.shutdown(); // flushes the batch processor
    const traces = received.filter((r) => r.path === "/v1/traces");
    expect(traces.length).toBeGreaterThan(0);
    expect(traces.map((t) => t.body).join("")).toContain("exported-span");
  });
});
