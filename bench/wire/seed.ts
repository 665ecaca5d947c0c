// Creates what a benchmark decides, through the experiment service's RPCs as a user would.
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { ValueSchema, type Value } from "@bufbuild/protobuf/wkt";
import type { Client } from "@connectrpc/connect";
import { ValueType } from "@lotty/proto/common";
import { DecisionReason, type DecisionService } from "@lotty/proto/decision";
import type { ExperimentService } from "@lotty/proto/experiment";

type Experiments = Client<typeof ExperimentService>;

export const value = (j: JsonValue): Value => fromJson(ValueSchema, j);
const as = (actor: string) => ({ headers: { "x-lotty-actor": actor } });

export async function createFlag(client: Experiments, key: string, defaultValue: JsonValue): Promise<void> {
  const valueType = typeof defaultValue === "boolean" ? ValueType.BOOL : typeof defaultValue === "string" ? ValueType.STRING : ValueType.JSON;
  await client.createFlag({ key, valueType, defaultValue: value(defaultValue), description: "benchmark" }, as("bench-owner"));
}

/**
 * A running 50/50 experiment on a bool flag: created and submitted by its owner, approved by
 * somebody else (owners may not approve their own), then started.
 */
export async function startExperiment(client: Experiments, flagKey: string, targeting: string, trafficAllocation: number): Promise<string> {
  const owner = as("bench-owner");
  let e = (
    await client.createExperiment(
      {
        experiment: {
          name: `bench on ${flagKey}`,
          owner: "bench-owner",
          flagKey,
          hypothesis: "on beats off",
          variants: [
            { name: "off", value: value(false), weight: 50, control: true },
            { name: "on", value: value(true), weight: 50 },
          ],
          trafficAllocation,
          targeting,
          primaryMetricKey: "conversion",
        },
      },
      owner,
    )
  ).experiment!;
  e = (await client.submitExperiment({ id: e.id, expectedVersion: e.version }, owner)).experiment!;
  e = (await client.approveExperiment({ id: e.id, expectedVersion: e.version }, as("bench-reviewer"))).experiment!;
  e = (await client.startExperiment({ id: e.id, expectedVersion: e.version }, owner)).experiment!;
  return e.id;
}

/** Polls Decide until the replica answers `reason` for the flag (it refreshes on the change events). */
export async function waitForReason(
  decisions: Client<typeof DecisionService>,
  flagKey: string,
  reason: DecisionReason,
  attributes: Record<string, Value> = {},
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await decisions.decide({ subjectId: "probe", flagKey, attributes });
    if (r.reason === reason) return;
    if (Date.now() > deadline) throw new Error(`${flagKey}: still ${DecisionReason[r.reason]}, expected ${DecisionReason[reason]}`);
    await new Promise((res) => setTimeout(res, 20));
  }
}
