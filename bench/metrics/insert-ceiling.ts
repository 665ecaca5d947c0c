/**
 * The ceiling under the ingest figure: batches of 1000 rows into a table shaped like
 * metrics.events (text primary key, (subject_id, occur_time) index), one transaction each, with
 * nothing else (no validation, attribution or rollups), on 1 and 3 connections.
 *
 *   node --import tsx bench/metrics/insert-ceiling.ts [--rows 300000]
 */
import { dropDatabase, ensureDatabase, openPostgres } from "@lotty/platform/db";
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";

const { values: args } = parseArgs({
  options: { rows: { type: "string", default: "300000" }, pg: { type: "string", default: "postgres://postgres@127.0.0.1:5432/postgres" } },
});
const ROWS = Number(args.rows);
const BATCH = 1000;
const name = `lotty_bench_ceiling_${randomBytes(4).toString("hex")}`;

await ensureDatabase(args.pg!, name);
const db = openPostgres(args.pg!.replace(/\/[^/]*$/, `/${name}`), { max: 3 });
try {
  const results: string[] = ["| connections | rows/s (1000-row INSERT ... SELECT FROM unnest, ON CONFLICT DO NOTHING) |", "|---|---|"];
  for (const connections of [1, 3]) {
    await db.query("DROP TABLE IF EXISTS ev");
    await db.query(`CREATE TABLE ev (event_id text PRIMARY KEY, type text NOT NULL, decision_id text NOT NULL, subject_id text NOT NULL,
                      occur_time timestamptz NOT NULL, value float8, requires_exposure bool NOT NULL, experiment_id text NOT NULL, variant text NOT NULL)`);
    await db.query("CREATE INDEX ON ev (subject_id, occur_time)");
    let next = 0;
    const now = Date.now();
    const t0 = performance.now();
    const worker = async () => {
      while (next < ROWS) {
        const from = next;
        next += BATCH;
        const ids = Array.from({ length: BATCH }, (_, i) => `e${from + i}`);
        await db.transaction((tx) =>
          tx.query(
            `INSERT INTO ev SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::float8[], $7::bool[], $8::text[], $9::text[])
             ON CONFLICT (event_id) DO NOTHING`,
            [
              ids,
              ids.map(() => "pageview"),
              ids.map(() => ""),
              ids.map((_, i) => `u${Math.floor((from + i) / 10)}`),
              ids.map((_, i) => new Date(now - i * 1000).toISOString()),
              ids.map(() => null),
              ids.map(() => false),
              ids.map(() => ""),
              ids.map(() => ""),
            ],
          ),
        );
      }
    };
    await Promise.all(Array.from({ length: connections }, worker));
    results.push(`| ${connections} | ${Math.round(ROWS / ((performance.now() - t0) / 1000)).toLocaleString("en-US")} |`);
  }
  console.log(results.join("\n"));
} finally {
  await db.close();
  await dropDatabase(args.pg!, name);
}
