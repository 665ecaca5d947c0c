// Runs at `npm install`: initialises an empty embedded Postgres once and keeps a dump of it, so
// the first `npm start` unpacks it (~1.6 s) instead of running initdb (~5 s).
import { mkdirSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const out = new URL("../node_modules/.cache/lotty/pglite-template.tgz", import.meta.url).pathname;
if (existsSync(out) && !process.argv.includes("--force")) process.exit(0);
let PGlite;
try {
  ({ PGlite } = await import("@electric-sql/pglite"));
} catch {
  process.exit(0); // not installed (yet): the embedded default falls back to initdb
}
const dir = join(tmpdir(), `lotty-pglite-template-${process.pid}`);
rmSync(dir, { recursive: true, force: true });
const pg = await PGlite.create({ dataDir: dir });
const dump = await pg.dumpDataDir("gzip");
await pg.close();
mkdirSync(join(out, ".."), { recursive: true });
writeFileSync(out, Buffer.from(await dump.arrayBuffer()));
rmSync(dir, { recursive: true, force: true });
