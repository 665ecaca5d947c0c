/** The slice of node-postgres that both Postgres (pg.Pool) and PGlite can serve. */
export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

export interface Queryable {
  /** Plain parameterized SQL ($1, $2, ...). Services write schema-qualified table names. */
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
}

export interface Db extends Queryable {
  readonly kind: "postgres" | "pglite";
  /** Runs fn in one transaction: COMMIT when it resolves, ROLLBACK when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Cheap liveness probe used by health checks. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** One numbered migration: services keep them as `store/migrations/NNN_name.sql`. */
export interface Migration {
  id: number;
  name: string;
  sql: string;
}
