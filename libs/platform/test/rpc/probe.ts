// A test-only service built at runtime from the Health messages (proto/ stays untouched):
// lotty.test.v1.Probe in lotty/test/v1/probe.proto, which imports grpc/health/v1/health.proto,
// so reflection has a real dependency closure to serve.
import { create, createFileRegistry } from "@bufbuild/protobuf";
import type { GenService } from "@bufbuild/protobuf/codegenv2";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter } from "@connectrpc/connect";
import {
  file_grpc_health_v1_health,
  HealthCheckRequestSchema,
  HealthCheckResponse_ServingStatus,
  HealthCheckResponseSchema,
} from "@lotty/proto/grpc-health";
import { invalidArgument } from "../../src/rpc/index.js";

type Unary = {
  methodKind: "unary";
  input: typeof HealthCheckRequestSchema;
  output: typeof HealthCheckResponseSchema;
};

const fileProto = create(FileDescriptorProtoSchema, {
  name: "lotty/test/v1/probe.proto",
  package: "lotty.test.v1",
  syntax: "proto3",
  dependency: [file_grpc_health_v1_health.proto.name],
  service: [
    {
      name: "Probe",
      method: ["Check", "Fail", "Slow"].map((name) => ({
        name,
        inputType: ".grpc.health.v1.HealthCheckRequest",
        outputType: ".grpc.health.v1.HealthCheckResponse",
      })),
    },
  ],
});

export const probeFile = createFileRegistry(fileProto, (name) =>
  name === file_grpc_health_v1_health.proto.name ? file_grpc_health_v1_health : undefined,
).getFile("lotty/test/v1/probe.proto")!;

export const Probe = probeFile.services[0] as GenService<{ check: Unary; fail: Unary; slow: Unary }>;

/** A gate the Slow method waits on, so tests control when an in-flight call finishes. */
export class Gate {
  private opened!: () => void;
  private entered!: () => void;
  readonly open = new Promise<void>((resolve) => (this.opened = resolve));
  readonly reached = new Promise<void>((resolve) => (this.entered = resolve));
  release(): void {
    this.opened();
  }
  arrive(): Promise<void> {
    this.entered();
    return this.open;
  }
}

export function probeRoutes(gate: Gate, onCheck?: () => void) {
  return (router: ConnectRouter): void => {
    router.service(Probe, {
      check: () => {
        onCheck?.();
        return create(HealthCheckResponseSchema, { status: HealthCheckResponse_ServingStatus.SERVING });
      },
      fail: () => {
        throw invalidArgument("traffic_allocation", "must be between 0.01 and 100");
      },
      slow: async () => {
        await gate.arrive();
        return create(HealthCheckResponseSchema, { status: HealthCheckResponse_ServingStatus.SERVING });
      },
    });
  };
}
