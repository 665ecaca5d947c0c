import { createRemoteJWKSet, errors, importSPKI, jwtVerify, SignJWT, type JWTPayload, type JWTVerifyGetKey, type CryptoKey } from "jose";
import type { Actor } from "./actor.js";
import { ROLES, type Role } from "./policy.js";

/** Where user tokens' signing keys come from. */
export type JwtKeySource =
  | { kind: "secret"; secret: string }
  | { kind: "public-key"; pem: string }
  | { kind: "jwks"; url: string };

export interface JwtSettings {
  issuer: string;
  audience: string;
  key: JwtKeySource;
  /** Accepted `alg`s; a token signed otherwise is refused (no `none`, no HS/RS confusion). */
  algorithms: readonly string[];
}

export const DEFAULT_ISSUER = "lotty";
export const DEFAULT_AUDIENCE = "lotty";
/** Clock skew tolerated between the token issuer and this host. */
const CLOCK_TOLERANCE_S = 30;

/** Why a credential was refused; the message is safe to return (it never quotes the credential). */
export class CredentialError extends Error {}

export const defaultAlgorithms = (key: JwtKeySource): string[] => (key.kind === "secret" ? ["HS256"] : ["RS256", "ES256", "EdDSA"]);

export const secretKey = (secret: string): Uint8Array => new TextEncoder().encode(secret);

/** Maps jose's failures to a short reason; anything unexpected reads as an invalid token. */
function reason(err: unknown): CredentialError {
  if (err instanceof errors.JWTExpired) return new CredentialError("token expired");
  if (err instanceof errors.JWTClaimValidationFailed) return new CredentialError(`token claim "${err.claim}" is not acceptable`);
  if (err instanceof errors.JWSSignatureVerificationFailed) return new CredentialError("token signature is invalid");
  if (err instanceof errors.JOSEAlgNotAllowed) return new CredentialError("token algorithm is not allowed");
  return new CredentialError("token is invalid");
}

function rolesOf(payload: JWTPayload): Role[] {
  const raw = payload.roles;
  const list = Array.isArray(raw) ? raw : typeof raw === "string" ? raw.split(/[\s,]+/) : [];
  return list.filter((r): r is Role => typeof r === "string" && (ROLES as readonly string[]).includes(r));
}

/** Verifies user tokens: signature (pinned algorithms), issuer, audience, expiry; roles from the `roles` claim. */
export function userTokenVerifier(settings: JwtSettings): (token: string) => Promise<Actor> {
  let key: Promise<CryptoKey | Uint8Array | JWTVerifyGetKey>;
  const keyOf = () =>
    (key ??=
      settings.key.kind === "secret"
        ? Promise.resolve(secretKey(settings.key.secret))
        : settings.key.kind === "jwks"
          ? Promise.resolve(createRemoteJWKSet(new URL(settings.key.url)))
          : importSPKI(settings.key.pem, settings.algorithms[0] ?? "RS256"));
  const options = { issuer: settings.issuer, audience: settings.audience, algorithms: [...settings.algorithms], clockTolerance: CLOCK_TOLERANCE_S, requiredClaims: ["exp", "sub"] };
  return async (token) => {
    let payload: JWTPayload;
    try {
      const k = await keyOf();
      payload = (typeof k === "function" ? await jwtVerify(token, k, options) : await jwtVerify(token, k, options)).payload;
    } catch (err) {
      throw reason(err);
    }
    const sub = payload.sub ?? "";
    // A user token never speaks for a service: that needs a service token.
    if (sub === "" || sub.startsWith("service:")) throw new CredentialError("token subject is not acceptable");
    return { id: sub, kind: "user", roles: rolesOf(payload), credential: "token" };
  };
}

export interface MintOptions {
  secret: string;
  sub: string;
  roles: readonly Role[];
  ttlSeconds: number;
  issuer?: string;
  audience?: string;
}

/** An HS256 user token, as `lotty token` mints for the embedded default. */
export function mintUserToken(opts: MintOptions): Promise<string> {
  return new SignJWT({ roles: [...opts.roles] })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(opts.sub)
    .setIssuer(opts.issuer ?? DEFAULT_ISSUER)
    .setAudience(opts.audience ?? DEFAULT_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + opts.ttlSeconds)
    .sign(secretKey(opts.secret));
}
