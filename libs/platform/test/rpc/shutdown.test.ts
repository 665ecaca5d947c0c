import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const child = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures/shutdown-child.ts");

function runUntilSignalled(closers: string, signal: NodeJS.Signals): Promise<{ code: number | null; lines: string[] }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ["--import", "tsx", child, closers], { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    proc.stderr.on("data", (d: Buffer) => {
      err += d.toString();
      if (err.includes("ready\n") && !proc.killed) {
        proc.kill(signal);
        proc.kill(signal); // a second signal while closing must not run the closers again
      }
    });
    proc.once("error", reject);
    proc.once("exit", (code) => resolve({ code, lines: err.trim().split("\n").filter((l) => l !== "ready") }));
  });
}

describe("onShutdownSignals", () => {
  it("runs the closers once, in order, and exits 0 on SIGTERM", async () => {
    expect(await runUntilSignalled("ok,ok,ok", "SIGTERM")).toEqual({ code: 0, lines: ["closer 0", "closer 1", "closer 2"] });
  });

  it("exits 1 when a closer throws, still running the rest (SIGINT)", async () => {
    expect(await runUntilSignalled("ok,fail,ok", "SIGINT")).toEqual({ code: 1, lines: ["closer 0", "closer 1", "closer 2"] });
  });
});
