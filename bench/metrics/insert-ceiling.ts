/**
 * The ceiling under the ingest figure: batches of 1000 rows, one transaction each, INSERT ...
 * SELECT FROM unnest, nothing else (no validation, attribution or rollups), on 1 and 3
 * connections, for table shapes from the widest to the narrowest:
 * - wide: metrics.events as migration 001 made it (9 columns, text keys in the database's
 *   collation, (subject_id, occur_time) index), ON CONFLICT DO NOTHING as ingest wrote it then;
 * - narrow: metrics.events as migration 003 makes it (7 columns, keys in the "C" collation),
 *   the plain INSERT ingest now tries first;
 * - dedup: nothing but the event id, the least any idempotent store must write per event.
 * Prints rows/s and the CPU each row cost in the Postgres backends and in this process.
 *
 *   node --import tsx bench/metrics/insert-ceiling.ts [--rows 300000] [--shapes wide,narrow,dedup]
 */
import { dropDatabase, ensureDatabase, openPostgres, type Queryable } from "@lotty/platform/db";
import { randomBytes } from "node:crypto";
import { loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { startCpuSplit } from "./cpu-split.js";

const { values: args } = parseArgs({
  options: {
    rows: { type: "string", default: "300000" },
    shapes: { type: "string", default: "wide,narrow,dedup" },
    pg: { type: "string", default: "postgres://postgres@127.0.0.1:5432/postgres" },
  },
});
const ROWS = Number(args.rows);
const BATCH = 1000;
const name = `lotty_bench_ceiling_${randomBytes(4).toString("hex")}`;

interface Shape {
  ddl: string[];
  insert: (tx: Queryable, from: number, now: number) => Promise<unknown>;
}

const ids = (from: number) => Array.from({ length: BATCH }, (_, i) => `e${from + i}`);
const subjects = (from: number) => Array.from({ length: BATCH }, (_, i) => `u${Math.floor((from + i) / 10)}`);
const same = <T>(x: T) => Array.from({ length: BATCH }, () => x);

const SHAPES: Record<string, Shape> = {
  wide: {
    ddl: [
      `CREATE TABLE ev (event_id text PRIMARY KEY, type text NOT NULL, decision_id text NOT NULL, subject_id text NOT NULL,
         occur_time timestamptz NOT NULL, value float8, requires_exposure bool NOT NULL, experiment_id text NOT NULL, variant text NOT NULL)`,
      "CREATE INDEX ON ev (subject_id, occur_time)",
    ],
    insert: (tx, from, now) =>
      tx.query(
        `INSERT INTO ev SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::float8[], $7::bool[], $8::text[], $9::text[])
         ON CONFLICT (event_id) DO NOTHING`,
        [ids(from), same("pageview"), same(""), subjects(from), ids(from).map((_, i) => new Date(now - i * 1000).toISOString()), same(null), same(false), same(""), same("")],
      ),
  },
  narrow: {
    ddl: [
      `CREATE TABLE ev (event_id text COLLATE "C" PRIMARY KEY, type text COLLATE "C" NOT NULL, decision_id text COLLATE "C" NOT NULL,
         subject_id text COLLATE "C" NOT NULL, occur_time timestamptz NOT NULL, value float8, requires_exposure bool NOT NULL)`,
      "CREATE INDEX ON ev (subject_id, occur_time) WHERE NOT requires_exposure AND type <> 'exposure'",
    ],
    insert: (tx, from, now) =>
      tx.query(
        `INSERT INTO ev SELECT e, t, d, s, to_timestamp(ms / 1000), v, r
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::float8[], $7::bool[]) AS u(e, t, d, s, ms, v, r)`,
        [ids(from), same("pageview"), same(""), subjects(from), ids(from).map((_, i) => now - i * 1000), same(null), same(false)],
      ),
  },
  dedup: {
    ddl: [`CREATE TABLE ev (event_id text COLLATE "C" PRIMARY KEY)`],
    insert: (tx, from) => tx.query("INSERT INTO ev SELECT * FROM unnest($1::text[])", [ids(from)]),
  },
};

await ensureDatabase(args.pg!, name);
const db = openPostgres(args.pg!.replace(/\/[^/]*$/, `/${name}`), { max: 3 });
const backends = async () => (await db.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")).rows.map((r) => r.pid);
try {
  const results: string[] = [`load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`, "", "| shape | connections | rows/s | Postgres CPU µs/row | node CPU µs/row |", "|---|---|---|---|---|"];
  for (const shapeName of args.shapes!.split(",")) {
    const shape = SHAPES[shapeName];
    if (!shape) throw new Error(`unknown shape ${shapeName}; known: ${Object.keys(SHAPES).join(", ")}`);
    for (const connections of [1, 3]) {
      await db.query("DROP TABLE IF EXISTS ev");
      for (const ddl of shape.ddl) await db.query(ddl);
      let next = 0;
      const now = Date.now();
      const cpu = startCpuSplit(200);
      cpu.tag(await backends(), "postgres: this database");
      const t0 = performance.now();
      const worker = async () => {
        while (next < ROWS) {
          const from = next;
          next += BATCH;
          await db.transaction((tx) => shape.insert(tx, from, now));
        }
      };
      await Promise.all(Array.from({ length: connections }, worker));
      const wallS = (performance.now() - t0) / 1000;
      cpu.tag(await backends(), "postgres: this database");
      const split = cpu.stop();
      const perRow = (s: number) => ((s * 1e6) / ROWS).toFixed(1);
      results.push(
        `| ${shapeName} | ${connections} | ${Math.round(ROWS / wallS).toLocaleString("en-US")} | ${perRow(split.seconds("postgres: this database"))} | ${perRow(split.seconds("this node process"))} |`,
      );
    }
  }
  console.log(results.join("\n"));
} finally {
  await db.close();
  await dropDatabase(args.pg!, name);
}
