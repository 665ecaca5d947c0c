import { fromBinary } from "@bufbuild/protobuf";
import { Subjects } from "@lotty/platform/events";
import { ExperimentChangedSchema, ExperimentStatusChangedSchema, FlagChangedSchema } from "@lotty/proto/events";
import type { RulesetFlag } from "@lotty/proto/experiment";
import type { CompiledExperiment, CompiledRuleset } from "../domain/index.js";

/** What a change event tells a replica: the ruleset version with the change, and the flag when
 *  the event carries all of that version (so it can be applied in place). */
export interface RulesetChange {
  version: bigint;
  flag?: RulesetFlag;
}

/** Decodes a change event; throws on a payload that does not decode or an unknown subject. */
export function decodeChange(subject: string, data: Uint8Array): RulesetChange {
  switch (subject) {
    case Subjects.flagChanged: {
      const e = fromBinary(FlagChangedSchema, data);
      return { version: e.rulesetVersion, flag: e.flag };
    }
    case Subjects.experimentChanged:
      return { version: fromBinary(ExperimentChangedSchema, data).rulesetVersion };
    case Subjects.experimentStatusChanged:
      return { version: fromBinary(ExperimentStatusChangedSchema, data).rulesetVersion };
    default:
      throw new Error(`not a ruleset change subject: ${subject}`);
  }
}

/** The compiled ruleset with one flag replaced (or added) at a new version; the rest is shared. */
export function withFlag(compiled: CompiledRuleset, version: bigint, flag: RulesetFlag): CompiledRuleset {
  const experiments: CompiledExperiment[] = [];
  for (const e of compiled.experiments.values()) if (e.flagKey === flag.key) experiments.push(e);
  // Same order compileRuleset uses: the first matching experiment by id applies.
  experiments.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const flags = new Map(compiled.flags);
  flags.set(flag.key, { key: flag.key, defaultValue: flag.defaultValue, experiments });
  return { ...compiled, version, flags };
}
