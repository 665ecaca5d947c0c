import { createHash } from "node:crypto";

export const SDK_KEY_PREFIX = "lotty_sdk_";

export interface SdkKeyEntry {
  id: string;
  /** Hex sha256 of the key. */
  keyHash: string;
  environment: string;
}

/** What the authentication interceptor asks about a presented SDK key. */
export interface SdkKeyVerifier {
  verify(secret: string): SdkKeyEntry | undefined;
}

/** Hex sha256, as the experiment service stores keys. */
export function hashSdkKey(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

/**
 * The active SDK keys a service accepts, by hash. Only hashes are held, so a memory dump reveals
 * no key; lookup by hash is a Map get (a timing difference reveals nothing about a sha256 preimage).
 */
export class SdkKeySet implements SdkKeyVerifier {
  private byHash = new Map<string, SdkKeyEntry>();
  private loaded = false;

  replace(keys: readonly SdkKeyEntry[]): void {
    this.byHash = new Map(keys.map((k) => [k.keyHash, { id: k.id, keyHash: k.keyHash, environment: k.environment }]));
    this.loaded = true;
  }

  /** True once a key list was installed (an empty list counts). */
  isLoaded(): boolean {
    return this.loaded;
  }

  entries(): SdkKeyEntry[] {
    return [...this.byHash.values()];
  }

  verify(secret: string): SdkKeyEntry | undefined {
    if (!secret.startsWith(SDK_KEY_PREFIX)) return undefined;
    return this.byHash.get(hashSdkKey(secret));
  }
}
