import { decodeJwt } from "jose";
import type { Actor } from "./actor.js";
import { CredentialError } from "./jwt.js";
import type { Rule } from "./policy.js";
import { SDK_KEY_PREFIX, type SdkKeyVerifier } from "./sdk-keys.js";
import { SERVICE_ISSUER } from "./service-tokens.js";

/** Verifies a bearer credential; undefined when none was presented, CredentialError when it is not acceptable. */
export type Authenticate = (bearer: string | undefined) => Promise<Actor | undefined>;

export interface AuthenticatorOptions {
  /** User tokens (JWT); unset = none accepted. */
  user?: (token: string) => Promise<Actor>;
  /** Service tokens; unset = none accepted. */
  service?: (token: string) => Promise<Actor>;
  /** Looked up per call: the key set may be built after the server (the decision service's ruleset). */
  sdkKeys?: () => SdkKeyVerifier | undefined;
}

/** `Authorization: Bearer <credential>` → the credential; OFREP clients may send `X-API-Key` instead. */
export function bearerOf(authorization: string | null | undefined, apiKey?: string | null): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
  if (m) return m[1];
  if (authorization) throw new CredentialError("authorization header must be `Bearer <credential>`");
  return apiKey?.trim() || undefined;
}

export function createAuthenticator(opts: AuthenticatorOptions): Authenticate {
  return async (bearer) => {
    if (bearer === undefined) return undefined;
    if (bearer.startsWith(SDK_KEY_PREFIX)) {
      const key = opts.sdkKeys?.()?.verify(bearer);
      if (!key) throw new CredentialError("unknown or revoked SDK key");
      return { id: `sdk-key:${key.id}`, kind: "system", roles: [], credential: "sdk-key", environment: key.environment };
    }
    let issuer: string | undefined;
    try {
      issuer = decodeJwt(bearer).iss;
    } catch {
      throw new CredentialError("token is not a JWT");
    }
    // The issuer only picks the verifier; each verifier checks everything itself.
    const verify = issuer === SERVICE_ISSUER ? opts.service : opts.user;
    if (!verify) throw new CredentialError("this kind of token is not accepted here");
    return verify(bearer);
  };
}

/** Whether an authenticated actor may do what the rule covers. */
export function allows(rule: Rule, actor: Actor): boolean {
  if (rule.public) return true;
  switch (actor.credential) {
    case "sdk-key":
      return rule.sdk === true;
    case "service-token":
      return (rule.services ?? []).some((s) => `service:${s}` === actor.id);
    case "token":
      return actor.roles.some((r) => (rule.roles as readonly string[]).includes(r));
    default:
      return false;
  }
}
