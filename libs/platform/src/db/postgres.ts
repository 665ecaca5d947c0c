import pg from "pg";
import type { Db, QueryResult, Queryable } from "./types.js";

export interface PostgresOptions {
  /** Pool size (default 10). */
  max?: number;
  /** Server-side statement_timeout for every connection, so a stuck query cannot hold a client forever. */
  statementTimeoutMs?: number;
  /** How long opening a connection may take (default 5 s). */
  connectTimeoutMs?: number;
  /**
   * Client-side deadline for one statement's reply (default 60 s). A connection whose server
   * vanished without a FIN or RST never answers, and statement_timeout cannot help there: without
   * this the pool's clients stay stuck on such connections for good. A timed-out client is
   * destroyed, so the pool opens a fresh one.
   */
  queryTimeoutMs?: number;
}

type PgResult = pg.QueryResult<pg.QueryResultRow>;

/** With no params node-postgres uses the simple protocol, where one call may hold several statements. */
function toResult<R>(res: PgResult | PgResult[]): QueryResult<R> {
  const last = Array.isArray(res) ? res[res.length - 1] : res;
  if (!last) return { rows: [], rowCount: 0 };
  return { rows: last.rows as R[], rowCount: last.rowCount ?? last.rows.length };
}

function queryOn(client: pg.Pool | pg.PoolClient): Queryable["query"] {
  return async <R>(sql: string, params?: readonly unknown[]) =>
    toResult<R>((await client.query(sql, params as unknown[] | undefined)) as PgResult | PgResult[]);
}

export function openPostgres(url: string, opts: PostgresOptions = {}): Db {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    statement_timeout: opts.statementTimeoutMs,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 5_000,
    query_timeout: opts.queryTimeoutMs ?? 60_000,
  });
  // An idle client that loses its server emits 'error' on the pool; unhandled, that kills the
  // process. The pool already discards the client, and the next query reports the outage.
  pool.on("error", () => {});

  return {
    kind: "postgres",
    query: queryOn(pool),
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      let broken: Error | undefined;
      // The pool watches only idle clients for 'error': a server that goes away while this one is
      // checked out would emit it unheard and crash the process. The failing query reports the
      // outage; the client is marked broken so release destroys it.
      const onError = (err: Error) => (broken = err);
      client.on("error", onError);
      try {
        await client.query("BEGIN");
        const out = await fn({ query: queryOn(client) });
        await client.query("COMMIT");
        return out;
      } catch (err) {
        // A failed ROLLBACK means the connection is unusable: destroy it instead of pooling it.
        await client.query("ROLLBACK").catch((e: Error) => (broken = e));
        throw err;
      } finally {
        client.off("error", onError);
        client.release(broken);
      }
    },
    async ping() {
      await pool.query("SELECT 1");
    },
    close: () => pool.end(),
  };
}
