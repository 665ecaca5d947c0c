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
