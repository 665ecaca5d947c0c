import { openPglite, type Db } from "@lotty/platform/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { arrayLiteral, columnsOf } from "../src/store/columns.js";

let db: Db;
beforeAll(async () => {
  db = await openPglite();
}, 30_000);
afterAll(async () => {
  await db.close();
});

describe("array literals for unnest parameters", () => {
  it("carry any text through Postgres unchanged, nulls included", async () => {
    // Subject ids are free text: quotes, backslashes, braces, commas, blanks, NULL-looking words.
    const texts = ["plain", 'say "hi"', "back\\slash", "{braces}", "a,b", " padded ", "", "NULL", "null", "ünï💥", "\\\"", "tab\tnew\nline", null];
    const { rows } = await db.query<{ v: string | null }>("SELECT unnest($1::text[]) AS v", [arrayLiteral(texts)]);
    expect(rows.map((r) => r.v)).toEqual(texts);
  });

  it("carry numbers exactly and booleans", async () => {
    const numbers = [0, -0.5, 1e-7, 123456789.125, 1.7976931348623157e308, 5e-324, 1e21, null];
    const { rows } = await db.query<{ v: number | null; b: boolean }>("SELECT * FROM unnest($1::float8[], $2::bool[]) AS u(v, b)", [
      arrayLiteral(numbers),
      arrayLiteral([true, false, true, false, true, false, true, false]),
    ]);
    expect(rows.map((r) => (r.v === null ? null : Number(r.v)))).toEqual(numbers);
    expect(rows.map((r) => r.b)).toEqual([true, false, true, false, true, false, true, false]);
  });

  it("make one literal per column, rows in order", () => {
    expect(columnsOf([{ a: "x", n: 1 }, { a: 'y"', n: 2 }], (r) => r.a, (r) => r.n)).toEqual(['{"x","y\\""}', "{1,2}"]);
  });
});
