// Runs the whole vitest suite (unit, integration on real Postgres/Redis/NATS, end-to-end) and
// closes with the plain `N passed, N failed` line CI reads from vitest's JSON report.
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";

// Integration and end-to-end tests need PostgreSQL, Redis and NATS: start any that is down.
if (process.env.LOTTY_SKIP_SERVICES !== "1") {
  const ensure = spawnSync("bash", ["scripts/ensure-services.sh"], { stdio: "inherit" });
  if (ensure.status !== 0) process.exit(ensure.status ?? 1);
}

const out = "vitest.json";
rmSync(out, { force: true });
const args = ["vitest", "run", "--reporter=default", "--reporter=json", `--outputFile=${out}`, ...process.argv.slice(2)];
const run = spawnSync("npx", args, { stdio: "inherit" });
let report;
try {
  report = JSON.parse(readFileSync(out, "utf8"));
} catch {
  console.error("vitest wrote no JSON report");
  process.exit(run.status || 1);
}
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`\n${report.numPassedTests} passed, ${report.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(run.status ?? 1);
