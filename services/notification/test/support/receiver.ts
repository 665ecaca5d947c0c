import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

export interface Recorded {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

export type Reply = { status: number; headers?: Record<string, string>; body?: string } | "hang";

/** A loopback HTTP endpoint that records every request and answers as `reply` says (default 200). */
export interface Receiver {
  url: string;
  requests: Recorded[];
  reply: (req: Recorded, index: number) => Reply;
  waitForRequests(n: number, timeoutMs?: number): Promise<Recorded[]>;
  close(): Promise<void>;
}

export async function startReceiver(reply: Receiver["reply"] = () => ({ status: 200, body: "ok" })): Promise<Receiver> {
  const requests: Recorded[] = [];
  const receiver: Receiver = {
    url: "",
    requests,
    reply,
    async waitForRequests(n, timeoutMs = 5000) {
      await waitFor(() => requests.length >= n, timeoutMs, `${n} request(s) at ${receiver.url}`);
      return requests;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const rec: Recorded = { method: req.method ?? "", path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), at: Date.now() };
      requests.push(rec);
      const r = receiver.reply(rec, requests.length - 1);
      if (r === "hang") return; // never answers; closeAllConnections ends it
      res.writeHead(r.status, r.headers).end(r.body ?? "");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return receiver;
}

export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
