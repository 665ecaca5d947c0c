import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { HealthCheckResponse_ServingStatus, HealthCheckResponseSchema } from "@lotty/proto/grpc-health";
import { describe, expect, it } from "vitest";
import { invalidArgument } from "../../src/rpc/index.js";
import { createMetricsRegistry, rpcMetricsInterceptor } from "../../src/telemetry/index.js";
import { Probe } from "../rpc/probe.js";

describe("metrics", () => {
  it("a service registry has default metrics and a service label", async () => {
    const registry = createMetricsRegistry("decision");
    const text = await registry.metrics();
    expect(text).toMatch(/process_cpu_user_seconds_total\{service="decision"\}/);
    expect(text).toContain("nodejs_eventloop_lag_seconds");
  });

  it("counts and times RPCs by method and code", async () => {
    const registry = createMetricsRegistry("probe");
    const interceptor = rpcMetricsInterceptor(registry);
    // A second interceptor on the same registry reuses the metrics instead of throwing.
    expect(() => rpcMetricsInterceptor(registry)).not.toThrow();
    const transport = createRouterTransport(
      (router) =>
        router.service(Probe, {
          check: () => create(HealthCheckResponseSchema, { status: HealthCheckResponse_ServingStatus.SERVING }),
          fail: () => {
            throw invalidArgument("key", "must not be empty");
          },
          slow: () => {
            throw new ConnectError("unused", Code.Unimplemented);
          },
        }),
      { router: { interceptors: [interceptor] } },
    );
    const client = createClient(Probe, transport);
    await client.check({});
    await client.check({});
    await expect(client.fail({})).rejects.toThrow(/key/);

    const requests = await registry.getSingleMetric("lotty_rpc_requests_total")!.get();
    const byLabels = Object.fromEntries(requests.values.map((v) => [`${v.labels.method} ${v.labels.code}`, v.value]));
    expect(byLabels).toEqual({ "lotty.test.v1.Probe/Check ok": 2, "lotty.test.v1.Probe/Fail invalid_argument": 1 });

    const text = await registry.metrics();
    const labels = 'service="probe",method="lotty.test.v1.Probe/Check",code="ok"';
    expect(text).toContain(`lotty_rpc_duration_seconds_bucket{le="0.0001",${labels}}`);
    expect(text).toContain(`lotty_rpc_duration_seconds_count{${labels}} 2`);
  });
});
