import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PGlite, types, type Results } from "@electric-sql/pglite";
import type { Db, QueryResult, Queryable } from "./types.js";

const INT8_OID = 20;
const INT8_ARRAY_OID = 1016;

/**
 * Opens an embedded Postgres (in memory when dataDir is undefined).
 *
 * Open time measured on the 2-core dev machine (PGlite 0.5.16): in memory ~1.9 s and a fresh
 * dataDir ~3.8–5.5 s (both run initdb), an existing dataDir ~0.5 s. So the embedded default
 * shares ONE instance across services (one schema each) and tests open one per file.
 */
export async function openPglite(dataDir?: string, opts: { template?: string } = {}): Promise<Db> {
  const pg = await PGlite.create({
    dataDir,
    loadDataDir: templateFor(dataDir, opts.template),
    // node-postgres returns int8 as strings (no silent precision loss); match it so code behaves
    // the same on both backends.
    parsers: {
      [INT8_OID]: (x: string) => x,
      [INT8_ARRAY_OID]: (x: string) => types.arrayParser(x, (s: string) => s, INT8_ARRAY_OID),
    },
  });

  return {
    kind: "pglite",
    query: queryOn(pg),
    // PGlite is a single connection: BEGIN/COMMIT issued through db.query would interleave with
    // other callers, so its own transaction() (which serialises them) is the only safe way.
    transaction: <T>(fn: (tx: Queryable) => Promise<T>) => pg.transaction((tx) => fn({ query: queryOn(tx) })),
    async ping() {
      await pg.query("SELECT 1");
    },
    close: () => pg.close(),
  };
}

/**
 * A fresh data directory costs initdb (~5 s here); unpacking a template made once at install
 * time (scripts/pglite-template.mjs, a `dumpDataDir` of an empty cluster) takes ~1.6 s. Only
 * used when the directory holds no cluster yet.
 */
function templateFor(dataDir: string | undefined, template: string | undefined): Blob | undefined {
  if (!dataDir || !template || !existsSync(template) || existsSync(join(dataDir, "PG_VERSION"))) return undefined;
  return new Blob([readFileSync(template)]);
}

interface PgliteQueryable {
  query<R>(sql: string, params?: unknown[]): Promise<Results<R>>;
  exec(sql: string): Promise<Array<Results>>;
}

function toResult<R>(res: Results<R> | undefined): QueryResult<R> {
  if (!res) return { rows: [], rowCount: 0 };
  // affectedRows is 0 for SELECT; rows is empty for DML without RETURNING.
  return { rows: res.rows, rowCount: Math.max(res.affectedRows ?? 0, res.rows.length) };
}

function queryOn(conn: PgliteQueryable): Queryable["query"] {
  return async <R>(sql: string, params?: readonly unknown[]) => {
    if (params && params.length > 0) return toResult(await conn.query<R>(sql, [...params]));
    // Like node-postgres without params: the simple protocol, so migrations may hold several statements.
    const all = await conn.exec(sql);
    return toResult(all[all.length - 1] as Results<R> | undefined);
  };
}
