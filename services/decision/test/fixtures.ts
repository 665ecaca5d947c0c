import { create, fromJson, type JsonValue } from "@bufbuild/protobuf";
import { ValueSchema, type Value } from "@bufbuild/protobuf/wkt";
import { parseRule } from "@lotty/targeting";
import {
  ConflictPolicy,
  RulesetExperimentSchema,
  RulesetSchema,
  type Ruleset,
} from "@lotty/proto/experiment";
import type { MessageInitShape } from "@bufbuild/protobuf";

export const value = (v: JsonValue): Value => fromJson(ValueSchema, v);

/** Targeting source text → the AST JSON the experiment service stores. */
export function rule(src: string): string {
  const parsed = parseRule(src);
  if (!parsed.ok) throw new Error(`bad rule in test: ${src}`);
  return JSON.stringify(parsed.ast);
}

export interface ExperimentSpec {
  id: string;
  flag: string;
  allocation?: number;
  seed?: string;
  weights?: Record<string, number>;
  targeting?: string;
  domains?: { key: string; priority?: number }[];
  maxConcurrent?: number;
  cooldownSeconds?: number;
}

export function experiment(s: ExperimentSpec): MessageInitShape<typeof RulesetExperimentSchema> {
  const weights = s.weights ?? { control: 50, treatment: 50 };
  return {
    id: s.id,
    flagKey: s.flag,
    allocationBasisPoints: s.allocation ?? 10_000,
    bucketingSeed: s.seed ?? s.id,
    variants: Object.entries(weights).map(([name, weight]) => ({ name, weight, value: value(name), control: name === "control" })),
    targetingAstJson: s.targeting ? rule(s.targeting) : "",
    domains: (s.domains ?? []).map((d) => ({ domainKey: d.key, priority: d.priority ?? 0 })),
    maxConcurrentExperiments: s.maxConcurrent ?? 0,
    cooldownSeconds: BigInt(s.cooldownSeconds ?? 0),
    version: 1n,
  };
}

export function ruleset(opts: {
  version?: bigint;
  flags: string[];
  experiments?: ExperimentSpec[];
  domains?: { key: string; policy: ConflictPolicy; maxConcurrent?: number }[];
}): Ruleset {
  return create(RulesetSchema, {
    version: opts.version ?? 1n,
    flags: opts.flags.map((key) => ({ key, defaultValue: value("default") })),
    experiments: (opts.experiments ?? []).map(experiment),
    domains: (opts.domains ?? []).map((d) => ({ key: d.key, policy: d.policy, maxConcurrent: d.maxConcurrent ?? 1 })),
  });
}

export const subjects = (n: number, prefix = "user-"): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
