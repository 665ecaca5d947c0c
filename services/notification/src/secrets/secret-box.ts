import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

const VERSION = "v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM sealing of channel secrets. The channel id is bound as associated data, so a
 * ciphertext copied onto another channel row does not decrypt.
 */
export interface SecretBox {
  seal(plain: string, channelId: string): string;
  open(sealed: string, channelId: string): string;
}

/** Any high-entropy string works as the key (e.g. `openssl rand -base64 32`); it is hashed to 256 bits. */
export function createSecretBox(secretKey: string): SecretBox {
  if (secretKey.length < 16) throw new Error("notification secret key is too short (need at least 16 characters)");
  const key = createHash("sha256").update(secretKey).digest();
  return {
    seal(plain, channelId) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      cipher.setAAD(Buffer.from(channelId));
      const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
      return `${VERSION}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64")}`;
    },
    open(sealed, channelId) {
      const [version, data] = sealed.split(":");
      if (version !== VERSION || !data) throw new Error("unknown secret format");
      const raw = Buffer.from(data, "base64");
      const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(channelId));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString("utf8");
    },
  };
}
