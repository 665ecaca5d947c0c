import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { authSettingsFromConfig, loadOrCreateLocalSecrets, readLocalSecrets, type AuthConfig } from "../../src/auth/index.js";

const base: AuthConfig = { LOTTY_AUTH: "on", LOTTY_JWT_ISSUER: "lotty", LOTTY_JWT_AUDIENCE: "lotty" };
const secret = "z".repeat(40);

describe("auth settings from the environment", () => {
  it("are off only when asked", () => {
    expect(authSettingsFromConfig({ ...base, LOTTY_AUTH: "off" })).toBeUndefined();
  });

  it("refuse to start a standalone service without keys, naming variables and never values", () => {
    expect(() => authSettingsFromConfig(base)).toThrow(/LOTTY_JWKS_URL, LOTTY_JWT_PUBLIC_KEY or LOTTY_JWT_SECRET/);
    expect(() => authSettingsFromConfig({ ...base, LOTTY_JWT_SECRET: secret })).toThrow(/LOTTY_SERVICE_TOKEN_SECRET/);
    expect(() => authSettingsFromConfig({ ...base, LOTTY_JWT_SECRET: "short-secret", LOTTY_SERVICE_TOKEN_SECRET: secret })).toThrow(/at least 32/);
    expect(() => authSettingsFromConfig({ ...base, LOTTY_JWT_SECRET: "short-secret", LOTTY_SERVICE_TOKEN_SECRET: secret })).not.toThrow(/short-secret/);
    expect(() => authSettingsFromConfig({ ...base, LOTTY_JWT_SECRET: secret, LOTTY_JWKS_URL: "https://idp/jwks", LOTTY_SERVICE_TOKEN_SECRET: secret })).toThrow(/only one/);
    expect(() => authSettingsFromConfig({ ...base, LOTTY_JWKS_URL: "https://idp/jwks", LOTTY_JWT_ALGORITHMS: "HS256", LOTTY_SERVICE_TOKEN_SECRET: secret })).toThrow(/no HS/);
  });

  it("pin HS256 for a secret and asymmetric algorithms for JWKS", () => {
    expect(authSettingsFromConfig({ ...base, LOTTY_JWT_SECRET: secret, LOTTY_SERVICE_TOKEN_SECRET: secret })?.jwt.algorithms).toEqual(["HS256"]);
    const jwks = authSettingsFromConfig({ ...base, LOTTY_JWKS_URL: "https://idp/jwks", LOTTY_SERVICE_TOKEN_SECRET: secret });
    expect(jwks?.jwt).toMatchObject({ key: { kind: "jwks" }, algorithms: ["RS256", "ES256", "EdDSA"] });
  });

  it("fall back to the embedded default's local secrets", () => {
    const local = { jwtSecret: "j".repeat(43), serviceSecret: "v".repeat(43) };
    expect(authSettingsFromConfig(base, local)).toMatchObject({ jwt: { key: { kind: "secret", secret: local.jwtSecret } }, serviceSecret: local.serviceSecret });
  });
});

describe("local secrets of the embedded default", () => {
  const dir = mkdtempSync(join(tmpdir(), "lotty-auth-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("are created once, readable by the owner only, and read back after", () => {
    const first = loadOrCreateLocalSecrets(join(dir, "data"));
    expect(first.created).toBe(true);
    expect(statSync(join(dir, "data", "auth.json")).mode & 0o777).toBe(0o600);
    const again = loadOrCreateLocalSecrets(join(dir, "data"));
    expect(again).toEqual({ secrets: first.secrets, created: false });
    expect(readLocalSecrets(join(dir, "data"))).toEqual(first.secrets);
    expect(readLocalSecrets(join(dir, "none"))).toBeUndefined();
  });

  it("say so when damaged", () => {
    writeFileSync(join(dir, "auth.json"), "{}", { mode: 0o600 });
    expect(() => readLocalSecrets(dir)).toThrow(/damaged/);
  });
});
