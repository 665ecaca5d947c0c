import { prepareVariants } from "@lotty/bucketing";
import { compileRule, validateAst, type CompiledRule } from "@lotty/targeting";
import type { Value } from "@bufbuild/protobuf/wkt";
import type { ConflictDomain, Ruleset, RulesetExperiment } from "@lotty/proto/experiment";
import { ConflictPolicy, type CompiledDomain, type CompiledExperiment, type CompiledFlag, type CompiledRuleset } from "./types.js";

const MATCH_ALL: CompiledRule = () => true;

function compileTargeting(json: string): CompiledRule {
  // An empty AST means "everyone"; anything else must parse and validate.
  return json.trim() === "" ? MATCH_ALL : compileRule(validateAst(JSON.parse(json)));
}

function compileDomains(ruleset: Ruleset): Map<string, CompiledDomain> {
  const members = new Map<string, { id: string; priority: number }[]>();
  for (const e of ruleset.experiments) {
    for (const m of e.domains) {
      const list = members.get(m.domainKey) ?? [];
      list.push({ id: e.id, priority: m.priority });
      members.set(m.domainKey, list);
    }
  }
  const byKey = new Map<string, ConflictDomain>(ruleset.domains.map((d) => [d.key, d]));
  const out = new Map<string, CompiledDomain>();
  for (const [key, list] of members) {
    const def = byKey.get(key);
    const sorted = [...list].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    out.set(key, {
      key,
      // An unknown domain or unspecified policy behaves as plain mutual exclusion (the safe default).
      policy: def?.policy === ConflictPolicy.PRIORITY ? ConflictPolicy.PRIORITY : ConflictPolicy.MUTUAL_EXCLUSION,
      maxConcurrent: Math.max(1, def?.maxConcurrent ?? 1),
      memberIds: sorted.map((m) => m.id),
      // sort is stable, so equal priorities keep id order.
      byPriority: [...sorted].sort((a, b) => b.priority - a.priority).map((m) => m.id),
    });
  }
  return out;
}

function compileExperiment(e: RulesetExperiment, domains: Map<string, CompiledDomain>): CompiledExperiment {
  const variantValues = new Map<string, Value>();
  for (const v of e.variants) if (v.value) variantValues.set(v.name, v.value);
  return {
    id: e.id,
    flagKey: e.flagKey,
    allocationBasisPoints: e.allocationBasisPoints,
    seed: e.bucketingSeed,
    variants: prepareVariants(e.variants.map((v) => ({ name: v.name, weight: v.weight }))),
    variantValues,
    targeting: compileTargeting(e.targetingAstJson),
    domains: e.domains.map((m) => domains.get(m.domainKey)!),
    maxConcurrentExperiments: Math.max(0, e.maxConcurrentExperiments),
    cooldownMs: Number(e.cooldownSeconds) * 1000,
    version: e.version,
  };
}

/** Compiles a ruleset once per load: flags by key, targeting compiled, variants prepared. */
export function compileRuleset(ruleset: Ruleset): CompiledRuleset {
  const domains = compileDomains(ruleset);
  const experiments = new Map<string, CompiledExperiment>();
  const errors: { experimentId: string; message: string }[] = [];
  for (const e of ruleset.experiments) {
    try {
      experiments.set(e.id, compileExperiment(e, domains));
    } catch (err) {
      // Fail closed for this experiment only: its flag serves the default, the rest still work.
      errors.push({ experimentId: e.id, message: err instanceof Error ? err.message : String(err) });
    }
  }
  const byFlag = new Map<string, CompiledExperiment[]>();
  for (const e of [...experiments.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    const list = byFlag.get(e.flagKey) ?? [];
    list.push(e);
    byFlag.set(e.flagKey, list);
  }
  const flags = new Map<string, CompiledFlag>();
  for (const f of ruleset.flags) {
    flags.set(f.key, { key: f.key, defaultValue: f.defaultValue, experiments: byFlag.get(f.key) ?? [] });
  }
  return { version: ruleset.version, flags, experiments, errors };
}

export const EMPTY_RULESET: CompiledRuleset = { version: 0n, flags: new Map(), experiments: new Map(), errors: [] };
