// The services a wire benchmark runs against: the experiment service and N decision replicas as
// separate processes on the machine's real Postgres, Redis and NATS, isolated by a namespace.
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { dropDatabase } from "@lotty/platform/db";
import { Subjects } from "@lotty/platform/events";
import { DecisionService } from "@lotty/proto/decision";
import { ExperimentService } from "@lotty/proto/experiment";
import { Redis } from "ioredis";
import { storedExposures } from "../../test/support/exposures.js";
import { freePort, startNode, type RunningProcess } from "../../test/support/process.js";

const ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres";

export interface StackOptions {
  decisionReplicas: number;
  /** Extra environment for the decision replicas (e.g. LOTTY_DECISION_EXPOSURES=off). */
  decisionEnv?: Record<string, string>;
  /** The decision replicas write a .cpuprofile here at exit when set (see cpu-profile.mjs). */
  cpuProfileDir?: string;
}

export interface Stack {
  namespace: string;
  experimentUrl: string;
  decisionUrls: string[];
  experiment: Client<typeof ExperimentService>;
  decisions: Client<typeof DecisionService>[];
  /** Exposures (distinct decision ids) the JetStream stream holds for this namespace, in batches. */
  storedExposures(): Promise<number>;
  close(): Promise<void>;
}

const streamName = (ns: string): string => `LOTTY_${ns.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;

export async function startStack(opts: StackOptions): Promise<Stack> {
  const ns = `bench${process.pid}${Date.now().toString(36)}`;
  const procs: RunningProcess[] = [];
  const db = (s: string) => `postgres://postgres@127.0.0.1:5432/lotty_${ns}_${s}`;
  const expPort = await freePort();
  const experimentUrl = `http://127.0.0.1:${expPort}`;
  // Loopback benchmark: no token issuer here, callers are trusted (the actor comes from x-lotty-actor).
  const common = { LOTTY_NAMESPACE: ns, LOTTY_LOG_LEVEL: "info", LOTTY_EXPERIMENT_URL: experimentUrl, LOTTY_AUTH: "off" };
  const close = async (): Promise<void> => {
    await Promise.all(procs.map((p) => p.stop()));
    await dropDatabase(ADMIN_URL, `lotty_${ns}_experiment`).catch(() => undefined);
    await dropDatabase(ADMIN_URL, `lotty_${ns}_decision`).catch(() => undefined);
    const nc = await connect({ servers: "127.0.0.1:4222" });
    await (await jetstreamManager(nc)).streams.delete(streamName(ns)).catch(() => false);
    await nc.close();
    const redis = new Redis("redis://127.0.0.1:6379");
    const keys = await redis.keys(`lotty:${ns}:*`);
    for (let i = 0; i < keys.length; i += 1000) await redis.del(...keys.slice(i, i + 1000));
    redis.disconnect();
  };
  try {
    procs.push(
      await startNode("experiment", "services/experiment/src/main.ts", { ...common, LOTTY_PORT: String(expPort), DATABASE_URL: db("experiment") }, /lotty-experiment ready/),
    );
    const decisionUrls: string[] = [];
    // One after the other: the replicas share a database and migrate it at start.
    for (let i = 0; i < opts.decisionReplicas; i++) {
      const port = await freePort();
      const prof: Record<string, string> = opts.cpuProfileDir
        ? { NODE_OPTIONS: `--import=${new URL("./cpu-profile.mjs", import.meta.url).pathname}`, LOTTY_CPU_PROFILE_DIR: opts.cpuProfileDir }
        : {};
      procs.push(
        await startNode(
          `decision-${i}`,
          "services/decision/src/main.ts",
          { ...common, ...prof, ...opts.decisionEnv, LOTTY_PORT: String(port), DATABASE_URL: db("decision") },
          /lotty-decision ready/,
        ),
      );
      decisionUrls.push(`http://127.0.0.1:${port}`);
    }
    return {
      namespace: ns,
      experimentUrl,
      decisionUrls,
      experiment: createClient(ExperimentService, createGrpcTransport({ baseUrl: experimentUrl })),
      decisions: decisionUrls.map((baseUrl) => createClient(DecisionService, createGrpcTransport({ baseUrl }))),
      async storedExposures() {
        const nc = await connect({ servers: "127.0.0.1:4222" });
        try {
          return (await storedExposures(nc, streamName(ns), `${ns}.${Subjects.exposureBatches}`)).distinct;
        } finally {
          await nc.close();
        }
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
