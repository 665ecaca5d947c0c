import { randomBytes } from "node:crypto";

/** Admin connection for integration tests (trust auth on the local test server). */
export const adminUrl = process.env.LOTTY_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

/** A database name no other test file or run uses. */
export function uniqueDbName(label: string): string {
  return `lotty_test_${label}_${process.pid}_${randomBytes(4).toString("hex")}`;
}

export function urlFor(database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}
