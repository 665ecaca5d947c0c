import { exportSPKI, generateKeyPair, SignJWT, UnsecuredJWT } from "jose";
import { describe, expect, it } from "vitest";
import { CredentialError, mintUserToken, serviceTokenSigner, serviceTokenVerifier, userTokenVerifier, type JwtSettings } from "../../src/auth/index.js";

const SECRET = "s".repeat(40);
const hs: JwtSettings = { issuer: "lotty", audience: "lotty", key: { kind: "secret", secret: SECRET }, algorithms: ["HS256"] };
const mint = (over: Partial<Parameters<typeof mintUserToken>[0]> = {}) => mintUserToken({ secret: SECRET, sub: "alice", roles: ["viewer"], ttlSeconds: 600, ...over });

describe("user tokens", () => {
  const verify = userTokenVerifier(hs);

  it("accepts a valid token: subject and known roles", async () => {
    const token = await new SignJWT({ roles: ["approver", "superuser"] })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("bob")
      .setIssuer("lotty")
      .setAudience("lotty")
      .setExpirationTime("5m")
      .sign(new TextEncoder().encode(SECRET));
    await expect(verify(token)).resolves.toEqual({ id: "bob", kind: "user", roles: ["approver"], credential: "token" });
  });

  it("refuses expired, foreign, mis-addressed, re-signed and unsigned tokens, without quoting them", async () => {
    const cases = {
      expired: await mint({ ttlSeconds: -120 }),
      issuer: await mint({ issuer: "evil" }),
      audience: await mint({ audience: "other" }),
      key: await mintUserToken({ secret: "k".repeat(40), sub: "alice", roles: ["admin"], ttlSeconds: 600 }),
      none: new UnsecuredJWT({ roles: ["admin"] }).setSubject("alice").setIssuer("lotty").setAudience("lotty").setExpirationTime("5m").encode(),
      serviceSubject: await mint({ sub: "service:decision" }),
    };
    const reasons: Record<string, string> = {};
    for (const [name, token] of Object.entries(cases)) {
      const err = await verify(token).then(() => undefined, (e: unknown) => e);
      expect(err, name).toBeInstanceOf(CredentialError);
      expect((err as Error).message).not.toContain(token.split(".")[2] || token);
      reasons[name] = (err as Error).message;
    }
    expect(reasons.expired).toBe("token expired");
    expect(reasons.issuer).toContain('"iss"');
    expect(reasons.audience).toContain('"aud"');
  });

  it("pins the algorithm: an HS256 token signed with the public key is refused (key confusion)", async () => {
    const { publicKey, privateKey } = await generateKeyPair("RS256", { extractable: true });
    const pem = await exportSPKI(publicKey);
    const rs = userTokenVerifier({ issuer: "lotty", audience: "lotty", key: { kind: "public-key", pem }, algorithms: ["RS256"] });
    const good = await new SignJWT({ roles: ["viewer"] }).setProtectedHeader({ alg: "RS256" }).setSubject("carol").setIssuer("lotty").setAudience("lotty").setExpirationTime("5m").sign(privateKey);
    await expect(rs(good)).resolves.toMatchObject({ id: "carol", roles: ["viewer"] });
    const confused = await mintUserToken({ secret: pem, sub: "mallory", roles: ["admin"], ttlSeconds: 600 });
    await expect(rs(confused)).rejects.toBeInstanceOf(CredentialError);
  });
});

describe("service tokens", () => {
  it("carry service:<name>, are reused until close to expiry, and verify only with the shared secret", async () => {
    let now = 1_700_000_000_000;
    const sign = serviceTokenSigner("guardrail", SECRET, () => now);
    const first = await sign();
    expect(await sign()).toBe(first);
    now += 250_000; // past the renewal point, before expiry
    expect(await sign()).not.toBe(first);
    const verify = serviceTokenVerifier(SECRET);
    await expect(verify(await serviceTokenSigner("guardrail", SECRET)())).resolves.toEqual({ id: "service:guardrail", kind: "service", roles: [], credential: "service-token" });
    await expect(serviceTokenVerifier("o".repeat(40))(await serviceTokenSigner("guardrail", SECRET)())).rejects.toBeInstanceOf(CredentialError);
  });

  it("are not accepted in place of user tokens, nor user tokens in their place", async () => {
    await expect(userTokenVerifier(hs)(await serviceTokenSigner("decision", SECRET)())).rejects.toBeInstanceOf(CredentialError);
    await expect(serviceTokenVerifier(SECRET)(await mint())).rejects.toBeInstanceOf(CredentialError);
  });
});
