import { auditHandlers } from "./audit.js";
import type { Deps } from "./context.js";
import { domainHandlers } from "./domains.js";
import { experimentHandlers } from "./experiments.js";
import { flagHandlers } from "./flags.js";
import type { Impl } from "./impl.js";
import { lifecycleHandlers } from "./lifecycle.js";
import { policyHandlers } from "./policy.js";
import { reviewHandlers } from "./review.js";
import { rulesetHandlers } from "./ruleset.js";
import { sdkKeyHandlers } from "./sdk-keys.js";

export type { Deps } from "./context.js";

/** Every RPC of ExperimentService; the type checks that none is missing. */
export function experimentServiceImpl(deps: Deps): Impl {
  return {
    ...flagHandlers(deps),
    ...experimentHandlers(deps),
    ...reviewHandlers(deps),
    ...lifecycleHandlers(deps),
    ...auditHandlers(deps),
    ...domainHandlers(deps),
    ...policyHandlers(deps),
    ...sdkKeyHandlers(deps),
    ...rulesetHandlers(deps),
  };
}
