export type { Db, Migration, QueryResult, Queryable } from "./types.js";
export { openPostgres, type PostgresOptions } from "./postgres.js";
export { openPglite } from "./pglite.js";
export { ensureDatabase, dropDatabase } from "./ensure-database.js";
export { loadMigrations } from "./migrations.js";
export { migrate, migrationLockKey } from "./migrate.js";
