import { execFile } from "node:child_process";
import http2 from "node:http2";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { create, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { Health, HealthCheckResponse_ServingStatus as Status } from "@lotty/proto/grpc-health";
import * as reflection from "@lotty/proto/grpc-reflection";
import * as reflectionAlpha from "@lotty/proto/grpc-reflection-v1alpha";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRpcServer, sendText, type RpcServer } from "../../src/rpc/index.js";
import { createMetricsRegistry } from "../../src/telemetry/index.js";
import { Gate, Probe, probeFile, probeRoutes } from "./probe.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");
const SERVED = [
  "lotty.test.v1.Probe",
  "grpc.health.v1.Health",
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
];

let server: RpcServer;
let baseUrl: string;
let port: number;

beforeAll(async () => {
  server = createRpcServer({
    name: "test",
    routes: probeRoutes(new Gate()),
    files: [probeFile],
    metrics: createMetricsRegistry("test"),
    http: [
      {
        method: "POST",
        path: /^\/echo\/([^/]+)$/,
        handle: (_req, res, match) => sendText(res, 200, JSON.stringify({ key: match[1] }), "application/json"),
      },
    ],
  });
  ({ port } = await server.listen(0, "127.0.0.1"));
  baseUrl = `http://127.0.0.1:${port}`;
});

afterAll(() => server.close({ graceMs: 1000 }));

describe("one port, every protocol", () => {
  const transports: Array<[string, () => Transport]> = [
    ["gRPC over h2", () => createGrpcTransport({ baseUrl })],
    ["gRPC-Web over HTTP/1.1", () => createGrpcWebTransport({ baseUrl, httpVersion: "1.1" })],
    ["Connect binary over h2", () => createConnectTransport({ baseUrl, httpVersion: "2" })],
    ["Connect JSON over HTTP/1.1", () => createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: false })],
  ];

  it.each(transports)("%s: health, a user service, and error codes", async (_name, transport) => {
    const t = transport();
    const health = createClient(Health, t);
    expect((await health.check({ service: "" })).status).toBe(Status.SERVING);
    expect((await health.check({ service: "lotty.test.v1.Probe" })).status).toBe(Status.SERVING);
    expect((await createClient(Probe, t).check({})).status).toBe(Status.SERVING);

    const err = await createClient(Probe, t).fail({}).catch((e: unknown) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.InvalidArgument);
    expect((err as ConnectError).rawMessage).toBe('field "traffic_allocation": must be between 0.01 and 100');

    const unknown = await health.check({ service: "nope.v1.Nothing" }).catch((e: unknown) => ConnectError.from(e));
    expect((unknown as ConnectError).code).toBe(Code.NotFound);
  });

  it("Health/List reports the whole server and every served service", async () => {
    const list = await createClient(Health, createGrpcTransport({ baseUrl })).list({});
    expect(Object.keys(list.statuses).sort()).toEqual(["", ...SERVED].sort());
    expect(Object.values(list.statuses).every((s) => s.status === Status.SERVING)).toBe(true);
  });

  it("Connect JSON over HTTP/1.1 with plain fetch", async () => {
    const res = await fetch(`${baseUrl}/grpc.health.v1.Health/Check`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ service: "lotty.test.v1.Probe" }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "SERVING" });

    const bad = await fetch(`${baseUrl}/lotty.test.v1.Probe/Fail`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: "invalid_argument" });
  });

  it("@grpc/grpc-js client calls Health/Check", async () => {
    const def = protoLoader.loadSync(path.join(repoRoot, "proto/grpc/health/v1/health.proto"), { enums: String });
    const pkg = grpc.loadPackageDefinition(def) as unknown as {
      grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
    };
    const client = new pkg.grpc.health.v1.Health(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      const reply = await new Promise<{ status: string }>((resolve, reject) =>
        client.Check({ service: "" }, (err: grpc.ServiceError | null, res: { status: string }) =>
          err ? reject(err) : resolve(res),
        ),
      );
      expect(reply.status).toBe("SERVING");
    } finally {
      client.close();
    }
  });
});

describe("reflection", () => {
  async function ask(req: reflection.ServerReflectionRequest["messageRequest"]) {
    const client = createClient(reflection.ServerReflection, createGrpcTransport({ baseUrl }));
    async function* one() {
      yield create(reflection.ServerReflectionRequestSchema, { messageRequest: req });
    }
    const replies = [];
    for await (const reply of client.serverReflectionInfo(one())) replies.push(reply);
    expect(replies).toHaveLength(1);
    return replies[0].messageResponse;
  }

  it("lists the served services", async () => {
    const res = await ask({ case: "listServices", value: "" });
    expect(res.case).toBe("listServicesResponse");
    expect(res.case === "listServicesResponse" && res.value.service.map((s) => s.name).sort()).toEqual([...SERVED].sort());
  });

  it("returns the file containing a method symbol, with its imports", async () => {
    const res = await ask({ case: "fileContainingSymbol", value: "lotty.test.v1.Probe.Check" });
    expect(res.case).toBe("fileDescriptorResponse");
    const files = res.case === "fileDescriptorResponse" ? res.value.fileDescriptorProto : [];
    const decoded = files.map((b) => fromBinary(FileDescriptorProtoSchema, b));
    expect(decoded.map((f) => f.name)).toEqual(["lotty/test/v1/probe.proto", "grpc/health/v1/health.proto"]);
    expect(decoded[0].service[0].method.map((m) => m.name)).toEqual(["Check", "Fail", "Slow"]);
  });

  it("finds files by name and messages by type, and reports unknown symbols", async () => {
    const byName = await ask({ case: "fileByFilename", value: "grpc/health/v1/health.proto" });
    expect(byName.case).toBe("fileDescriptorResponse");
    const byType = await ask({ case: "fileContainingSymbol", value: "grpc.health.v1.HealthCheckResponse.ServingStatus" });
    expect(byType.case === "fileDescriptorResponse" && byType.value.fileDescriptorProto).toHaveLength(1);
    const missing = await ask({ case: "fileContainingSymbol", value: "nope.v1.Thing" });
    expect(missing.case === "errorResponse" && missing.value.errorCode).toBe(Code.NotFound);
    const exts = await ask({ case: "allExtensionNumbersOfType", value: "grpc.health.v1.HealthCheckRequest" });
    expect(exts.case === "allExtensionNumbersResponse" && exts.value.extensionNumber).toEqual([]);
  });

  it("answers v1alpha too", async () => {
    const client = createClient(reflectionAlpha.ServerReflection, createGrpcTransport({ baseUrl }));
    async function* one() {
      yield create(reflectionAlpha.ServerReflectionRequestSchema, { messageRequest: { case: "listServices", value: "" } });
    }
    const names: string[] = [];
    for await (const reply of client.serverReflectionInfo(one())) {
      if (reply.messageResponse.case === "listServicesResponse") names.push(...reply.messageResponse.value.service.map((s) => s.name));
    }
    expect(names.sort()).toEqual([...SERVED].sort());
  });

  const bufCurl = (...args: string[]) =>
    promisify(execFile)("npx", ["buf", "curl", "--protocol", "grpc", "--http2-prior-knowledge", ...args], { cwd: repoRoot });

  it("buf curl --list-services works without a schema", async () => {
    const { stdout } = await bufCurl("--list-services", baseUrl);
    expect(stdout.trim().split("\n").sort()).toEqual([...SERVED].sort());
  });

  it("buf curl calls a user service through reflection alone", async () => {
    const { stdout } = await bufCurl("-d", '{"service":"x"}', `${baseUrl}/lotty.test.v1.Probe/Check`);
    expect(JSON.parse(stdout)).toEqual({ status: "SERVING" });
  });
});

describe("plain HTTP routes", () => {
  it("serves /healthz and /metrics over HTTP/1.1", async () => {
    const healthz = await fetch(`${baseUrl}/healthz`);
    expect(healthz.status).toBe(200);
    expect(await healthz.text()).toBe("ok\n");

    await createClient(Probe, createGrpcTransport({ baseUrl })).check({});
    const metrics = await fetch(`${baseUrl}/metrics`);
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toMatch(/lotty_rpc_requests_total\{method="lotty\.test\.v1\.Probe\/Check",code="ok",service="test"\} [1-9]/);
    expect(text).toContain('lotty_rpc_duration_seconds_bucket{le="0.0001",service="test",method="lotty.test.v1.Probe/Check"');
    expect(text).toContain("process_cpu_user_seconds_total");
  });

  it("routes custom paths over HTTP/1.1 and h2, with 404 and 405", async () => {
    const h1 = await fetch(`${baseUrl}/echo/my-flag`, { method: "POST", body: "{}" });
    expect(await h1.json()).toEqual({ key: "my-flag" });
    expect((await fetch(`${baseUrl}/echo/my-flag`)).status).toBe(405);
    expect((await fetch(`${baseUrl}/nothing-here`)).status).toBe(404);

    const session = http2.connect(baseUrl);
    try {
      const body = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const stream = session.request({ ":method": "POST", ":path": "/echo/over-h2" });
        let status = 0;
        let text = "";
        stream.on("response", (headers) => (status = Number(headers[":status"])));
        stream.on("data", (chunk: Buffer) => (text += chunk.toString()));
        stream.on("end", () => resolve({ status, text }));
        stream.on("error", reject);
        stream.end("{}");
      });
      expect(body).toEqual({ status: 200, text: JSON.stringify({ key: "over-h2" }) });
    } finally {
      session.close();
    }
  });
});
