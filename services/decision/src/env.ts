import { env, loadConfig } from "@lotty/platform/config";
import type { DecisionConfig } from "./config.js";

/** Decision-service settings read from the environment (documented in the README). */
export const decisionConfigSpec = {
  LOTTY_DECISION_ASSIGNMENT_WRITE: env.oneOf(["sync", "async", "off"] as const, {
    default: "sync",
    doc: "Decision service: `sync` makes a new assignment durable in Postgres before Decide answers; `async` writes Redis first and Postgres in the background; `off` keeps Redis only.",
  }),
  LOTTY_DECISION_EXPOSURES: env.oneOf(["async", "off"] as const, { default: "async", doc: "Decision service: publish every decision to the exposures stream (`async`, never blocking Decide) or not (`off`)." }),
  LOTTY_DECISION_EXPOSURE_BUFFER: env.int({ default: 100_000, min: 100, max: 10_000_000, doc: "Decision service: exposures buffered while NATS is unreachable; overflow is counted in `lotty_exposures_dropped_total`." }),
  LOTTY_DECISION_RESYNC_INTERVAL: env.durationMs({ default: 30_000, doc: "Decision service: periodic ruleset resync, a safety net behind the change events." }),
};

export function decisionConfigFromEnv(source: NodeJS.ProcessEnv): Partial<DecisionConfig> {
  const c = loadConfig(decisionConfigSpec, source);
  return {
    assignmentWrite: c.LOTTY_DECISION_ASSIGNMENT_WRITE,
    exposures: c.LOTTY_DECISION_EXPOSURES,
    exposureBufferSize: c.LOTTY_DECISION_EXPOSURE_BUFFER,
    resyncIntervalMs: c.LOTTY_DECISION_RESYNC_INTERVAL,
  };
}
