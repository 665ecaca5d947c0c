// Load generators (h2load for gRPC over h2c, wrk for Connect JSON over HTTP/1.1) and their results.
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const workDir = mkdtempSync(join(tmpdir(), "lotty-wire-"));
let files = 0;

function tempFile(name: string, content: string | Uint8Array): string {
  const path = join(workDir, `${files++}-${name}`);
  writeFileSync(path, content);
  return path;
}

export interface LoadResult {
  tool: "h2load" | "wrk";
  requests: number;
  reqPerSec: number;
  /** Replies that were not 2xx, plus transport errors. */
  failed: number;
  /** What the tool says about latency (h2load: mean; wrk: p50/p99). */
  latency: string;
}

/** A gRPC message as it goes on the wire: flag byte 0, uint32 big-endian length, the bytes. */
export function grpcFrame(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + message.length);
  new DataView(out.buffer).setUint32(1, message.length);
  out.set(message, 5);
  return out;
}

export interface H2loadOptions {
  url: string;
  /** One request body for every request (h2load takes a single data file). */
  body: Uint8Array;
  clients: number;
  streams: number;
  seconds: number;
}

/** gRPC over h2c: every reply counts as 2xx, so the caller checks grpc-status separately. */
export async function h2loadGrpc(o: H2loadOptions): Promise<LoadResult> {
  const file = tempFile("body.grpc", grpcFrame(o.body));
  const { stdout } = await run(
    "h2load",
    ["-c", String(o.clients), "-m", String(o.streams), "-t", "1", "-D", String(o.seconds),
      "-H", "content-type: application/grpc", "-H", "te: trailers", "-d", file, o.url],
    { maxBuffer: 1 << 24 },
  );
  const reqs = /finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(stdout);
  const done = /requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(stdout);
  const time = /time for request:\s+(\S+)\s+(\S+)\s+(\S+)/.exec(stdout);
  if (!reqs || !done) throw new Error(`unparsable h2load output:\n${stdout}`);
  return {
    tool: "h2load",
    requests: Number(done[2]),
    reqPerSec: Number(reqs[1]),
    failed: Number(done[4]) + Number(done[5]),
    latency: time ? `mean ${time[3]} (min ${time[1]}, max ${time[2]})` : "n/a",
  };
}

export interface WrkOptions {
  url: string;
  /** JSON body; every `%d` becomes a request counter modulo `vary` (varying subjects). */
  bodyTemplate: string;
  vary: number;
  method?: "POST" | "GET";
  /** For GET: the path template instead of a body (same `%d` rule). */
  pathTemplate?: string;
  headers?: Record<string, string>;
  connections: number;
  seconds: number;
}

const luaString = (s: string): string => JSON.stringify(s);

/** Connect JSON (or any HTTP/1.1) load; the request() hook varies the subject per request. */
export async function wrk(o: WrkOptions): Promise<LoadResult> {
  const method = o.method ?? "POST";
  const headers = { "Content-Type": "application/json", ...o.headers };
  const script = [
    `wrk.method = ${luaString(method)}`,
    ...Object.entries(headers).map(([k, v]) => `wrk.headers[${luaString(k)}] = ${luaString(v)}`),
    "local n = 0",
    "request = function()",
    "  n = n + 1",
    `  local i = n % ${o.vary}`,
    method === "GET"
      ? `  return wrk.format(nil, string.format(${luaString(o.pathTemplate ?? "/")}, i))`
      : `  return wrk.format(nil, nil, nil, string.format(${luaString(o.bodyTemplate)}, i))`,
    "end",
  ].join("\n");
  const file = tempFile("load.lua", script);
  const { stdout } = await run(
    "wrk",
    ["-t1", `-c${o.connections}`, `-d${o.seconds}s`, "--latency", "-s", file, o.url],
    { maxBuffer: 1 << 24 },
  );
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
  const total = /(\d+) requests in/.exec(stdout);
  if (!rps || !total) throw new Error(`unparsable wrk output:\n${stdout}`);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(stdout);
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  const pct = (p: string) => new RegExp(`^\\s+${p}%\\s+(\\S+)`, "m").exec(stdout)?.[1] ?? "?";
  return {
    tool: "wrk",
    requests: Number(total[1]),
    reqPerSec: Number(rps[1]),
    failed: Number(non2xx?.[1] ?? 0) + (errors ? errors.slice(1).reduce((a, b) => a + Number(b), 0) : 0),
    latency: `p50 ${pct("50")}, p99 ${pct("99")}`,
  };
}

export async function toolVersions(): Promise<Record<string, string>> {
  const h2 = await run("h2load", ["--version"]).then((r) => r.stdout.trim().split("\n")[0]);
  // wrk -v prints its banner and exits 1.
  const w = await run("wrk", ["-v"]).then((r) => r.stdout, (e: { stdout?: string }) => e.stdout ?? "");
  return { h2load: h2, wrk: w.trim().split("\n")[0], node: process.version };
}
