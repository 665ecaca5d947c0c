// Requests the server cannot decode must be answered INVALID_ARGUMENT, on every protocol, while a
// handler's own failure stays INTERNAL. connect-es itself answers them INTERNAL before any
// interceptor runs (see src/rpc/undecodable.ts).
import http2 from "node:http2";
import { gzipSync } from "node:zlib";
import { create, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { WireType } from "@bufbuild/protobuf/wire";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { Health, HealthCheckRequestSchema, HealthCheckResponse_ServingStatus as Status } from "@lotty/proto/grpc-health";
import * as reflection from "@lotty/proto/grpc-reflection";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRpcServer, type RpcServer } from "../../src/rpc/index.js";
import { Gate, Probe, probeFile, probeRoutes } from "./probe.js";

let server: RpcServer;
let baseUrl: string;

beforeAll(async () => {
  server = createRpcServer({ name: "undecodable", routes: probeRoutes(new Gate()), files: [probeFile] });
  const { port } = await server.listen(0, "127.0.0.1");
  baseUrl = `http://127.0.0.1:${port}`;
});

afterAll(() => server.close({ graceMs: 1000 }));

const failure = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (e: unknown) => ConnectError.from(e),
  );

/**
 * A request our client encodes but the server cannot decode: unknown fields are written as given,
 * so the bytes after a valid tag can be anything.
 */
function undecodable<D extends DescMessage>(schema: D, no: number, wireType: WireType, data: number[]): MessageShape<D> {
  const m = create(schema);
  m.$unknown = [{ no, wireType, data: new Uint8Array(data) }];
  return m;
}

const UNDECODABLE: Array<[string, MessageShape<typeof HealthCheckRequestSchema>]> = [
  ["a field of wire type 7 (there is none)", undecodable(HealthCheckRequestSchema, 2, 7 as WireType, [])],
  // 101 groups, one in another: past protobuf-es's recursion limit of 100.
  ["groups nested 101 deep", undecodable(HealthCheckRequestSchema, 2, WireType.StartGroup, Array<number>(100).fill((2 << 3) | WireType.StartGroup))],
  ["a string longer than the message", undecodable(HealthCheckRequestSchema, 1, WireType.LengthDelimited, [50, 0x61])],
];

const TRANSPORTS: Array<[string, () => Transport]> = [
  ["gRPC", () => createGrpcTransport({ baseUrl })],
  ["gRPC-Web", () => createGrpcWebTransport({ baseUrl, httpVersion: "1.1" })],
  ["Connect binary", () => createConnectTransport({ baseUrl, httpVersion: "2" })],
];

describe("undecodable requests", () => {
  describe.each(TRANSPORTS)("%s", (_name, transport) => {
    it.each(UNDECODABLE)("%s: INVALID_ARGUMENT saying why", async (_what, req) => {
      const err = await failure(createClient(Probe, transport()).check(req));
      expect({ code: Code[err.code], message: err.rawMessage }).toMatchObject({ code: "InvalidArgument", message: expect.stringMatching(/^request could not be decoded: parse binary: /) });
    });
  });

  it("a request stream that cannot be decoded: INVALID_ARGUMENT", async () => {
    const client = createClient(reflection.ServerReflection, createGrpcTransport({ baseUrl }));
    const bad = undecodable(reflection.ServerReflectionRequestSchema, 9, 7 as WireType, []);
    const requests = (async function* () {
      yield bad;
    })();
    const err = await failure(client.serverReflectionInfo(requests)[Symbol.asyncIterator]().next());
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toMatch(/^request could not be decoded: /);
  });

  it("Connect JSON: bad JSON and a truncated gzip body", async () => {
    const post = (body: Uint8Array<ArrayBuffer> | string, headers: Record<string, string> = {}) =>
      fetch(`${baseUrl}/lotty.test.v1.Probe/Check`, { method: "POST", headers: { "content-type": "application/json", "connect-protocol-version": "1", ...headers }, body });
    const gzip = gzipSync(JSON.stringify({ service: "x".repeat(100) }));
    for (const res of [await post('{"service": '), await post(new Uint8Array(gzip.subarray(0, gzip.length - 10)), { "content-encoding": "gzip" })]) {
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ code: "invalid_argument" });
    }
  });

  it("gRPC: a compressed frame without an encoding", async () => {
    const session = http2.connect(baseUrl);
    try {
      const trailers = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
        const stream = session.request({ ":method": "POST", ":path": "/lotty.test.v1.Probe/Check", "content-type": "application/grpc", te: "trailers" });
        stream.on("trailers", resolve);
        // Headers-only answers carry the status in the headers.
        stream.on("response", (h) => h["grpc-status"] !== undefined && resolve(h));
        stream.on("error", reject);
        stream.resume();
        // Flag 1 = compressed, 3 bytes long.
        stream.end(Buffer.from([1, 0, 0, 0, 3, 1, 2, 3]));
      });
      expect(trailers["grpc-status"]).toBe(String(Code.InvalidArgument));
      expect(decodeURIComponent(String(trailers["grpc-message"]))).toMatch(/^request could not be decoded: .*decompress/);
    } finally {
      session.close();
    }
  });

  it("a handler's own failure stays INTERNAL", async () => {
    const failing = createRpcServer({
      name: "failing",
      files: [probeFile],
      routes: (router) =>
        router.service(Probe, {
          check: () => {
            throw new Error("a bug");
          },
        }),
    });
    const { port } = await failing.listen(0, "127.0.0.1");
    try {
      const err = await failure(createClient(Probe, createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}` })).check({}));
      expect(err.code).toBe(Code.Internal);
    } finally {
      await failing.close({ graceMs: 0 });
    }
  });

  it("the server keeps answering on every protocol afterwards", async () => {
    for (const [, transport] of TRANSPORTS) {
      expect((await createClient(Health, transport()).check({})).status).toBe(Status.SERVING);
      expect((await createClient(Probe, transport()).check({ service: "ok" })).status).toBe(Status.SERVING);
    }
  });
});
