import type { connectNodeAdapter } from "@connectrpc/connect-node";
import type { Registry } from "prom-client";
import type { Logger } from "../log/index.js";

type NodeHandlerFn = ReturnType<typeof connectNodeAdapter>;
/** http.IncomingMessage | http2.Http2ServerRequest (connect-node does not export the name). */
export type NodeRequest = Parameters<NodeHandlerFn>[0];
/** http.ServerResponse | http2.Http2ServerResponse, with write/writeHead unified by connect-node. */
export type NodeResponse = Parameters<NodeHandlerFn>[1];

/** A plain-HTTP route served next to the RPCs on the same port (HTTP/1.1 and h2). */
export interface HttpRoute {
  method: "GET" | "POST";
  /** Exact path, or a RegExp tested against the path (query string excluded). */
  path: string | RegExp;
  handle(req: NodeRequest, res: NodeResponse, match: RegExpExecArray): Promise<void> | void;
}

export function sendText(res: NodeResponse, status: number, body: string, contentType = "text/plain; charset=utf-8"): void {
  res.writeHead(status, { "content-type": contentType });
  res.end(body);
}

export function metricsRoute(registry: Registry): HttpRoute {
  return {
    method: "GET",
    path: "/metrics",
    handle: async (_req, res) => sendText(res, 200, await registry.metrics(), registry.contentType),
  };
}

export function healthzRoute(isDraining: () => boolean): HttpRoute {
  return {
    method: "GET",
    path: "/healthz",
    handle: (_req, res) => (isDraining() ? sendText(res, 503, "draining\n") : sendText(res, 200, "ok\n")),
  };
}

function escapeRegExp(s: string): RegExp {
  return new RegExp(`^${s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);
}

/** connectNodeAdapter's fallback: dispatches non-RPC requests to the routes. */
export function httpFallback(routes: readonly HttpRoute[], logger?: Logger) {
  const compiled = routes.map((r) => ({ ...r, pattern: typeof r.path === "string" ? escapeRegExp(r.path) : r.path }));
  return (req: NodeRequest, res: NodeResponse): void => {
    const path = (req.url ?? "/").split("?", 1)[0];
    let pathMatched = false;
    for (const route of compiled) {
      const match = route.pattern.exec(path);
      if (!match) continue;
      pathMatched = true;
      if (route.method !== req.method) continue;
      Promise.resolve()
        .then(() => route.handle(req, res, match))
        .catch((err: unknown) => {
          logger?.error({ err, path }, "http route failed");
          if (!res.headersSent) sendText(res, 500, "internal error\n");
          else res.end();
        });
      return;
    }
    sendText(res, pathMatched ? 405 : 404, pathMatched ? "method not allowed\n" : "not found\n");
  };
}
