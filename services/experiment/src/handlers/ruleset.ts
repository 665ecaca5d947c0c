import { create } from "@bufbuild/protobuf";
import { RulesetSchema, type Ruleset } from "@lotty/proto/experiment";
import { compileExperiment } from "../domain/ruleset.js";
import { allDomains } from "../store/domains.js";
import { runningExperiments } from "../store/experiments.js";
import { liveFlags } from "../store/flags.js";
import { getPolicy } from "../store/policy.js";
import { rulesetVersion } from "../store/ruleset.js";
import { activeSdkKeys } from "../store/sdk-keys.js";
import type { Deps } from "./context.js";
import type { Slice } from "./impl.js";

export function rulesetHandlers(deps: Deps): Slice<"getRuleset"> {
  // Every change that affects the ruleset bumps its version, so one version's ruleset never
  // changes: build it once for all the replicas that ask after an event.
  let last: Ruleset | undefined;
  return {
    async getRuleset(req) {
      // One snapshot for every read, so the version always matches the data it is served with.
      // PGlite is a single connection whose transactions run one at a time: already a snapshot.
      return deps.db.transaction(async (tx) => {
        if (deps.db.kind === "postgres") await tx.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
        const version = await rulesetVersion(tx);
        if (req.ifNewerThan > 0n && version <= req.ifNewerThan) return { notModified: true };
        if (last?.version === version) return { ruleset: last, notModified: false };
        const policy = await getPolicy(tx);
        const [flags, running, domains, sdkKeys] = [await liveFlags(tx), await runningExperiments(tx), await allDomains(tx), await activeSdkKeys(tx)];
        last = create(RulesetSchema, {
          version,
          flags: flags.map((f) => ({ key: f.key, valueType: f.valueType, defaultValue: f.defaultValue })),
          experiments: running.map((r) => compileExperiment(r.experiment, r.targetingAst, policy)),
          domains,
          maxConcurrentExperiments: policy.maxConcurrentExperiments,
          cooldownSeconds: BigInt(Math.round(policy.cooldownSeconds)),
          sdkKeys,
        });
        return { ruleset: last, notModified: false };
      });
    },
  };
}
