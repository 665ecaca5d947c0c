import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { NodeRequest, NodeResponse } from "./http-routes.js";

// The client connection preface every HTTP/2 prior-knowledge connection starts with.
const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
// A connection that sends nothing is dropped rather than held open forever.
const SNIFF_TIMEOUT_MS = 10_000;

type Handler = (req: NodeRequest, res: NodeResponse) => void;

/** Tells an HTTP/1.1 keep-alive client to reconnect elsewhere (h2 clients get GOAWAY instead). */
function askToReconnect(res: NodeResponse): void {
  if (!res.headersSent) res.setHeader("connection", "close");
}

/**
 * One TCP port for HTTP/2 cleartext (gRPC, gRPC-Web, Connect) and HTTP/1.1 (Connect
 * JSON, gRPC-Web, /metrics, curl). Node's cleartext http2.createServer cannot fall back
 * to HTTP/1.1 (`allowHTTP1` only works with TLS/ALPN), so a net server reads the first
 * bytes, puts them back, and hands the socket to the h2 or the h1 server. It also counts
 * in-flight requests so close() can drain them.
 */
export class DualProtocolListener {
  private readonly net: net.Server;
  private readonly h1: http.Server;
  private readonly h2: http2.Http2Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  private inFlight = 0;
  /** HTTP/1.1 responses in progress, told "connection: close" when the drain starts. */
  private readonly h1Responses = new Set<NodeResponse>();
  private idleWaiters: Array<() => void> = [];
  private draining = false;

  constructor(handler: Handler) {
    const counted = (req: NodeRequest, res: NodeResponse): void => {
      this.inFlight++;
      const h1 = req.httpVersionMajor === 1;
      if (h1) this.h1Responses.add(res);
      res.once("close", () => {
        this.h1Responses.delete(res);
        if (--this.inFlight === 0) this.idleWaiters.splice(0).forEach((wake) => wake());
      });
      if (h1 && this.draining) askToReconnect(res);
      handler(req, res);
    };
    this.h1 = http.createServer(counted);
    this.h2 = http2.createServer(counted);
    this.h2.on("session", (session) => {
      this.sessions.add(session);
      session.once("close", () => this.sessions.delete(session));
      if (this.draining) session.close();
    });
    this.net = net.createServer((socket) => this.accept(socket));
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.net.once("error", reject);
      this.net.listen(port, host, () => {
        this.net.off("error", reject);
        resolve((this.net.address() as net.AddressInfo).port);
      });
    });
  }

  /** Stops accepting, drains in-flight requests for up to graceMs, then drops what is left. */
  async close(graceMs: number): Promise<void> {
    this.draining = true;
    const closed = this.net.listening
      ? new Promise<void>((resolve) => this.net.close(() => resolve()))
      : Promise.resolve();
    for (const session of this.sessions) session.close();
    this.h1.closeIdleConnections();
    this.h1Responses.forEach(askToReconnect);
    const timer = new AbortController();
    await Promise.race([this.idle(), sleep(graceMs, undefined, { signal: timer.signal }).catch(() => {})]);
    timer.abort();
    for (const session of this.sessions) session.destroy();
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private idle(): Promise<void> {
    return this.inFlight === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
    socket.setTimeout(SNIFF_TIMEOUT_MS, () => socket.destroy());
    socket.once("error", () => socket.destroy());
    let head = Buffer.alloc(0);
    const onReadable = (): void => {
      let chunk: Buffer | null;
      while ((chunk = socket.read() as Buffer | null) !== null) head = Buffer.concat([head, chunk]);
      const n = Math.min(head.length, H2_PREFACE.length);
      const isPrefix = head.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
      if (isPrefix && head.length < H2_PREFACE.length && !socket.readableEnded) return; // need more bytes
      socket.off("readable", onReadable);
      socket.setTimeout(0);
      socket.unshift(head);
      (isPrefix && head.length >= H2_PREFACE.length ? this.h2 : this.h1).emit("connection", socket);
    };
    socket.on("readable", onReadable);
  }
}
