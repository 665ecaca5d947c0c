/**
 * Parameters for `unnest($1::type[], $2::type[], …)`: one array per column, rows in order. Times
 * travel as epoch milliseconds, `to_timestamp(ms / 1000)` in SQL: cheaper to encode and parse than
 * ISO strings, and exact to the millisecond (a Date's precision).
 */
export function columnsOf<T>(rows: readonly T[], ...columns: ((row: T) => unknown)[]): unknown[][] {
  return columns.map((column) => rows.map(column));
}
