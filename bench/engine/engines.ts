// The engines compared, each set up exactly as /work/shared/TOOLCHAIN.md §6 describes: one flag
// `checkout`, `country == "US"` gets a 50/50 split of a/b, everyone else `control`.
import { createRequire } from "node:module";
import { create } from "@bufbuild/protobuf";
import { GrowthBookClient } from "@growthbook/growthbook";
import { FlagdCore } from "@openfeature/flagd-core";
import type { Logger } from "@openfeature/core";
import { Unleash } from "unleash-client";
import type { Operator } from "unleash-client/lib/strategy/strategy.js";
import { RulesetSchema } from "@lotty/proto/experiment";
import { parseRule } from "@lotty/targeting";
import { compileRuleset, decideFirst, decideSecond, type SubjectHistory } from "../../services/decision/src/domain/index.js";

export const FLAG = "checkout";
export const SEED = "exp-checkout";

export interface Engine {
  readonly name: string;
  readonly call: string;
  /** The value served to one subject. */
  evaluate(subjectId: string, country: string): string;
  /** Expected share of each served value, for the distribution check. */
  readonly expected: Readonly<Record<string, number>>;
  /** Lotty only: the bucketing seed, so every decision can be checked against the reference. */
  readonly seed?: string;
  close(): void;
}

const SPLIT = { a: 0.25, b: 0.25, control: 0.5 };
const version = (pkg: string): string => (createRequire(import.meta.url)(`${pkg}/package.json`) as { version: string }).version;
const stringValue = (v: string) => ({ kind: { case: "stringValue" as const, value: v } });

/**
 * Lotty: what the decision service does per call minus I/O (phase one, phase two with no history).
 * The experiment service's default seed is the experiment id, a UUID; with it most keys
 * `subject:seed:variant` pass 55 bytes and take two SHA-256 blocks, hence the optional seed.
 */
export function lotty(seed = SEED): Engine {
  const parsed = parseRule('country == "US"');
  if (!parsed.ok) throw new Error("targeting rule does not parse");
  const compiled = compileRuleset(
    create(RulesetSchema, {
      version: 1n,
      flags: [{ key: FLAG, defaultValue: stringValue("control") }],
      experiments: [
        {
          id: "exp-checkout",
          flagKey: FLAG,
          allocationBasisPoints: 10_000,
          bucketingSeed: seed,
          variants: [
            { name: "a", weight: 50, value: stringValue("a") },
            { name: "b", weight: 50, value: stringValue("b") },
          ],
          targetingAstJson: JSON.stringify(parsed.ast),
          version: 1n,
        },
      ],
    }),
  );
  if (compiled.errors.length > 0) throw new Error(`ruleset did not compile: ${compiled.errors[0].message}`);
  const noHistory: SubjectHistory = { assignments: new Map(), endedAtMs: new Map(), nowMs: 0 };
  return {
    name: "Lotty decide engine (sha256 bucketing)",
    call: `decideFirst + decideSecond(empty history), seed "${seed}"`,
    evaluate(subjectId, country) {
      const first = decideFirst(compiled, { subjectId, flagKey: FLAG, attributes: { country } });
      const decision = first.kind === "done" ? first.decision : decideSecond(first, noHistory);
      const kind = decision.value?.kind;
      return kind?.case === "stringValue" ? kind.value : "";
    },
    expected: SPLIT,
    seed,
    close() {},
  };
}

export function growthbook(): Engine {
  const gb = new GrowthBookClient().initSync({
    payload: {
      features: {
        [FLAG]: {
          defaultValue: "control",
          rules: [{ key: FLAG, condition: { country: "US" }, variations: ["a", "b"], weights: [0.5, 0.5], hashAttribute: "id" }],
        },
      },
    },
  });
  return {
    name: `@growthbook/growthbook ${version("@growthbook/growthbook")}`,
    call: "getFeatureValue(key, def, {attributes})",
    evaluate: (id, country) => gb.getFeatureValue(FLAG, "control", { attributes: { id, country } }),
    expected: SPLIT,
    close: () => gb.destroy(),
  };
}

export function flagd(): Engine {
  const core = new FlagdCore();
  core.setConfigurations(
    JSON.stringify({
      flags: {
        [FLAG]: {
          state: "ENABLED",
          variants: { a: "a", b: "b", control: "control" },
          defaultVariant: "control",
          targeting: { if: [{ "==": [{ var: "country" }, "US"] }, { fractional: [["a", 50], ["b", 50]] }, "control"] },
        },
      },
    }),
  );
  const silent: Logger = { error() {}, warn() {}, info() {}, debug() {} };
  return {
    name: `@openfeature/flagd-core ${version("@openfeature/flagd-core")}`,
    call: "resolveStringEvaluation, JSONLogic if + fractional",
    evaluate: (targetingKey, country) => core.resolveStringEvaluation(FLAG, "control", { targetingKey, country }, silent).value,
    expected: SPLIT,
    close() {},
  };
}

/** unleash-client, bootstrapped, pointed at a closed loopback port (no network). */
export async function unleash(): Promise<{ variant: Engine; enabled: Engine }> {
  const client = new Unleash({
    appName: "lotty-bench",
    url: "http://127.0.0.1:9/api/",
    refreshInterval: 0,
    disableMetrics: true,
    bootstrap: {
      data: [
        {
          name: FLAG,
          enabled: true,
          project: "default",
          type: "experiment",
          strategies: [
            {
              name: "flexibleRollout",
              parameters: { rollout: "100", stickiness: "default", groupId: FLAG },
              constraints: [{ contextName: "country", operator: "IN" as Operator, values: ["US"], inverted: false }],
            },
          ],
          variants: [
            { name: "a", weight: 500, stickiness: "default" },
            { name: "b", weight: 500, stickiness: "default" },
          ],
        },
      ],
    },
  });
  client.on("error", () => {}); // the fetch to the closed port fails by design
  await new Promise<void>((resolve) => client.once("synchronized", () => resolve()));
  const name = `unleash-client ${version("unleash-client")}`;
  return {
    variant: {
      name,
      call: "getVariant (flexibleRollout 100%, country IN [US], 500/500)",
      evaluate(userId, country) {
        const v = client.getVariant(FLAG, { userId, properties: { country } });
        return v.enabled ? v.name : "control";
      },
      expected: SPLIT,
      close: () => client.destroy(),
    },
    enabled: {
      name,
      call: "isEnabled (same flag)",
      evaluate: (userId, country) => (client.isEnabled(FLAG, { userId, properties: { country } }) ? "on" : "off"),
      expected: { on: 0.5, off: 0.5 },
      close() {},
    },
  };
}
