import { DEFAULT_AUDIENCE, DEFAULT_ISSUER, defaultAlgorithms, type JwtKeySource, type JwtSettings } from "./jwt.js";
import type { LocalSecrets } from "./local.js";

/** Everything a host needs to authenticate callers and to call its peers. */
export interface AuthSettings {
  jwt: JwtSettings;
  serviceSecret: string;
}

/** The LOTTY_* variables auth reads (a subset of hostConfigSpec). */
export interface AuthConfig {
  LOTTY_AUTH: "on" | "off";
  LOTTY_JWT_ISSUER: string;
  LOTTY_JWT_AUDIENCE: string;
  LOTTY_JWKS_URL?: string;
  LOTTY_JWT_PUBLIC_KEY?: string;
  LOTTY_JWT_SECRET?: string;
  LOTTY_JWT_ALGORITHMS?: string;
  LOTTY_SERVICE_TOKEN_SECRET?: string;
}

/** HS256 secrets shorter than the hash output are guessable offline from any token. */
const MIN_SECRET_LENGTH = 32;

function keySource(cfg: AuthConfig, local: LocalSecrets | undefined): JwtKeySource | undefined {
  const given = [
    cfg.LOTTY_JWKS_URL && ({ kind: "jwks", url: cfg.LOTTY_JWKS_URL } as const),
    cfg.LOTTY_JWT_PUBLIC_KEY && ({ kind: "public-key", pem: cfg.LOTTY_JWT_PUBLIC_KEY.replaceAll("\\n", "\n") } as const),
    cfg.LOTTY_JWT_SECRET && ({ kind: "secret", secret: cfg.LOTTY_JWT_SECRET } as const),
  ].filter((k): k is JwtKeySource => Boolean(k));
  if (given.length > 1) throw new Error("set only one of LOTTY_JWKS_URL, LOTTY_JWT_PUBLIC_KEY and LOTTY_JWT_SECRET");
  return given[0] ?? (local ? { kind: "secret", secret: local.jwtSecret } : undefined);
}

/**
 * Auth settings from the environment; undefined when LOTTY_AUTH=off. `local` (the embedded
 * default's generated secrets) fills in what is not configured; without it (standalone
 * services) a token key and LOTTY_SERVICE_TOKEN_SECRET are required. Errors name variables, never values.
 */
export function authSettingsFromConfig(cfg: AuthConfig, local?: LocalSecrets): AuthSettings | undefined {
  if (cfg.LOTTY_AUTH === "off") return undefined;
  const key = keySource(cfg, local);
  if (!key) throw new Error("LOTTY_AUTH=on needs LOTTY_JWKS_URL, LOTTY_JWT_PUBLIC_KEY or LOTTY_JWT_SECRET (or LOTTY_AUTH=off for a trusted network)");
  const serviceSecret = cfg.LOTTY_SERVICE_TOKEN_SECRET ?? local?.serviceSecret;
  if (!serviceSecret) throw new Error("LOTTY_AUTH=on needs LOTTY_SERVICE_TOKEN_SECRET, shared by every service");
  if (key.kind === "secret" && key.secret.length < MIN_SECRET_LENGTH) throw new Error(`LOTTY_JWT_SECRET must be at least ${MIN_SECRET_LENGTH} characters`);
  if (serviceSecret.length < MIN_SECRET_LENGTH) throw new Error(`LOTTY_SERVICE_TOKEN_SECRET must be at least ${MIN_SECRET_LENGTH} characters`);
  const algorithms = cfg.LOTTY_JWT_ALGORITHMS?.split(",").map((a) => a.trim()).filter(Boolean) ?? defaultAlgorithms(key);
  if (key.kind === "secret" && algorithms.some((a) => !a.startsWith("HS"))) throw new Error("LOTTY_JWT_SECRET takes HS* algorithms only");
  if (key.kind !== "secret" && algorithms.some((a) => a.startsWith("HS"))) throw new Error("public keys take asymmetric algorithms only (no HS*)");
  return {
    jwt: { issuer: cfg.LOTTY_JWT_ISSUER || DEFAULT_ISSUER, audience: cfg.LOTTY_JWT_AUDIENCE || DEFAULT_AUDIENCE, key, algorithms },
    serviceSecret,
  };
}
