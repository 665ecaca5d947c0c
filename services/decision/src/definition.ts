import type { Client } from "@connectrpc/connect";
import { restoreSdkKeySnapshot, saveSdkKeySnapshot, SdkKeySet } from "@lotty/platform/auth";
import type { ServiceDefinition } from "@lotty/platform/service";
import { ExperimentService } from "@lotty/proto/experiment";
import { decisionConfigFromEnv } from "./env.js";
import { createDecisionService } from "./server.js";

type Experiment = Client<typeof ExperimentService>;

/** The same client, handing every ruleset it receives to `seen` (the SDK keys ride in the ruleset). */
function observingRulesets(client: Experiment, seen: (ruleset: NonNullable<Awaited<ReturnType<Experiment["getRuleset"]>>["ruleset"]>) => void): Experiment {
  return {
    ...client,
    async getRuleset(req, opts) {
      const res = await client.getRuleset(req, opts);
      if (res.ruleset) seen(res.ruleset);
      return res;
    },
  };
}

export const decisionDefinition: ServiceDefinition = {
  name: "decision",
  defaultPort: 8082,
  async create({ db, bus, cache, logger, metrics, peers }) {
    // SDK keys come from the ruleset this service loads anyway: no second fetch, and a key is
    // accepted or refused from the same snapshot the decisions are made from.
    const sdkKeys = new SdkKeySet();
    let saved = "";
    const experiment = observingRulesets(peers.client(ExperimentService), (r) => {
      sdkKeys.replace(r.sdkKeys);
      // Most ruleset changes leave the keys alone: store the snapshot only when they moved.
      const snapshot = JSON.stringify(sdkKeys.entries());
      if (snapshot === saved) return;
      saved = snapshot;
      void saveSdkKeySnapshot(cache, sdkKeys.entries(), logger);
    });
    const module = await createDecisionService({ db, bus, cache, logger, metrics, experiment, config: decisionConfigFromEnv(process.env) });
    return {
      ...module,
      sdkKeys,
      async start() {
        await module.start();
        // Started while the experiment service was down: the keys of the last ruleset seen.
        await restoreSdkKeySnapshot(cache, sdkKeys, logger);
      },
    };
  },
};
