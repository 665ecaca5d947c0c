import { invalidArgument } from "@lotty/platform/rpc";

/** Keyset position: the (time, id) of the last row of the previous page. */
export interface Cursor {
  time: Date;
  id: string;
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.time.toISOString(), c.id])).toString("base64url");
}

export function decodeCursor(token: string): Cursor | undefined {
  if (!token) return undefined;
  try {
    const [time, id] = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as [string, string];
    const d = new Date(time);
    if (typeof id !== "string" || Number.isNaN(d.getTime())) throw new Error("bad cursor");
    return { time: d, id };
  } catch {
    throw invalidArgument("page_token", "not a token returned by this RPC");
  }
}

export function pageSize(requested: number): number {
  if (requested < 0) throw invalidArgument("page_size", "must not be negative");
  return Math.min(requested || DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
}

/** Fetch limit+1 rows; the extra row only says whether another page exists. */
export function paginate<T>(rows: T[], limit: number, key: (row: T) => Cursor): { items: T[]; nextPageToken: string } {
  if (rows.length <= limit) return { items: rows, nextPageToken: "" };
  const items = rows.slice(0, limit);
  return { items, nextPageToken: encodeCursor(key(items[items.length - 1])) };
}
