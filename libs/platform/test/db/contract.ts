import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate, type Db, type Migration } from "../../src/db/index.js";

let schemaSeq = 0;
/** Each test gets its own schema so tests sharing one database cannot see each other. */
function freshSchema(): string {
  return `contract_${process.pid}_${++schemaSeq}`;
}

function itemsMigrations(schema: string): Migration[] {
  return [
    { id: 1, name: "init", sql: `CREATE TABLE ${schema}.items (id bigserial PRIMARY KEY, name text NOT NULL, meta jsonb);` },
    {
      id: 2,
      name: "add_price",
      sql: `ALTER TABLE ${schema}.items ADD COLUMN price numeric;
            CREATE INDEX items_name_idx ON ${schema}.items (name);`,
    },
  ];
}

interface Item {
  id: string;
  name: string;
  meta: unknown;
}

/** The behaviour every Db backend must share; run once per backend. */
export function dbContract(label: string, open: () => Promise<Db>): void {
  describe(`Db contract: ${label}`, () => {
    let db: Db;
    beforeAll(async () => {
      db = await open();
    });
    afterAll(async () => {
      await db?.close();
    });

    async function withItems(): Promise<string> {
      const schema = freshSchema();
      await migrate(db, schema, itemsMigrations(schema));
      return schema;
    }

    it("passes parameters and reports rows and rowCount", async () => {
      const s = await withItems();
      const ins = await db.query<Item>(
        `INSERT INTO ${s}.items (name, meta) VALUES ($1, $2), ($3, NULL) RETURNING id, name, meta`,
        ["it's", JSON.stringify({ a: [1, 2] }), "b"],
      );
      expect(ins.rowCount).toBe(2);
      expect(ins.rows.map((r) => r.name)).toEqual(["it's", "b"]);
      expect(ins.rows[0].meta).toEqual({ a: [1, 2] });
      // int8 comes back as a string on both backends (no silent precision loss).
      expect(typeof ins.rows[0].id).toBe("string");

      const sel = await db.query<{ name: string }>(`SELECT name FROM ${s}.items WHERE name = $1`, ["b"]);
      expect(sel).toEqual({ rows: [{ name: "b" }], rowCount: 1 });

      const upd = await db.query(`UPDATE ${s}.items SET price = $1 WHERE name <> $2`, [9.5, "nope"]);
      expect(upd.rowCount).toBe(2);
      const none = await db.query(`DELETE FROM ${s}.items WHERE name = $1`, ["missing"]);
      expect(none).toEqual({ rows: [], rowCount: 0 });
    });

    it("runs several statements in one call without params, returning the last result", async () => {
      const res = await db.query<{ n: number }>("SELECT 1 AS n; SELECT 2 AS n");
      expect(res.rows).toEqual([{ n: 2 }]);
    });

    it("rejects bad SQL and stays usable", async () => {
      await expect(db.query("SELEC 1")).rejects.toThrow(/syntax/);
      await expect(db.query("SELECT $1::int AS n", [7])).resolves.toMatchObject({ rows: [{ n: 7 }] });
    });

    it("commits a transaction and returns its value", async () => {
      const s = await withItems();
      const out = await db.transaction(async (tx) => {
        await tx.query(`INSERT INTO ${s}.items (name) VALUES ($1)`, ["kept"]);
        const { rows } = await tx.query<{ n: string }>(`SELECT count(*) AS n FROM ${s}.items`);
        return rows[0].n;
      });
      expect(out).toBe("1");
      const { rows } = await db.query(`SELECT name FROM ${s}.items`);
      expect(rows).toEqual([{ name: "kept" }]);
    });

    it("rolls a transaction back when fn throws, and rethrows", async () => {
      const s = await withItems();
      const boom = new Error("boom");
      await expect(
        db.transaction(async (tx) => {
          await tx.query(`INSERT INTO ${s}.items (name) VALUES ($1)`, ["lost"]);
          throw boom;
        }),
      ).rejects.toBe(boom);
      await expect(
        db.transaction((tx) => tx.query(`INSERT INTO ${s}.items (name) VALUES (NULL)`)),
      ).rejects.toThrow(/null/i);
      expect((await db.query(`SELECT * FROM ${s}.items`)).rowCount).toBe(0);
    });

    it("migrates idempotently and records history", async () => {
      const s = freshSchema();
      const all = itemsMigrations(s);
      expect(await migrate(db, s, all.slice(0, 1))).toEqual({ applied: [1] });
      expect(await migrate(db, s, all)).toEqual({ applied: [2] });
      expect(await migrate(db, s, all)).toEqual({ applied: [] });
      const { rows } = await db.query(`SELECT id, name FROM ${s}.schema_migrations ORDER BY id`);
      expect(rows).toEqual([
        { id: 1, name: "init" },
        { id: 2, name: "add_price" },
      ]);
      await db.query(`INSERT INTO ${s}.items (name, price) VALUES ('x', 1.25)`);
    });

    it("applies nothing when one migration fails", async () => {
      const s = freshSchema();
      const [first] = itemsMigrations(s);
      const broken: Migration = { id: 2, name: "broken", sql: `ALTER TABLE ${s}.items ADD COLUMN oops nonsense_type` };
      await expect(migrate(db, s, [first, broken])).rejects.toThrow(/nonsense_type/);
      const { rows } = await db.query("SELECT 1 FROM information_schema.schemata WHERE schema_name = $1", [s]);
      expect(rows).toEqual([]);
    });

    it("refuses a changed history but tolerates migrations from a newer release", async () => {
      const s = await withItems();
      const [first, second] = itemsMigrations(s);
      await expect(migrate(db, s, [first, { ...second, name: "renamed" }])).rejects.toThrow(
        /records migration 2 "add_price" but the code has "renamed"/,
      );
      // An older release (only migration 1) restarting after a newer one migrated.
      expect(await migrate(db, s, [first])).toEqual({ applied: [] });
    });

    it("isolates schemas that share one database", async () => {
      const a = await withItems();
      const b = freshSchema();
      const onlyB: Migration[] = [{ id: 1, name: "other", sql: `CREATE TABLE ${b}.items (name text)` }];
      expect(await migrate(db, b, onlyB)).toEqual({ applied: [1] });
      await db.query(`INSERT INTO ${a}.items (name) VALUES ('in a')`);
      expect((await db.query(`SELECT * FROM ${b}.items`)).rowCount).toBe(0);
      expect((await db.query(`SELECT name FROM ${b}.schema_migrations`)).rows).toEqual([{ name: "other" }]);
      await expect(migrate(db, "bad-name; DROP", onlyB)).rejects.toThrow(/invalid schema name/);
    });

    it("answers ping", async () => {
      await expect(db.ping()).resolves.toBeUndefined();
    });
  });
}
