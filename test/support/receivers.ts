// Loopback HTTP endpoints standing in for Slack, webhook and other third-party receivers in
// end-to-end tests: they record every request and answer 200.
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  receivedAt: number;
}

export interface HttpReceiver {
  /** Base URL, e.g. http://127.0.0.1:40123 (any path is accepted). */
  readonly url: string;
  readonly requests: readonly ReceivedRequest[];
  /** Resolves once at least n requests arrived; rejects after timeoutMs. */
  waitFor(n: number, timeoutMs?: number): Promise<readonly ReceivedRequest[]>;
  close(): Promise<void>;
}

export async function startHttpReceiver(): Promise<HttpReceiver> {
  const requests: ReceivedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      requests.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), receivedAt: Date.now() });
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    async waitFor(n, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (requests.length < n) {
        if (Date.now() > deadline) throw new Error(`${url} received ${requests.length} of ${n} request(s) within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 25));
      }
      return requests;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Checks a Lotty webhook signature (`X-Lotty-Signature: t=<unix>,v1=<hex>`, HMAC-SHA256 of
 * "<t>.<body>") the way a receiver should: constant-time compare, and t no older than maxAgeS.
 */
export function verifyLottySignature(secret: string, header: string | undefined, body: string, maxAgeS = 300, now = Date.now()): boolean {
  const parts = new Map((header ?? "").split(",").map((kv) => kv.split("=", 2) as [string, string]));
  const t = Number(parts.get("t"));
  const v1 = parts.get("v1") ?? "";
  if (!Number.isInteger(t) || Math.abs(now / 1000 - t) > maxAgeS || !/^[0-9a-f]{64}$/.test(v1)) return false;
  const expected = createHmac("sha256", secret).update(`${t}.${body}`).digest();
  return timingSafeEqual(expected, Buffer.from(v1, "hex"));
}
