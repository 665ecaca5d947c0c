import { fromBinary } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { Subjects } from "@lotty/platform/events";
import { ValueType } from "@lotty/proto/common";
import { ExperimentChangedSchema, FlagChangedSchema } from "@lotty/proto/events";
import { ConflictPolicy, ExperimentStatus as S } from "@lotty/proto/experiment";
import { evaluateRule, validateAst } from "@lotty/targeting";
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { as, boolFlag, codeOf, runningExperiment, startHarness, v, type Harness } from "./harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const version = async () => (await h.client.getRuleset({})).ruleset!.version;

describe("ruleset", () => {
  it("increases its version with each decision-affecting change and publishes it", async () => {
    const v0 = await version();
    await boolFlag(h.client, "rs.flag");
    const v1 = await version();
    expect(v1).toBe(v0 + 1n);
    const ev = h.published.filter((m) => m.subject === Subjects.flagChanged).map((m) => fromBinary(FlagChangedSchema, m.data));
    expect(ev.at(-1)).toMatchObject({ flagKey: "rs.flag", change: "created", rulesetVersion: v1 });
    expect((await h.client.getRuleset({ ifNewerThan: v1 })).notModified).toBe(true);
    expect((await h.client.getRuleset({ ifNewerThan: v1 - 1n })).ruleset?.version).toBe(v1);
    // A draft does not affect decisions.
    await h.client.createExperiment({ experiment: { name: "d", owner: "o", flagKey: "rs.flag", variants: [{ name: "a", value: v(false), weight: 1, control: true }, { name: "b", value: v(true), weight: 1 }] } });
    expect(await version()).toBe(v1);
  });

  it("carries running experiments with their compiled targeting and resolved limits", async () => {
    await boolFlag(h.client, "rs.run");
    await h.client.createConflictDomain({ domain: { key: "checkout", policy: ConflictPolicy.MUTUAL_EXCLUSION } });
    const e = await runningExperiment(h.client, "rs.run", { domains: [{ domainKey: "checkout", priority: 1 }], participation: { maxConcurrentExperiments: 1 } });
    const rs = (await h.client.getRuleset({})).ruleset!;
    const x = rs.experiments.find((r) => r.id === e.id)!;
    expect(x.allocationBasisPoints).toBe(5000);
    expect(x.bucketingSeed).toBe(e.id);
    expect(x.maxConcurrentExperiments).toBe(1);
    expect(x.cooldownSeconds).toBe(604800n);
    const ast = validateAst(JSON.parse(x.targetingAstJson));
    expect(evaluateRule(ast, { country: "US" })).toBe(true);
    expect(evaluateRule(ast, { country: "FR" })).toBe(false);
    expect(rs.domains.map((d) => [d.key, d.maxConcurrent])).toEqual([["checkout", 1]]);
    const changed = h.published.filter((m) => m.subject === Subjects.experimentChanged).map((m) => fromBinary(ExperimentChangedSchema, m.data));
    expect(changed.some((c) => c.experimentId === e.id && c.rulesetVersion === rs.version)).toBe(true);
    expect((await h.client.getConflictDomain({ key: "checkout" })).experimentIds).toEqual([e.id]);
    expect((await codeOf(h.client.deleteConflictDomain({ key: "checkout" }))).code).toBe(Code.FailedPrecondition);
    await h.client.pauseExperiment({ id: e.id, expectedVersion: e.version }, as("alice"));
    expect((await h.client.getRuleset({})).ruleset!.experiments.some((r) => r.id === e.id)).toBe(false);
  });

  it("creates a rollout with default steps and moves through them", async () => {
    await h.client.createFlag({ key: "rs.model", valueType: ValueType.STRING, defaultValue: v("model-v1") });
    let e = (await h.client.createRollout({ name: "model v2", owner: "ml", flagKey: "rs.model", canaryValue: v("model-v2") }, as("ml"))).experiment!;
    expect(e.variants.map((x) => [x.name, x.control, x.value?.kind.value])).toEqual([["stable", true, "model-v1"], ["canary", false, "model-v2"]]);
    expect(e.rampPlan?.steps.map((s) => s.trafficAllocation)).toEqual([1, 5, 25, 50, 100]);
    expect(e.rampPlan?.steps[0].minDuration?.seconds).toBe(3600n);
    // A rollout is promoted at the end unless asked not to; minimum exposures apply to every step.
    expect(e.rampPlan?.promoteOnSuccess).toBe(true);
    const held = (await h.client.createRollout({ name: "held", owner: "ml", flagKey: "rs.model", canaryValue: v("m2"), promoteOnSuccess: false, minExposuresPerVariant: 50n }, as("ml"))).experiment!;
    expect(held.rampPlan?.promoteOnSuccess).toBe(false);
    expect(held.rampPlan?.steps.every((s) => s.minExposuresPerVariant === 50n)).toBe(true);
    e = (await h.client.submitExperiment({ id: e.id, expectedVersion: e.version }, as("ml"))).experiment!;
    e = (await h.client.approveExperiment({ id: e.id, expectedVersion: e.version }, as("bob"))).experiment!;
    e = (await h.client.startExperiment({ id: e.id, expectedVersion: e.version }, as("ml"))).experiment!;
    expect(e.currentRampStep).toBe(0);
    expect(e.effectiveTrafficAllocation).toBe(1);
    e = (await h.client.setRampStep({ id: e.id, expectedVersion: e.version, step: 2, reason: "gates held" }, as("service:guardrail"))).experiment!;
    expect(e.effectiveTrafficAllocation).toBe(25);
    expect((await h.client.getRuleset({})).ruleset!.experiments.find((r) => r.id === e.id)?.allocationBasisPoints).toBe(2500);
    expect((await codeOf(h.client.setRampStep({ id: e.id, expectedVersion: e.version, step: 9 }))).message).toContain('field "step"');
    // An allocation out of range breaks the request's annotations; a step that does not increase
    // breaks only the plan as a whole, which the domain code judges.
    const outOfRange = await codeOf(h.client.createRollout({ name: "x", owner: "ml", flagKey: "rs.model", canaryValue: v("m"), stepAllocations: [5, 5, 200] }));
    expect(outOfRange.message).toContain('field "step_allocations[2]": must be greater than or equal to 0.01 and less than or equal to 100');
    const flat = await codeOf(h.client.createRollout({ name: "x", owner: "ml", flagKey: "rs.model", canaryValue: v("m"), stepAllocations: [5, 5, 50] }));
    expect(flat.message).toContain('"experiment.ramp_plan.steps[1].traffic_allocation"');
    expect(e.status).toBe(S.RUNNING);
  });

  it("issues SDK keys once, stores only their hash, and drops revoked ones", async () => {
    const { key, secret } = await h.client.createSdkKey({ name: "web", environment: "production" });
    expect(secret).toMatch(/^lotty_sdk_[A-Za-z0-9_-]{32}$/);
    expect(secret.startsWith(key!.prefix)).toBe(true);
    const hash = createHash("sha256").update(secret).digest("hex");
    expect((await h.client.getRuleset({})).ruleset!.sdkKeys.map((k) => k.keyHash)).toContain(hash);
    const { rows } = await h.db.query<{ n: string }>(
      "SELECT count(*) AS n FROM experiment.sdk_keys k WHERE strpos(row_to_json(k)::text, $1) > 0",
      [secret],
    );
    expect(rows[0].n).toBe("0");
    await h.client.revokeSdkKey({ id: key!.id });
    expect((await h.client.getRuleset({})).ruleset!.sdkKeys.map((k) => k.keyHash)).not.toContain(hash);
    expect((await h.client.listSdkKeys({ includeRevoked: true })).keys[0].revoked).toBe(true);
  });

  it("has a global participation policy with defaults 3 and 7 days", async () => {
    const p = (await h.client.getParticipationPolicy({})).policy!;
    expect([p.maxConcurrentExperiments, p.cooldown?.seconds]).toEqual([3, 604800n]);
    const v0 = await version();
    await h.client.updateParticipationPolicy({ policy: { maxConcurrentExperiments: 5 } });
    const rs = (await h.client.getRuleset({})).ruleset!;
    expect([rs.version, rs.maxConcurrentExperiments, rs.cooldownSeconds]).toEqual([v0 + 1n, 5, 604800n]);
    expect((await codeOf(h.client.updateParticipationPolicy({ policy: { maxConcurrentExperiments: -1 } }))).message).toContain("policy.max_concurrent_experiments");
  });

  it("keeps a committed change when publishing its event fails (consumers catch up on resync)", async () => {
    const publish = h.bus.publish;
    h.bus.publish = async () => {
      throw new Error("bus down");
    };
    try {
      await boolFlag(h.client, "rs.nobus");
    } finally {
      h.bus.publish = publish;
    }
    expect((await h.client.getFlag({ key: "rs.nobus" })).flag?.key).toBe("rs.nobus");
    expect((await h.client.getRuleset({})).ruleset!.flags.map((f) => f.key)).toContain("rs.nobus");
  });
});
