import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { dropDatabase, ensureDatabase, migrate, openPostgres, type Migration } from "../../src/db/index.js";
import { adminUrl, uniqueDbName, urlFor } from "./pg-env.js";

describe("ensureDatabase", () => {
  const name = uniqueDbName("ensure");
  afterAll(() => dropDatabase(adminUrl, name));

  it("creates a missing database once, even when called concurrently", async () => {
    await Promise.all(Array.from({ length: 4 }, () => ensureDatabase(adminUrl, name)));
    await ensureDatabase(adminUrl, name);
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
      expect(rowCount).toBe(1);
    } finally {
      await client.end();
    }
  });
});

describe("migrate on two replicas at once", () => {
  const name = uniqueDbName("race");
  const schema = "race";
  // The counter table lives outside the migrated schema: every run of a migration bumps it,
  // so a migration applied twice would show up as a count of 2.
  const migrations: Migration[] = [1, 2, 3].map((id) => ({
    id,
    name: `step${id}`,
    sql: `${id === 1 ? `CREATE TABLE ${schema}.t (id int);` : ""}
          INSERT INTO ${schema}.t VALUES (${id});
          INSERT INTO public.runs VALUES (${id});
          SELECT pg_sleep(0.05);`,
  }));

  beforeAll(async () => {
    await ensureDatabase(adminUrl, name);
    const setup = openPostgres(urlFor(name), { max: 1 });
    await setup.query("CREATE TABLE public.runs (id int)");
    await setup.close();
  });
  afterAll(() => dropDatabase(adminUrl, name));

  it("applies each migration exactly once and both succeed", async () => {
    const replicas = [openPostgres(urlFor(name), { max: 2 }), openPostgres(urlFor(name), { max: 2 })];
    try {
      const results = await Promise.all(replicas.flatMap((db) => [migrate(db, schema, migrations), migrate(db, schema, migrations)]));
      expect(results.flatMap((r) => r.applied).sort()).toEqual([1, 2, 3]);
      const runs = await replicas[0].query<{ id: number; n: string }>(
        "SELECT id, count(*) AS n FROM public.runs GROUP BY id ORDER BY id",
      );
      expect(runs.rows).toEqual([
        { id: 1, n: "1" },
        { id: 2, n: "1" },
        { id: 3, n: "1" },
      ]);
      expect((await replicas[1].query(`SELECT id FROM ${schema}.schema_migrations`)).rowCount).toBe(3);
    } finally {
      await Promise.all(replicas.map((db) => db.close()));
    }
  });
});

describe("migrate while an older replica writes (rolling deploy)", () => {
  const name = uniqueDbName("deadlock");
  const schema = "roll";

  beforeAll(async () => {
    await ensureDatabase(adminUrl, name);
    const setup = openPostgres(urlFor(name), { max: 1 });
    await migrate(setup, schema, [{ id: 1, name: "tables", sql: `CREATE TABLE ${schema}.t (id int); CREATE TABLE ${schema}.u (id int);` }]);
    await setup.close();
  });
  afterAll(() => dropDatabase(adminUrl, name));

  it("retries a migration that Postgres aborted as a deadlock victim, and applies it once", async () => {
    // The old replica writes t, then u; the migration alters u, then t. The migration waits first,
    // so its deadlock timer fires first and it is the transaction Postgres aborts.
    const old = new pg.Client({ connectionString: urlFor(name) });
    await old.connect();
    const db = openPostgres(urlFor(name), { max: 2 });
    try {
      await old.query("BEGIN");
      await old.query(`INSERT INTO ${schema}.t VALUES (1)`);
      const migrating = migrate(db, schema, [
        { id: 1, name: "tables", sql: "" },
        { id: 2, name: "columns", sql: `ALTER TABLE ${schema}.u ADD COLUMN a int; ALTER TABLE ${schema}.t ADD COLUMN b int;` },
      ]);
      await waitUntilSomeoneWaitsOnALock(old);
      await old.query(`INSERT INTO ${schema}.u VALUES (1)`);
      await old.query("COMMIT");
      expect(await migrating).toEqual({ applied: [2] });
      const { rows } = await db.query<{ column_name: string }>(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND column_name IN ('a', 'b') ORDER BY 1",
        [schema],
      );
      expect(rows.map((r) => r.column_name)).toEqual(["a", "b"]);
      expect((await db.query(`SELECT id FROM ${schema}.u`)).rowCount).toBe(1);
    } finally {
      await old.end();
      await db.close();
    }
  });
});

async function waitUntilSomeoneWaitsOnALock(client: pg.Client): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const { rowCount } = await client.query("SELECT 1 FROM pg_locks WHERE NOT granted");
    if (rowCount) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("the migration never waited on a lock");
}
