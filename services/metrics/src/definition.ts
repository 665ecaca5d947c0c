import { fromBinary } from "@bufbuild/protobuf";
import { followSdkKeys, SdkKeySet } from "@lotty/platform/auth";
import { Subjects } from "@lotty/platform/events";
import type { ServiceDefinition } from "@lotty/platform/service";
import { ExperimentChangedSchema } from "@lotty/proto/events";
import { ExperimentService } from "@lotty/proto/experiment";
import { createMetricsService } from "./server.js";

/** Reload of the SDK keys behind the change events. */
const SDK_KEY_RESYNC_MS = 30_000;

export const metricsDefinition: ServiceDefinition = {
  name: "metrics",
  defaultPort: 8083,
  async create({ db, bus, cache, logger, peers }) {
    const experiment = peers.client(ExperimentService);
    const module = await createMetricsService({ db, bus, logger, experiment });
    // TrackEvents takes SDK keys: this service keeps its own copy of the active key hashes.
    const sdkKeys = new SdkKeySet();
    let version = 0n;
    const follower = followSdkKeys({
      set: sdkKeys,
      async load() {
        const res = await experiment.getRuleset({ ifNewerThan: version });
        if (res.notModified || !res.ruleset) return undefined;
        version = res.ruleset.version;
        return res.ruleset.sdkKeys;
      },
      bus,
      subjects: [Subjects.experimentChanged],
      isKeyChange: (msg) => {
        try {
          return fromBinary(ExperimentChangedSchema, msg.data).change === "sdk_key";
        } catch {
          return false;
        }
      },
      cache,
      logger,
      intervalMs: SDK_KEY_RESYNC_MS,
    });
    return {
      ...module,
      sdkKeys,
      async start() {
        await module.start();
        await follower.start();
      },
      async close() {
        await follower.close();
        await module.close();
      },
    };
  },
};
