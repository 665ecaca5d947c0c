import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { loadMigrations, migrationLockKey } from "../../src/db/index.js";

const dirs: string[] = [];
function dirWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "lotty-migrations-"));
  dirs.push(dir);
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(dir, name), sql);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("loadMigrations", () => {
  it("reads NNN_name.sql files in id order, ignoring non-SQL files", () => {
    const dir = dirWith({ "002_add_x.sql": "B", "001_init.sql": "A", "010_later.sql": "J", "README.md": "-" });
    // 010 creates a gap, so check the sorted, contiguous case separately below.
    expect(() => loadMigrations(dir)).toThrow(/expected id 3 but found 010_later.sql/);
    rmSync(join(dir, "010_later.sql"));
    expect(loadMigrations(pathToFileURL(dir + "/"))).toEqual([
      { id: 1, name: "init", sql: "A" },
      { id: 2, name: "add_x", sql: "B" },
    ]);
  });

  it("returns nothing for an empty directory", () => {
    expect(loadMigrations(dirWith({}))).toEqual([]);
  });

  it("refuses bad names", () => {
    expect(() => loadMigrations(dirWith({ "001_init.sql": "", "2-next.sql": "" }))).toThrow(/bad file name\(s\) 2-next.sql/);
    expect(() => loadMigrations(dirWith({ "01_init.sql": "" }))).toThrow(/bad file name/);
  });

  it("refuses duplicate ids", () => {
    expect(() => loadMigrations(dirWith({ "001_init.sql": "", "001_again.sql": "" }))).toThrow(/duplicate id 1/);
  });

  it("refuses a history that does not start at 1", () => {
    expect(() => loadMigrations(dirWith({ "002_init.sql": "" }))).toThrow(/expected id 1 but found 002_init.sql/);
  });
});

describe("migrationLockKey", () => {
  it("is a stable signed 64-bit key per schema", () => {
    const key = migrationLockKey("experiment");
    expect(migrationLockKey("experiment")).toBe(key);
    expect(migrationLockKey("decision")).not.toBe(key);
    expect(BigInt.asIntN(64, key)).toBe(key);
  });
});
