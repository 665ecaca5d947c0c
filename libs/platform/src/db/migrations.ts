import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Migration } from "./types.js";

const FILE_NAME = /^(\d{3,})_([a-z0-9_]+)\.sql$/;

/**
 * Reads `NNN_name.sql` files from dir, sorted by id. Other files (no .sql suffix) are ignored;
 * a .sql file with another name, a duplicate id or a gap in the ids is an error, so a typo
 * cannot silently skip a migration.
 */
export function loadMigrations(dir: string | URL): Migration[] {
  const path = dir instanceof URL ? fileURLToPath(dir) : dir;
  const files = readdirSync(path).filter((f) => f.endsWith(".sql"));
  const bad = files.filter((f) => !FILE_NAME.test(f));
  if (bad.length > 0) {
    throw new Error(`migrations in ${path}: bad file name(s) ${bad.join(", ")}; expected NNN_name.sql (e.g. 001_init.sql)`);
  }
  const migrations = files
    .map((file) => {
      const [, id, name] = FILE_NAME.exec(file)!;
      return { id: Number(id), name, sql: readFileSync(join(path, file), "utf8"), file };
    })
    .sort((a, b) => a.id - b.id);

  migrations.forEach((m, i) => {
    const prev = migrations[i - 1];
    if (prev && prev.id === m.id) {
      throw new Error(`migrations in ${path}: duplicate id ${m.id} (${prev.file}, ${m.file})`);
    }
    if (m.id !== i + 1) {
      throw new Error(`migrations in ${path}: expected id ${i + 1} but found ${m.file} (ids must start at 1 with no gaps)`);
    }
  });
  return migrations.map(({ id, name, sql }) => ({ id, name, sql }));
}
