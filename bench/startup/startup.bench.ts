// Embedded default start-up: wall time from `npm start`'s process launch until Decide answers
// (with auth on, until it answers UNAUTHENTICATED for the missing SDK key),
// on a first start (empty data directory) and on a restart, and the RSS at idle.
// Run: node --import tsx bench/startup/startup.bench.ts [--runs 3]
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Code, ConnectError } from "@connectrpc/connect";
import { DecisionService } from "@lotty/proto/decision";

const { values } = parseArgs({ options: { runs: { type: "string", default: "3" } } });
const runs = Number(values.runs);
const root = new URL("../../", import.meta.url).pathname;
const port = 18_500 + (process.pid % 1000);

function rssMb(pid: number): number {
  const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  return Math.round(Number(kb) / 1024);
}

async function startOnce(dataDir: string): Promise<{ ms: number; rss: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, ["scripts/start.mjs"], {
    cwd: root,
    env: { ...process.env, LOTTY_PORT: String(port), LOTTY_DATA_DIR: dataDir, LOTTY_LOG_LEVEL: "warn" },
    stdio: "ignore",
  });
  const client = createClient(DecisionService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}`, defaultTimeoutMs: 500 }));
  let ms = 0;
  for (const deadline = started + 60_000; performance.now() < deadline; ) {
    try {
      await client.decide({ subjectId: "s", flagKey: "any" });
      ms = performance.now() - started;
      break;
    } catch (err) {
      // Auth is on by default: a refusal for the missing SDK key is the decision service answering.
      if (err instanceof ConnectError && err.code === Code.Unauthenticated) {
        ms = performance.now() - started;
        break;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  if (!ms) throw new Error("Lotty did not answer within 60 s");
  await new Promise((r) => setTimeout(r, 3000)); // idle
  const rss = rssMb(child.pid!);
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
  return { ms: Math.round(ms), rss };
}

const rows: { run: number; first: number; restart: number; rss: number }[] = [];
for (let i = 1; i <= runs; i++) {
  const dir = mkdtempSync(join(tmpdir(), "lotty-startup-"));
  try {
    const first = await startOnce(dir);
    const restart = await startOnce(dir);
    rows.push({ run: i, first: first.ms, restart: restart.ms, rss: Math.max(first.rss, restart.rss) });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
console.log("run  first start (ms)  restart (ms)  idle RSS (MB)");
for (const r of rows) console.log(`${String(r.run).padEnd(4)} ${String(r.first).padStart(16)}  ${String(r.restart).padStart(12)}  ${String(r.rss).padStart(13)}`);
const worst = (k: "first" | "restart" | "rss") => Math.max(...rows.map((r) => r[k]));
console.log(`worst: first ${worst("first")} ms (target 5000), restart ${worst("restart")} ms (target 2000), RSS ${worst("rss")} MB (target 1024)`);
