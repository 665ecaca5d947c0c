import { create } from "@bufbuild/protobuf";
import { DurationSchema } from "@bufbuild/protobuf/wkt";
import { ParticipationPolicySchema } from "@lotty/proto/experiment";
import { invalidArgument } from "../domain/errors.js";
import { applyPolicyUpdate, type Participation } from "../domain/policy.js";
import { getPolicy, setPolicy } from "../store/policy.js";
import { bumpRulesetVersion } from "../store/ruleset.js";
import { inTransaction, type Deps } from "./context.js";
import { experimentChanged } from "./events.js";
import type { Slice } from "./impl.js";

function toProto(p: Participation) {
  return create(ParticipationPolicySchema, {
    maxConcurrentExperiments: p.maxConcurrentExperiments,
    cooldown: create(DurationSchema, { seconds: BigInt(Math.round(p.cooldownSeconds)) }),
  });
}

export function policyHandlers(deps: Deps): Slice<"getParticipationPolicy" | "updateParticipationPolicy"> {
  return {
    async getParticipationPolicy() {
      return { policy: toProto(await getPolicy(deps.db)) };
    },

    async updateParticipationPolicy(req) {
      if (!req.policy) throw invalidArgument("policy", "is required");
      const upd = req.policy;
      const now = deps.clock();
      const policy = await inTransaction(deps, async (tx, events) => {
        const p = applyPolicyUpdate(await getPolicy(tx), upd);
        await setPolicy(tx, p);
        events.push(experimentChanged("policy", await bumpRulesetVersion(tx), now));
        return p;
      });
      return { policy: toProto(policy) };
    },
  };
}
