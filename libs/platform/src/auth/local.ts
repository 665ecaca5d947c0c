import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

/** The embedded default's own secrets: no identity provider needed to try Lotty. */
export interface LocalSecrets {
  /** HS256 key of user tokens (`lotty token` mints with it). */
  jwtSecret: string;
  /** HS256 key of service tokens. */
  serviceSecret: string;
}

export const LOCAL_SECRETS_FILE = "auth.json";

const fresh = (): LocalSecrets => ({ jwtSecret: randomBytes(32).toString("base64url"), serviceSecret: randomBytes(32).toString("base64url") });

export function localSecretsPath(dataDir: string): string {
  return join(resolve(dataDir), LOCAL_SECRETS_FILE);
}

/** Reads <dataDir>/auth.json; undefined when it does not exist yet. */
export function readLocalSecrets(dataDir: string): LocalSecrets | undefined {
  let text: string;
  try {
    text = readFileSync(localSecretsPath(dataDir), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  const parsed = JSON.parse(text) as Partial<LocalSecrets>;
  if (typeof parsed.jwtSecret !== "string" || typeof parsed.serviceSecret !== "string") {
    throw new Error(`${localSecretsPath(dataDir)} is damaged; delete it to generate new secrets (tokens minted before stop working)`);
  }
  return { jwtSecret: parsed.jwtSecret, serviceSecret: parsed.serviceSecret };
}

/**
 * The secrets of a data directory, created at first start (file mode 0600: only the owner reads
 * them). Without a data directory (tests), fresh secrets that live as long as the process.
 */
export function loadOrCreateLocalSecrets(dataDir: string | undefined): { secrets: LocalSecrets; created: boolean } {
  if (dataDir === undefined) return { secrets: fresh(), created: true };
  const existing = readLocalSecrets(dataDir);
  if (existing) {
    const path = localSecretsPath(dataDir);
    // Tighten a copy that lost its mode (e.g. restored from a backup).
    if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
    return { secrets: existing, created: false };
  }
  mkdirSync(resolve(dataDir), { recursive: true });
  const secrets = fresh();
  // "wx": never overwrite secrets another process wrote meanwhile.
  writeFileSync(localSecretsPath(dataDir), `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600, flag: "wx" });
  return { secrets, created: true };
}
