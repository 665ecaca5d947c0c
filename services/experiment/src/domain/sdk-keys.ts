import { createHash, randomBytes } from "node:crypto";

export const SDK_KEY_PREFIX = "lotty_sdk_";
/** Characters kept in clear so people can recognise a key in lists. */
export const VISIBLE_PREFIX_LENGTH = SDK_KEY_PREFIX.length + 6;

/** A fresh secret (192 random bits); only its hash is stored. */
export function newSdkSecret(): { secret: string; hash: string; prefix: string } {
  const secret = SDK_KEY_PREFIX + randomBytes(24).toString("base64url");
  return { secret, hash: hashSdkKey(secret), prefix: secret.slice(0, VISIBLE_PREFIX_LENGTH) };
}

/** Hex sha256, the form the decide path compares presented keys against. */
export function hashSdkKey(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}
