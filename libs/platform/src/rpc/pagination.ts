import { invalidArgument } from "./errors.js";

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

export interface Page {
  limit: number;
  /** Key of the last item of the previous page; undefined on the first page. */
  after?: string;
}

/** Reads page_size/page_token; tokens are opaque (base64url JSON of the last key seen). */
export function pageOf(pageSize: number, pageToken: string): Page {
  if (pageSize < 0) throw invalidArgument("page_size", "must not be negative");
  const limit = Math.min(pageSize || DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
  if (pageToken === "") return { limit };
  let after: unknown;
  try {
    after = (JSON.parse(Buffer.from(pageToken, "base64url").toString("utf8")) as { a?: unknown }).a;
  } catch {
    after = undefined;
  }
  if (typeof after !== "string") throw invalidArgument("page_token", "is not a token this service issued");
  return { limit, after };
}

/** Given up to limit+1 rows, the page and the token for the next one. */
export function nextPage<T>(rows: readonly T[], limit: number, keyOf: (row: T) => string): { items: T[]; nextPageToken: string } {
  if (rows.length <= limit) return { items: [...rows], nextPageToken: "" };
  const items = rows.slice(0, limit);
  return { items, nextPageToken: Buffer.from(JSON.stringify({ a: keyOf(items[items.length - 1]) })).toString("base64url") };
}
