import { invalidArgument } from "./errors.js";

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

export interface Page {
  limit: number;
  /** Last key of the previous page; undefined on the first page. */
  after?: string;
}

/** Reads page_size/page_token; tokens are opaque (base64url of the last key seen). */
export function pageOf(pageSize: number, pageToken: string): Page {
  if (pageSize < 0) throw invalidArgument("page_size", "must not be negative");
  const limit = Math.min(pageSize || DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
  if (pageToken === "") return { limit };
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(pageToken, "base64url").toString("utf8"));
  } catch {
    decoded = undefined;
  }
  const after = (decoded as { a?: unknown } | undefined)?.a;
  if (typeof after !== "string") throw invalidArgument("page_token", "is not a token this service issued");
  return { limit, after };
}

/** Given limit+1 fetched rows, the page and the token for the next one. */
export function nextPage<T>(rows: readonly T[], limit: number, keyOf: (row: T) => string): { items: T[]; nextPageToken: string } {
  if (rows.length <= limit) return { items: [...rows], nextPageToken: "" };
  const items = rows.slice(0, limit);
  const token = Buffer.from(JSON.stringify({ a: keyOf(items[items.length - 1]) }), "utf8").toString("base64url");
  return { items, nextPageToken: token };
}
