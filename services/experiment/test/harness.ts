import { create, type JsonValue, type MessageInitShape } from "@bufbuild/protobuf";
import { fromJson } from "@bufbuild/protobuf";
import { ValueSchema, type Value } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import { createMemoryBus, type Bus, type BusMessage } from "@lotty/platform/bus";
import { openPglite, type Db } from "@lotty/platform/db";
import { createLogger } from "@lotty/platform/log";
import { validatedRouter } from "@lotty/platform/rpc";
import { ValueType } from "@lotty/proto/common";
import { ExperimentSchema, ExperimentService, type Experiment } from "@lotty/proto/experiment";
import { createExperimentService } from "../src/server.js";

export type ExperimentInit = MessageInitShape<typeof ExperimentSchema>;
export type ExperimentClient = Client<typeof ExperimentService>;

export const v = (j: JsonValue): Value => fromJson(ValueSchema, j);

export interface Harness {
  db: Db;
  bus: Bus;
  client: ExperimentClient;
  /** Every message published on lotty.> since start. */
  published: BusMessage[];
  close(): Promise<void>;
}

/** The service on in-memory PGlite and the memory bus, called through a router transport. */
export async function startHarness(db?: Db): Promise<Harness> {
  const ownDb = db ?? (await openPglite());
  const bus = createMemoryBus();
  const module = await createExperimentService({ db: ownDb, bus, logger: createLogger("experiment-test", { level: "silent" }) });
  const client = createClient(ExperimentService, createRouterTransport((r) => module.register(r), validatedRouter()));
  const published: BusMessage[] = [];
  const sub = await bus.subscribe({ subjects: ["lotty.>"], handler: async (m) => void published.push(m) });
  return {
    db: ownDb,
    bus,
    client,
    published,
    async close() {
      await sub.close();
      await module.close();
      await bus.close();
      if (!db) await ownDb.close();
    },
  };
}

export const as = (actor: string) => ({ headers: { "x-lotty-actor": actor } });

/** The Connect error code a promise rejects with (fails the test when it resolves). */
export async function codeOf(p: Promise<unknown>): Promise<{ code: Code; message: string }> {
  try {
    await p;
  } catch (err) {
    const e = ConnectError.from(err);
    return { code: e.code, message: e.rawMessage };
  }
  throw new Error("expected the call to fail");
}

export async function boolFlag(client: ExperimentClient, key: string): Promise<void> {
  await client.createFlag({ key, valueType: ValueType.BOOL, defaultValue: v(false) });
}

export function abExperiment(flagKey: string, over: ExperimentInit = {}): Experiment {
  return create(ExperimentSchema, {
    name: `test on ${flagKey}`,
    owner: "alice",
    flagKey,
    hypothesis: "b beats a",
    variants: [
      { name: "off", value: v(false), weight: 50, control: true },
      { name: "on", value: v(true), weight: 50 },
    ],
    trafficAllocation: 50,
    targeting: 'country IN ["US", "CA"]',
    primaryMetricKey: "conversion",
    ...over,
  });
}

/** Creates, submits, approves (bob) and starts an experiment; returns it running. */
export async function runningExperiment(client: ExperimentClient, flagKey: string, over: ExperimentInit = {}): Promise<Experiment> {
  let e = (await client.createExperiment({ experiment: abExperiment(flagKey, over) }, as("alice"))).experiment!;
  e = (await client.submitExperiment({ id: e.id, expectedVersion: e.version }, as("alice"))).experiment!;
  e = (await client.approveExperiment({ id: e.id, expectedVersion: e.version }, as("bob"))).experiment!;
  return (await client.startExperiment({ id: e.id, expectedVersion: e.version }, as("alice"))).experiment!;
}
