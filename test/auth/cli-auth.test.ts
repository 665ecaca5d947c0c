// `lotty token` and `lotty keys` against an embedded default set up as `npm start` does: secrets
// generated into a data directory, tokens minted from them by the CLI, offline.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { allServices } from "@lotty/embedded/services";
import { authSettingsFromConfig, loadOrCreateLocalSecrets, userTokenVerifier } from "@lotty/platform/auth";
import { startEmbedded, type EmbeddedLotty } from "@lotty/platform/host";
import { createLogger } from "@lotty/platform/log";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = new URL("../../", import.meta.url).pathname;

interface CliRun {
  code: number;
  out: string;
  err: string;
}

function cli(...args: string[]): Promise<CliRun> {
  // The secret comes from the data directory only, whatever the test's own environment holds.
  const env = { ...process.env, LOTTY_JWT_SECRET: "", LOTTY_TOKEN: "" };
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", "apps/cli/src/main.ts", ...args], { cwd: root, encoding: "utf8", env }, (err, out, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, out, err: stderr });
    });
  });
}

describe("lotty token and lotty keys", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "lotty-cli-auth-"));
  let lotty: EmbeddedLotty;
  let url: string;

  beforeAll(async () => {
    const { secrets } = loadOrCreateLocalSecrets(dataDir);
    const auth = authSettingsFromConfig({ LOTTY_AUTH: "on", LOTTY_JWT_ISSUER: "lotty", LOTTY_JWT_AUDIENCE: "lotty" }, secrets);
    lotty = await startEmbedded(allServices, { port: 0, host: "127.0.0.1", logger: createLogger("test", { level: "silent" }), auth: auth ?? false });
    url = `http://127.0.0.1:${lotty.port}`;
  }, 60_000);

  afterAll(async () => {
    await lotty?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("mints a token the instance accepts, with the roles, subject and lifetime asked for", async () => {
    const minted = await cli("token", "--role", "approver", "viewer", "--sub", "alice", "--ttl", "15m", "--data-dir", dataDir);
    expect(minted.code, minted.err).toBe(0);
    const actor = await userTokenVerifier(lotty.auth!.settings.jwt)(minted.out.trim());
    expect(actor).toMatchObject({ id: "alice", roles: ["approver", "viewer"] });
    expect((await cli("token", "--role", "superuser", "--data-dir", dataDir)).code).toBe(2);
    expect((await cli("token", "--data-dir", join(dataDir, "missing"))).code).toBe(2);
  });

  it("creates an SDK key shown once, lists it without its secret, revokes it; admins only", async () => {
    const admin = (await cli("token", "--role", "admin", "--sub", "root", "--data-dir", dataDir)).out.trim();
    const created = await cli("--url", url, "--token", admin, "--json", "keys", "create", "--name", "checkout", "--environment", "production");
    expect(created.code, created.err).toBe(0);
    const { key, secret } = JSON.parse(created.out) as { key: { id: string; prefix: string }; secret: string };
    expect(secret).toMatch(/^lotty_sdk_/);
    expect(secret.startsWith(key.prefix)).toBe(true);

    const listed = await cli("--url", url, "--token", admin, "keys", "list");
    expect(listed.code, listed.err).toBe(0);
    expect(listed.out).toContain("checkout");
    expect(listed.out).not.toContain(secret);

    const viewer = (await cli("token", "--role", "viewer", "--data-dir", dataDir)).out.trim();
    expect((await cli("--url", url, "--token", viewer, "keys", "list")).code).toBe(7);
    expect((await cli("--url", url, "keys", "list")).code).toBe(7);

    const revoked = await cli("--url", url, "--token", admin, "--json", "keys", "revoke", key.id);
    expect(revoked.code, revoked.err).toBe(0);
    expect(JSON.parse(revoked.out)).toMatchObject({ id: key.id, revoked: true });
  });
});
