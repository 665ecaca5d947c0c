import { jwtVerify, SignJWT } from "jose";
import type { Actor } from "./actor.js";
import { CredentialError, secretKey } from "./jwt.js";
import { SERVICE_NAMES, type ServiceName } from "./policy.js";

// Service tokens: short-lived HS256 JWTs signed with the secret every service shares
// (LOTTY_SERVICE_TOKEN_SECRET). Their own issuer keeps them apart from user tokens.
export const SERVICE_ISSUER = "lotty-service";
const SERVICE_AUDIENCE = "lotty-services";
const TTL_S = 300;
/** Re-sign this long before expiry, so a token never expires in flight. */
const RENEW_BEFORE_S = 60;

/** A signer that reuses its token until shortly before it expires (signing per call would be waste). */
export function serviceTokenSigner(name: ServiceName, secret: string, now: () => number = Date.now): () => Promise<string> {
  let cached: { token: string; renewAt: number } | undefined;
  return async () => {
    const t = Math.floor(now() / 1000);
    if (cached && t < cached.renewAt) return cached.token;
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(`service:${name}`)
      .setIssuer(SERVICE_ISSUER)
      .setAudience(SERVICE_AUDIENCE)
      .setIssuedAt(t)
      .setExpirationTime(t + TTL_S)
      .sign(secretKey(secret));
    cached = { token, renewAt: t + TTL_S - RENEW_BEFORE_S };
    return token;
  };
}

export function serviceTokenVerifier(secret: string): (token: string) => Promise<Actor> {
  const key = secretKey(secret);
  return async (token) => {
    let sub: string | undefined;
    try {
      ({ payload: { sub } } = await jwtVerify(token, key, { issuer: SERVICE_ISSUER, audience: SERVICE_AUDIENCE, algorithms: ["HS256"], requiredClaims: ["exp", "sub"] }));
    } catch {
      throw new CredentialError("service token is invalid");
    }
    const name = sub?.startsWith("service:") ? sub.slice("service:".length) : "";
    if (!(SERVICE_NAMES as readonly string[]).includes(name)) throw new CredentialError("service token subject is not acceptable");
    return { id: `service:${name}`, kind: "service", roles: [], credential: "service-token" };
  };
}
