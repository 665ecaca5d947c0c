// In-process evaluations/s of Lotty's decide engine against peer engines, on the peers' workload
// (TOOLCHAIN.md §6). Usage: node --import tsx bench/engine/engine.bench.ts [--n 1000000] [--warmup 100000] [--rounds 3]
// Rounds are interleaved across engines and the best round counts (this machine is shared and
// its load drifts); CPU time per op is printed beside wall time because it is steadier under load.
// Every engine's output is checked: the value shares, identical output across rounds, and for
// Lotty every single decision against a node:crypto + BigInt reference of the Lotty formula.
import { createHash, hash as cryptoHash } from "node:crypto";
import { cpus, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { sha256Joined } from "../../libs/bucketing/src/sha256.js";
import { flagd, growthbook, lotty, SEED, unleash, type Engine } from "./engines.js";

const UUID_SEED = "3f2c9a1e-7b4d-4e8a-9c61-0d5f2b7e8a93";

const { values: args } = parseArgs({
  options: { n: { type: "string", default: "1000000" }, warmup: { type: "string", default: "100000" }, rounds: { type: "string", default: "3" } },
});
const N = Number(args.n);
const WARMUP = Number(args.warmup);
const ROUNDS = Math.max(1, Number(args.rounds));

// Half the subjects are in the US, chosen by a fixed xorshift stream (not alternating, so branch
// prediction does not flatter anyone).
function population(prefix: string, n: number): { ids: string[]; countries: string[] } {
  const ids = new Array<string>(n);
  const countries = new Array<string>(n);
  let x = 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    ids[i] = `${prefix}-${i}`;
    countries[i] = x & 1 ? "US" : "FR";
  }
  return { ids, countries };
}

const CODES = ["", "a", "b", "control", "on", "off"];
const codeOf = (v: string): number => {
  const c = CODES.indexOf(v);
  return c < 0 ? 0 : c;
};

interface Round {
  wallNs: number;
  cpuNs: number;
  out: Uint8Array;
}

function run(engine: Engine, ids: string[], countries: string[]): Round {
  const out = new Uint8Array(ids.length);
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < ids.length; i++) out[i] = codeOf(engine.evaluate(ids[i], countries[i]));
  const wallNs = Number(process.hrtime.bigint() - t0);
  const cpu = process.cpuUsage(cpu0);
  return { wallNs, cpuNs: (cpu.user + cpu.system) * 1000, out };
}

function refBucket(subject: string, seed: string, salt: string): bigint {
  const digest = createHash("sha256").update(`${subject}:${seed}:${salt}`, "utf8").digest();
  return digest.readBigUInt64BE(0) % 10000n;
}

/** Problems with an engine's output; empty when it is right. */
function verify(engine: Engine, rounds: Round[], ids: string[], countries: string[]): string[] {
  const problems: string[] = [];
  const first = rounds[0].out;
  if (rounds.some((r) => Buffer.compare(r.out, first) !== 0)) problems.push("output differs between rounds");
  const counts = new Map<string, number>();
  for (const c of first) counts.set(CODES[c], (counts.get(CODES[c]) ?? 0) + 1);
  for (const [value, share] of Object.entries(engine.expected)) {
    const got = (counts.get(value) ?? 0) / first.length;
    if (Math.abs(got - share) > 0.01) problems.push(`share of "${value}" is ${got.toFixed(4)}, expected ≈ ${share}`);
  }
  for (const value of counts.keys()) if (!(value in engine.expected)) problems.push(`unexpected value "${value}"`);
  const seed = engine.seed;
  if (seed !== undefined) {
    // Weights a:50, b:50 → "a" iff 10000 * 50 > bucket * 100.
    let mismatches = 0;
    for (let i = 0; i < ids.length; i++) {
      const want = countries[i] !== "US" ? "control" : refBucket(ids[i], seed, "variant") * 100n < 500_000n ? "a" : "b";
      if (CODES[first[i]] !== want) mismatches++;
    }
    if (mismatches > 0) problems.push(`${mismatches} decisions differ from the node:crypto reference`);
  }
  return problems;
}

/** ns per sha256 of the bucketing key: node:crypto one-shot and streaming vs the hand-written one. */
function hashCosts(ids: string[]): { name: string; ns: number }[] {
  const n = Math.min(ids.length, 300_000);
  let sink = 0;
  const variants: { name: string; f: (s: string) => number }[] = [
    { name: "sha256Joined (libs/bucketing, hand-written)", f: (s) => sha256Joined(s, SEED, "variant")[0] },
    { name: 'crypto.hash("sha256", key, "buffer")', f: (s) => cryptoHash("sha256", `${s}:${SEED}:variant`, "buffer")[0] },
    { name: "crypto.createHash().update().digest()", f: (s) => createHash("sha256").update(`${s}:${SEED}:variant`).digest()[0] },
    { name: "sha256Joined, UUID seed (2 blocks)", f: (s) => sha256Joined(s, UUID_SEED, "variant")[0] },
    { name: 'crypto.hash, UUID seed (2 blocks)', f: (s) => cryptoHash("sha256", `${s}:${UUID_SEED}:variant`, "buffer")[0] },
  ];
  const best = variants.map(() => Infinity);
  for (let r = 0; r < 3; r++) {
    variants.forEach((v, j) => {
      const c0 = process.cpuUsage();
      for (let i = 0; i < n; i++) sink ^= v.f(ids[i]);
      const c = process.cpuUsage(c0);
      best[j] = Math.min(best[j], ((c.user + c.system) * 1000) / n);
    });
  }
  if (sink === 0.5) console.log(sink); // keeps the loops observable
  return variants.map((v, j) => ({ name: v.name, ns: best[j] }));
}

const fmt = (x: number, digits = 0) => x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main(): Promise<void> {
  const warm = population("warmup", WARMUP);
  const { ids, countries } = population("user", N);
  const u = await unleash();
  // GrowthBook second: ratios are against it. The UUID-seed row is Lotty with two-block keys.
  const engines = [lotty(), growthbook(), flagd(), u.variant, u.enabled, lotty(UUID_SEED)];
  try {
    for (const e of engines) run(e, warm.ids, warm.countries);
    const rounds = engines.map((): Round[] => []);
    for (let r = 0; r < ROUNDS; r++) engines.forEach((e, j) => rounds[j].push(run(e, ids, countries)));

    const rows = engines.map((e, j) => {
      const bestWall = Math.min(...rounds[j].map((x) => x.wallNs)) / N;
      const bestCpu = Math.min(...rounds[j].map((x) => x.cpuNs)) / N;
      return { e, bestWall, bestCpu, problems: verify(e, rounds[j], ids, countries) };
    });
    const gb = rows[1];
    console.log(`\nEngine benchmark: ${N.toLocaleString("en-US")} distinct subjects after ${WARMUP.toLocaleString("en-US")} warm-up, best of ${ROUNDS} interleaved rounds`);
    console.log(`node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}, ${new Date().toISOString()}\n`);
    console.log("| engine | call | ops/s | ns/op | CPU ns/op | × GrowthBook (wall) | × GrowthBook (CPU) | output check |");
    console.log("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |");
    for (const r of rows) {
      console.log(
        `| ${r.e.name} | ${r.e.call} | ${fmt(1e9 / r.bestWall)} | ${fmt(r.bestWall)} | ${fmt(r.bestCpu)} | ${fmt(gb.bestWall / r.bestWall, 2)} | ${fmt(gb.bestCpu / r.bestCpu, 2)} | ${r.problems.length === 0 ? "ok" : r.problems.join("; ")} |`,
      );
    }
    console.log("\n| sha256 of the bucketing key (`user-N:exp-checkout:variant` unless noted) | CPU ns/op |\n| --- | ---: |");
    for (const h of hashCosts(ids)) console.log(`| ${h.name} | ${fmt(h.ns)} |`);

    const ratio = gb.bestWall / rows[0].bestWall;
    const failed = rows.filter((r) => r.problems.length > 0);
    const cpuRatio = gb.bestCpu / rows[0].bestCpu;
    console.log(`\ntarget Lotty ≥ 2 × GrowthBook: wall ${ratio.toFixed(2)} ×, CPU ${cpuRatio.toFixed(2)} × → ${ratio >= 2 && cpuRatio >= 2 ? "MET" : "NOT MET"}`);
    if (failed.length > 0) {
      console.error(`output check FAILED for: ${failed.map((r) => `${r.e.name} (${r.e.call})`).join(", ")}`);
      process.exitCode = 1;
    }
  } finally {
    for (const e of engines) e.close();
  }
}

await main();
