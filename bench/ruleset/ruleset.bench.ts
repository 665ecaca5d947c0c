// Memory and compile time of a large compiled ruleset: 10,000 flags and 1,000 running experiments.
// Usage: node --import tsx bench/ruleset/ruleset.bench.ts [--flags 10000] [--experiments 1000]
// The ruleset goes the way it goes in the decision service: protobuf bytes (as from the
// experiment service or the Redis snapshot) → fromBinary → compileRuleset; the proto is then
// dropped (the holder keeps only the compiled form). RSS and heap are printed after a full GC at
// each stage. The compiled ruleset is checked: sizes, no compile errors, and decisions for every
// experiment against a node:crypto reference of the Lotty bucketing.
import { createHash } from "node:crypto";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { ConflictPolicy, RulesetSchema, type RulesetExperimentSchema } from "@lotty/proto/experiment";
import { parseRule } from "@lotty/targeting";
import { compileRuleset, decide, DecisionReason, type CompiledRuleset, type SubjectHistory } from "../../services/decision/src/domain/index.js";

const { values: args } = parseArgs({ options: { flags: { type: "string", default: "10000" }, experiments: { type: "string", default: "1000" } } });
const FLAGS = Number(args.flags);
const EXPERIMENTS = Number(args.experiments);
const RSS_BUDGET_MB = 150;

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const MB = 1024 * 1024;
interface Stage {
  stage: string;
  rssMb: number;
  heapMb: number;
}
const stages: Stage[] = [];
function sample(stage: string): void {
  gc();
  gc();
  const m = process.memoryUsage();
  stages.push({ stage, rssMb: m.rss / MB, heapMb: m.heapUsed / MB });
}

// A fixed pseudo-random stream so every run builds the same ruleset.
let seed = 0x2545f491;
const rand = (n: number): number => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) % n;
};
const hex = (n: number, width: number) => n.toString(16).padStart(width, "0");
const uuidLike = (i: number) => `${hex(i, 8)}-${hex(rand(65536), 4)}-4${hex(rand(4096), 3)}-a${hex(rand(4096), 3)}-${hex(i * 7919, 12)}`;
const str = (v: string) => ({ kind: { case: "stringValue" as const, value: v } });
const num = (v: number) => ({ kind: { case: "numberValue" as const, value: v } });
const bool = (v: boolean) => ({ kind: { case: "boolValue" as const, value: v } });
const struct = (fields: Record<string, string>) => ({
  kind: { case: "structValue" as const, value: { fields: Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, str(v)])) } },
});

const COUNTRIES = ["US", "CA", "GB", "DE", "FR", "ES", "IT", "NL", "SE", "NO", "DK", "FI", "PL", "BR", "MX", "AR", "JP", "KR", "IN", "AU"];
const PLANS = ["free", "pro", "team", "enterprise"];

/** A targeting rule and attributes that satisfy it. */
function targeting(): { src: string; match: Record<string, string | number | boolean> } {
  const countries = Array.from({ length: 1 + rand(6) }, () => COUNTRIES[rand(COUNTRIES.length)]);
  const plan = PLANS[rand(PLANS.length)];
  const minor = rand(20);
  switch (rand(4)) {
    case 0:
      return { src: "", match: {} };
    case 1:
      return { src: `country IN [${countries.map((c) => `"${c}"`).join(", ")}]`, match: { country: countries[0] } };
    case 2:
      return {
        src: `country IN [${countries.map((c) => `"${c}"`).join(", ")}] AND app >= semver("2.${minor}.0") AND NOT beta == true`,
        match: { country: countries[0], app: `2.${minor + 1}.3`, beta: false },
      };
    default:
      return { src: `plan == "${plan}" OR (sessions > ${rand(50)} AND signup >= 2025-0${1 + rand(9)}-1${rand(10)})`, match: { plan } };
  }
}

interface Built {
  bytes: Uint8Array;
  /** Per experiment: a subject and attributes its targeting matches. */
  probes: { experimentId: string; flagKey: string; seed: string; allocation: number; weights: Record<string, number>; inDomain: boolean; attributes: Record<string, string | number | boolean> }[];
}

function build(): Built {
  const domains = Array.from({ length: 50 }, (_, i) => ({ key: `domain-${i}`, policy: i % 2 ? ConflictPolicy.PRIORITY : ConflictPolicy.MUTUAL_EXCLUSION, maxConcurrent: 1 + (i % 3) }));
  const flags = Array.from({ length: FLAGS }, (_, i) => {
    const kind = i % 4;
    return {
      key: `flag-${hex(i, 5)}-${["checkout", "search", "onboarding", "pricing"][kind]}`,
      defaultValue: kind === 0 ? str("control") : kind === 1 ? bool(false) : kind === 2 ? num(10) : struct({ layout: "grid", color: "blue" }),
    };
  });
  const probes: Built["probes"] = [];
  const experiments: MessageInitShape<typeof RulesetExperimentSchema>[] = [];
  for (let i = 0; i < EXPERIMENTS; i++) {
    const id = uuidLike(i);
    const flagKey = flags[(i * 7) % FLAGS].key;
    const names = ["control", "treatment", "treatment-b", "treatment-c"].slice(0, 2 + rand(3));
    const weights = Object.fromEntries(names.map((n) => [n, 1 + rand(100)]));
    const t = targeting();
    const parsed = parseRule(t.src);
    if (!parsed.ok) throw new Error(`bench rule does not parse: ${t.src}`);
    const inDomain = rand(10) < 3;
    const allocation = rand(4) === 0 ? 10_000 : 1 + rand(10_000);
    experiments.push({
      id,
      flagKey,
      allocationBasisPoints: allocation,
      bucketingSeed: id,
      variants: names.map((name) => ({ name, weight: weights[name], control: name === "control", value: name === "control" ? undefined : struct({ variant: name, copy: `Try ${name} now` }) })),
      targetingAstJson: JSON.stringify(parsed.ast),
      domains: inDomain ? [{ domainKey: domains[rand(domains.length)].key, priority: rand(10) }] : [],
      maxConcurrentExperiments: rand(4),
      cooldownSeconds: BigInt(rand(86_400)),
      version: BigInt(1 + rand(20)),
    });
    probes.push({ experimentId: id, flagKey, seed: id, allocation, weights, inDomain, attributes: t.match });
  }
  const ruleset = create(RulesetSchema, { version: 42n, flags, experiments, domains, maxConcurrentExperiments: 3, cooldownSeconds: 3600n });
  return { bytes: toBinary(RulesetSchema, ruleset), probes };
}

function refBucket(subject: string, seedKey: string, salt: string): bigint {
  return createHash("sha256").update(`${subject}:${seedKey}:${salt}`).digest().readBigUInt64BE(0) % 10000n;
}
function refVariant(subject: string, seedKey: string, weights: Record<string, number>): string {
  const names = Object.keys(weights).sort();
  const total = names.reduce((s, n) => s + BigInt(weights[n]), 0n);
  const point = refBucket(subject, seedKey, "variant") * total;
  let cumulative = 0n;
  for (const n of names) {
    cumulative += BigInt(weights[n]);
    if (cumulative * 10000n > point) return n;
  }
  throw new Error("unreachable");
}

/** Problems with the compiled ruleset; empty when it is right. */
function verify(compiled: CompiledRuleset, probes: Built["probes"]): string[] {
  const problems: string[] = [];
  if (compiled.flags.size !== FLAGS) problems.push(`${compiled.flags.size} flags compiled, expected ${FLAGS}`);
  if (compiled.experiments.size !== EXPERIMENTS) problems.push(`${compiled.experiments.size} experiments compiled, expected ${EXPERIMENTS}`);
  if (compiled.errors.length > 0) problems.push(`${compiled.errors.length} compile errors, first: ${compiled.errors[0].message}`);
  const noHistory: SubjectHistory = { assignments: new Map(), endedAtMs: new Map(), nowMs: Date.now() };
  let checked = 0;
  for (const p of probes) {
    // The flag's first matching experiment applies; probe only experiments that are first on their flag.
    if (compiled.flags.get(p.flagKey)?.experiments[0]?.id !== p.experimentId) continue;
    for (let s = 0; s < 20; s++) {
      const subjectId = `subject-${s}-${p.experimentId.slice(0, 8)}`;
      const d = decide(compiled, { subjectId, flagKey: p.flagKey, attributes: p.attributes }, noHistory);
      const inAllocation = refBucket(subjectId, p.seed, "allocation") < BigInt(p.allocation);
      const ok = p.inDomain
        ? [DecisionReason.EXPERIMENT_ASSIGNED, DecisionReason.OUTSIDE_TRAFFIC_ALLOCATION, DecisionReason.DOMAIN_CONFLICT].includes(d.reason)
        : inAllocation
          ? d.reason === DecisionReason.EXPERIMENT_ASSIGNED && d.variant === refVariant(subjectId, p.seed, p.weights)
          : d.reason === DecisionReason.OUTSIDE_TRAFFIC_ALLOCATION;
      if (!ok) problems.push(`${p.experimentId}/${subjectId}: reason ${DecisionReason[d.reason]} variant "${d.variant}"`);
      checked++;
    }
  }
  if (checked < EXPERIMENTS) problems.push(`only ${checked} decisions checked`);
  return problems.slice(0, 5);
}

/** Starts a stopwatch; calling the result gives "N ms wall (M ms CPU)" (CPU is steadier under load). */
function timer(): () => string {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  return () => {
    const c = process.cpuUsage(cpu);
    return `${(performance.now() - wall).toFixed(0)} ms wall (${((c.user + c.system) / 1000).toFixed(0)} ms CPU)`;
  };
}

function main(): void {
  sample("baseline (modules loaded)");
  let built: Built | undefined = build();
  const { probes } = built;
  sample("protobuf bytes built");
  const bytesMb = built.bytes.length / MB;

  const t0 = timer();
  let ruleset: ReturnType<typeof fromBinary<typeof RulesetSchema>> | undefined = fromBinary(RulesetSchema, built.bytes);
  const decode = t0();
  built = undefined;
  sample("proto Ruleset decoded (bytes dropped)");

  const t1 = timer();
  const compiled = compileRuleset(ruleset);
  const compile = t1();
  sample("compiled + proto Ruleset");
  ruleset = undefined;
  sample("compiled only (steady state)");

  const problems = verify(compiled, probes);
  const steady = stages[stages.length - 1];
  const peak = Math.max(...stages.map((s) => s.rssMb));

  console.log(`\nRuleset benchmark: ${FLAGS.toLocaleString("en-US")} flags, ${EXPERIMENTS.toLocaleString("en-US")} running experiments (node ${process.version}, ${new Date().toISOString()})`);
  console.log(`protobuf size ${bytesMb.toFixed(2)} MB; fromBinary ${decode}; compileRuleset ${compile}; load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}\n`);
  console.log("| stage (after full GC) | RSS MB | heap used MB |\n| --- | ---: | ---: |");
  for (const s of stages) console.log(`| ${s.stage} | ${s.rssMb.toFixed(1)} | ${s.heapMb.toFixed(1)} |`);
  console.log(`\ncompiled ruleset alone: ${(steady.heapMb - stages[0].heapMb).toFixed(1)} MB of heap`);
  console.log(`target RSS ≤ ${RSS_BUDGET_MB} MB (steady ${steady.rssMb.toFixed(1)}, peak ${peak.toFixed(1)}): ${steady.rssMb <= RSS_BUDGET_MB && peak <= RSS_BUDGET_MB ? "MET" : "NOT MET"}`);
  console.log(`check: ${problems.length === 0 ? "ok" : problems.join("; ")}`);
  if (problems.length > 0) process.exitCode = 1;
  // Keep the compiled ruleset reachable until every sample is taken.
  if (compiled.version !== 42n) process.exitCode = 1;
}

main();
