import { execFile } from "node:child_process";
import { allServices } from "@lotty/embedded/services";
import { startEmbedded, type EmbeddedLotty } from "@lotty/platform/host";
import type { Role } from "@lotty/platform/auth";
import { createLogger } from "@lotty/platform/log";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = new URL("../../../", import.meta.url).pathname;

interface CliRun {
  code: number;
  out: string;
  err: string;
  json(): any;
}

/** Runs the real CLI in its own process, as a user would (asynchronously: the server is in this process). */
/** Auth is on: each actor calls with a token for its roles (`lotty --token`, i.e. LOTTY_TOKEN). */
const ROLES_OF: Record<string, Role[]> = { alice: ["admin"], bob: ["approver"] };
let tokenFor: (actor: string) => Promise<string>;

async function lotty(url: string, actor: string, ...args: string[]): Promise<CliRun> {
  const token = await tokenFor(actor);
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", "apps/cli/src/main.ts", "--url", url, "--token", token, ...args], { cwd: root, encoding: "utf8" }, (err, out, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
      resolve({ code, out, err: stderr, json: () => JSON.parse(out) });
    });
  });
}

describe("lotty CLI against the embedded default", () => {
  let lottyServer: EmbeddedLotty;
  let url: string;

  beforeAll(async () => {
    lottyServer = await startEmbedded(allServices, { port: 0, host: "127.0.0.1", logger: createLogger("test", { level: "silent" }) });
    url = `http://127.0.0.1:${lottyServer.port}`;
    tokenFor = (actor) => lottyServer.auth!.mintToken({ sub: actor, roles: ROLES_OF[actor] ?? [] });
  }, 60_000);

  afterAll(async () => {
    await lottyServer?.close();
  });

  it("takes an experiment from a file to running, and decides it", async () => {
    expect((await lotty(url, "alice", "flags", "create", "checkout.new-flow", "--type", "bool", "--default", "false")).code).toBe(0);

    const created = await lotty(url, "alice", "--json", "experiments", "create", "-f", "examples/checkout-experiment.yaml");
    expect(created.code, created.err).toBe(0);
    const id: string = created.json().id;
    expect(created.json().status).toBe("EXPERIMENT_STATUS_DRAFT");

    expect((await lotty(url, "alice", "experiments", "submit", id)).code).toBe(0);
    // The owner may not approve their own experiment; a reviewer does.
    const approved = await lotty(url, "bob", "--json", "experiments", "approve", id, "-m", "looks good");
    expect(approved.code, approved.err).toBe(0);
    const started = await lotty(url, "alice", "--json", "experiments", "start", id);
    expect(started.code, started.err).toBe(0);
    expect(started.json().status).toBe("EXPERIMENT_STATUS_RUNNING");

    const shown = await lotty(url, "alice", "experiments", "show", id);
    expect(shown.out).toContain("running");
    expect(shown.out).toContain("one-page");

    const log = await lotty(url, "alice", "--json", "experiments", "log", id);
    expect(log.json().map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(["created", "approved", "status_changed"]));

    // A targeted subject is now in the experiment.
    const decided = await lotty(url, "alice", "--json", "decide", "checkout.new-flow", "-s", "user-7", "-a", "country=US", "-a", "app_version=1.7.0");
    expect(decided.code, decided.err).toBe(0);
    expect(["DECISION_REASON_EXPERIMENT_ASSIGNED", "DECISION_REASON_OUTSIDE_TRAFFIC_ALLOCATION"]).toContain(decided.json().reason);
    const outside = await lotty(url, "alice", "--json", "decide", "checkout.new-flow", "-s", "user-7", "-a", "country=FR");
    expect(outside.json().reason).toBe("DECISION_REASON_TARGETING_MISMATCH");
    // Nine CLI processes, each starting Node with tsx: ~9 s alone, over 30 s on a loaded CI machine.
  }, 120_000);

  it("exits with meaningful codes: not found, usage, invalid argument, conflict", async () => {
    expect((await lotty(url, "alice", "flags", "get", "no.such.flag")).code).toBe(3);
    expect((await lotty(url, "alice", "flags", "create", "x", "--type", "colour", "--default", "1")).code).toBe(2);
    const bad = await lotty(url, "alice", "--json", "flags", "create", "Bad Key", "--type", "bool", "--default", "true");
    expect(bad.code).toBe(4);
    expect(bad.json().error.message).toMatch(/key/);
    expect((await lotty(url, "alice", "flags", "create", "dup.flag", "--type", "bool", "--default", "true")).code).toBe(0);
    expect((await lotty(url, "alice", "flags", "create", "dup.flag", "--type", "bool", "--default", "true")).code).toBe(5);
  });
});
