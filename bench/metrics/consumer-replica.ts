/**
 * One more metrics module replica for bench/metrics/ingest-and-report.ts `--replicas N`: its
 * consumers share the durables with the bench's own module, as replicas on other hosts would.
 * Started by the bench with its database, stream and namespace; stops on SIGTERM.
 */
import { createClient, createRouterTransport } from "@connectrpc/connect";
import { createNatsBus } from "@lotty/platform/bus";
import { openPostgres } from "@lotty/platform/db";
import { namespacedBus } from "@lotty/platform/host";
import { createLogger } from "@lotty/platform/log";
import { createMetricsService } from "@lotty/metrics-service/server";
import { ExperimentService } from "@lotty/proto/experiment";
import { parseArgs } from "node:util";
import { fakeExperimentService } from "./workload.js";

const { values: args } = parseArgs({
  options: {
    db: { type: "string" },
    nats: { type: "string" },
    stream: { type: "string" },
    namespace: { type: "string" },
    consumers: { type: "string", default: "3" },
  },
});
const consumers = Number(args.consumers);
const db = openPostgres(args.db!, { max: consumers + 1 });
const nats = await createNatsBus({ servers: args.nats!, stream: args.stream!, subjects: [`${args.namespace}.>`], name: "bench-metrics-replica" });
const experiment = createClient(ExperimentService, createRouterTransport((r) => r.service(ExperimentService, fakeExperimentService())));
const module = await createMetricsService({ db, bus: namespacedBus(nats, args.namespace!), experiment, logger: createLogger("bench-replica", { level: "warn" }), eventConsumers: consumers });
await module.start();
process.once("SIGTERM", () => {
  void (async () => {
    await module.close();
    await nats.close();
    await db.close();
    process.exit(0);
  })();
});
