import { create } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { DecisionReason, DecisionService } from "@lotty/proto/decision";
import { ValueType } from "@lotty/proto/common";
import { ExperimentService } from "@lotty/proto/experiment";
import { repoRoot } from "./process.js";

/** host:port of each service (the same address in the embedded default). */
export interface Endpoints {
  experiment: string;
  decision: string;
  /** Bearer token (an admin's: it may create flags and call Decide) when auth is on. */
  token?: string;
}

export interface TracerResult {
  reason: string;
  value: unknown;
  /** From the CreateFlag response to the first Decide that knew the flag. */
  visibleAfterMs: number;
}

async function pollUntil<T>(fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The tracer bullet through a connect-node gRPC client: create a flag, then Decide sees it. */
export async function tracerWithConnect(at: Endpoints, flagKey: string): Promise<TracerResult> {
  const interceptors: Interceptor[] = at.token ? [(next) => (req) => (req.header.set("authorization", `Bearer ${at.token}`), next(req))] : [];
  const experiments = createClient(ExperimentService, createGrpcTransport({ baseUrl: `http://${at.experiment}`, interceptors }));
  const decisions = createClient(DecisionService, createGrpcTransport({ baseUrl: `http://${at.decision}`, interceptors }));
  await experiments.createFlag({
    key: flagKey,
    description: "tracer bullet",
    valueType: ValueType.BOOL,
    defaultValue: create(ValueSchema, { kind: { case: "boolValue", value: true } }),
  });
  const created = Date.now();
  const res = await pollUntil(async () => {
    const r = await decisions.decide({ subjectId: "user-1", flagKey });
    return r.reason === DecisionReason.FLAG_NOT_FOUND ? undefined : r;
  }, 5_000);
  return {
    reason: DecisionReason[res.reason],
    value: res.value?.kind.value,
    visibleAfterMs: Date.now() - created,
  };
}

type Callback<T> = (err: grpc.ServiceError | null, res: T) => void;
type GrpcClient = grpc.Client & Record<string, (req: object, md: grpc.Metadata, cb: Callback<Record<string, unknown>>) => void>;

function loadGrpcClient(path: string, service: string, address: string): GrpcClient {
  const def = protoLoader.loadSync(path, { includeDirs: [`${repoRoot}proto`], enums: String, longs: String, defaults: true, oneofs: true });
  const pkg = grpc.loadPackageDefinition(def);
  const ctor = service.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], pkg) as typeof grpc.Client;
  return new ctor(address, grpc.credentials.createInsecure()) as GrpcClient;
}

function call<T>(client: GrpcClient, method: string, req: object, token?: string): Promise<T> {
  const md = new grpc.Metadata();
  if (token) md.set("authorization", `Bearer ${token}`);
  return new Promise((resolve, reject) =>
    client[method](req, md, (err, res) => (err ? reject(err) : resolve(res as T))),
  );
}

/** The same tracer bullet through @grpc/grpc-js with the .proto files, as a user would bring. */
export async function tracerWithGrpcJs(at: Endpoints, flagKey: string): Promise<TracerResult> {
  const experiments = loadGrpcClient("lotty/experiment/v1/experiment_service.proto", "lotty.experiment.v1.ExperimentService", at.experiment);
  const decisions = loadGrpcClient("lotty/decision/v1/decision.proto", "lotty.decision.v1.DecisionService", at.decision);
  try {
    await call(experiments, "CreateFlag", {
      key: flagKey,
      valueType: "VALUE_TYPE_STRING",
      defaultValue: { stringValue: "off" },
    }, at.token);
    const created = Date.now();
    const res = await pollUntil(async () => {
      const r = await call<{ reason: string; value?: { stringValue?: string } }>(decisions, "Decide", { subjectId: "user-2", flagKey }, at.token);
      return r.reason === "DECISION_REASON_FLAG_NOT_FOUND" ? undefined : r;
    }, 5_000);
    return { reason: res.reason.replace("DECISION_REASON_", ""), value: res.value?.stringValue, visibleAfterMs: Date.now() - created };
  } finally {
    experiments.close();
    decisions.close();
  }
}
