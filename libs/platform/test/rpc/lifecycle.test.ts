import http from "node:http";
import net, { type AddressInfo } from "node:net";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus as Status } from "@lotty/proto/grpc-health";
import { afterEach, describe, expect, it } from "vitest";
import { createRpcServer, type HttpRoute, type RpcServer } from "../../src/rpc/index.js";
import { healthzRoute, httpFallback } from "../../src/rpc/http-routes.js";
import { Gate, Probe, probeFile, probeRoutes } from "./probe.js";

let server: RpcServer | undefined;
afterEach(() => server?.close({ graceMs: 0 }));

async function start(gate: Gate, http: HttpRoute[] = []) {
  server = createRpcServer({ name: "lifecycle", routes: probeRoutes(gate), files: [probeFile], http });
  const { port } = await server.listen(0, "127.0.0.1");
  return { server, port, baseUrl: `http://127.0.0.1:${port}` };
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect(port, "127.0.0.1");
    sock.once("connect", () => (sock.destroy(), resolve(false)));
    sock.once("error", () => resolve(true));
  });
}

describe("health", () => {
  it("Watch streams status changes", async () => {
    const { server, baseUrl } = await start(new Gate());
    const health = createClient(Health, createGrpcTransport({ baseUrl }));
    const seen: Status[] = [];
    for await (const res of health.watch({ service: "lotty.test.v1.Probe" })) {
      seen.push(res.status);
      if (seen.length === 1) server.setServing("lotty.test.v1.Probe", false);
      if (seen.length === 2) server.setServing("lotty.test.v1.Probe", true);
      if (seen.length === 3) break;
    }
    expect(seen).toEqual([Status.SERVING, Status.NOT_SERVING, Status.SERVING]);
  });

  it("Watch of an unknown service says SERVICE_UNKNOWN until it appears", async () => {
    const { server, baseUrl } = await start(new Gate());
    const seen: Status[] = [];
    for await (const res of createClient(Health, createGrpcTransport({ baseUrl })).watch({ service: "later.v1.Thing" })) {
      seen.push(res.status);
      if (seen.length === 1) server.setServing("later.v1.Thing", true);
      else break;
    }
    expect(seen).toEqual([Status.SERVICE_UNKNOWN, Status.SERVING]);
  });
});

describe("graceful close", () => {
  it("stops accepting, lets the in-flight call finish, and tells watchers NOT_SERVING", async () => {
    const gate = new Gate();
    const { server, port, baseUrl } = await start(gate);
    const transport = createGrpcTransport({ baseUrl });

    const watch = createClient(Health, transport).watch({ service: "" })[Symbol.asyncIterator]();
    const watched: Status[] = [];
    const first = await watch.next();
    if (!first.done) watched.push(first.value.status);
    const watching = (async () => {
      for (let r = await watch.next(); !r.done; r = await watch.next()) watched.push(r.value.status);
    })();
    const inFlight = createClient(Probe, transport).slow({});
    await gate.reached;

    const closing = server.close({ graceMs: 30_000 });
    await watching; // the server ends Watch streams once they have seen NOT_SERVING
    expect(watched).toEqual([Status.SERVING, Status.NOT_SERVING]);
    expect(await refused(port)).toBe(true);

    gate.release();
    expect((await inFlight).status).toBe(Status.SERVING);
    await closing;
  });

  it("tells HTTP/1.1 keep-alive clients to reconnect once draining", async () => {
    const gate = new Gate();
    const { server, port } = await start(gate);
    // A keep-alive socket whose call is still running when the drain starts: the answer
    // carries "connection: close" so the client does not reuse a socket about to go away.
    const sock = net.connect(port, "127.0.0.1");
    let raw = "";
    sock.on("data", (d: Buffer) => (raw += d.toString()));
    const ended = new Promise((resolve) => sock.once("close", resolve));
    const slow = "POST /lotty.test.v1.Probe/Slow HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
    sock.write(slow);
    await gate.reached;
    const closing = server.close({ graceMs: 30_000 });
    gate.release();
    await ended;
    await closing;
    expect([...raw.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1])).toEqual(["200"]);
    expect(raw.toLowerCase()).toContain("connection: close");
  });

  it("/healthz answers 503 while draining", async () => {
    let draining = false;
    const plain = http.createServer(httpFallback([healthzRoute(() => draining)]));
    await new Promise<void>((resolve) => plain.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(plain.address() as AddressInfo).port}/healthz`;
    try {
      expect((await fetch(url)).status).toBe(200);
      draining = true;
      const res = await fetch(url);
      expect(res.status).toBe(503);
      expect(await res.text()).toBe("draining\n");
    } finally {
      plain.closeAllConnections();
      await new Promise((resolve) => plain.close(resolve));
    }
  });

  it("cuts off calls still running when the grace period ends", async () => {
    const gate = new Gate(); // never released
    const { server, baseUrl } = await start(gate);
    const stuck = createClient(Probe, createGrpcTransport({ baseUrl })).slow({}).catch((e: unknown) => ConnectError.from(e));
    await gate.reached;
    await server.close({ graceMs: 10 });
    const err = await stuck;
    expect(err).toBeInstanceOf(ConnectError);
    expect([Code.Unavailable, Code.Internal, Code.Canceled, Code.Unknown]).toContain((err as ConnectError).code);
  });

  it("close is idempotent", async () => {
    const { server } = await start(new Gate());
    await Promise.all([server.close(), server.close()]);
    await server.close();
  });
});
