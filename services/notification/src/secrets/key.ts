import { randomBytes } from "node:crypto";
import type { Db } from "@lotty/platform/db";
import type { Logger } from "@lotty/platform/log";

/**
 * The key that seals stored secrets. Production passes LOTTY_NOTIFICATION_KEY. Without one (the
 * embedded default) a random key is generated once and kept in this service's own schema, i.e.
 * in the data directory: secrets are then safe from API and log exposure but not from someone
 * who can read the database files, which is why standalone deployments should set the variable.
 */
export async function resolveSecretKey(db: Db, logger: Logger, given: string | undefined): Promise<string> {
  if (given) return given;
  const generated = randomBytes(32).toString("base64");
  await db.query("INSERT INTO notification.settings (key, value) VALUES ('secret_key', $1) ON CONFLICT (key) DO NOTHING", [generated]);
  const { rows } = await db.query<{ value: string }>("SELECT value FROM notification.settings WHERE key = 'secret_key'");
  logger.warn("LOTTY_NOTIFICATION_KEY is not set: channel secrets are sealed with a key stored in the notification database");
  return rows[0].value;
}
