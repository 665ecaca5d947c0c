import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openPostgres, type Db } from "../../src/db/index.js";
import { adminUrl } from "./pg-env.js";

// Found by the platform chaos test: Postgres killed while a transaction held a client crashed the
// service with an unhandled 'error' event (the pool only listens on idle clients).
describe("postgres transaction whose connection is terminated while it is checked out", () => {
  let db: Db;
  let admin: pg.Client;

  beforeAll(async () => {
    db = openPostgres(adminUrl, { max: 2 });
    admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
  });

  afterAll(async () => {
    await db.close();
    await admin.end();
  });

  it("rejects the transaction instead of crashing the process, and the pool serves again", async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    // Vitest would also report it, but then as a run error rather than this test's failure.
    process.prependListener("uncaughtException", onUncaught);
    try {
      const tx = db.transaction(async (q) => {
        const { rows } = await q.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
        await admin.query("SELECT pg_terminate_backend($1)", [rows[0].pid]);
        // Between statements, as when the transaction awaits other work: the connection ends now.
        await new Promise((r) => setTimeout(r, 200));
        await q.query("SELECT 1");
      });
      await expect(tx).rejects.toThrow(/connection|terminat/i);
      expect(uncaught).toEqual([]);
      const { rows } = await db.query<{ ok: number }>("SELECT 1 AS ok");
      expect(rows).toEqual([{ ok: 1 }]);
    } finally {
      process.off("uncaughtException", onUncaught);
    }
  });
});
