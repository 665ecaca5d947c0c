import { Code } from "@connectrpc/connect";
import { ExperimentStatusChangedSchema, FlagChangedSchema, ReviewRequestedSchema, type ExperimentStatusChanged } from "@lotty/proto/events";
import { ExperimentStatus as S, OutcomeKind } from "@lotty/proto/experiment";
import { Subjects } from "@lotty/platform/events";
import { fromBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { abExperiment, as, boolFlag, codeOf, runningExperiment, startHarness, v, type Harness } from "./harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

describe("experiment lifecycle through the RPCs", () => {
  it("takes an experiment from draft to archived, keeping versions and an audit trail", async () => {
    const { client } = h;
    await boolFlag(client, "life.full");
    let e = (await client.createExperiment({ experiment: abExperiment("life.full") }, as("alice"))).experiment!;
    expect(e.status).toBe(S.DRAFT);
    expect(e.version).toBe(1n);
    expect(e.bucketingSeed).toBe(e.id);

    e = (await client.submitExperiment({ id: e.id, expectedVersion: e.version, reason: "ready" }, as("alice"))).experiment!;
    expect(e.status).toBe(S.IN_REVIEW);
    const review = h.published.filter((m) => m.subject === Subjects.reviewRequested).map((m) => fromBinary(ReviewRequestedSchema, m.data));
    expect(review.some((r) => r.experimentId === e.id && r.minApprovals === 1)).toBe(true);

    e = (await client.approveExperiment({ id: e.id, expectedVersion: e.version, comment: "lgtm" }, as("bob"))).experiment!;
    expect(e.status).toBe(S.APPROVED);
    e = (await client.startExperiment({ id: e.id, expectedVersion: e.version }, as("alice"))).experiment!;
    expect(e.status).toBe(S.RUNNING);
    expect(e.startTime).toBeDefined();
    e = (await client.pauseExperiment({ id: e.id, expectedVersion: e.version, reason: "guardrail", metadata: { trigger: "t1" } }, as("service:guardrail"))).experiment!;
    expect(e.status).toBe(S.PAUSED);
    e = (await client.resumeExperiment({ id: e.id, expectedVersion: e.version }, as("alice"))).experiment!;
    e = (await client.completeExperiment({ id: e.id, expectedVersion: e.version, outcome: OutcomeKind.NO_EFFECT, rationale: "flat" }, as("alice"))).experiment!;
    expect(e.status).toBe(S.COMPLETED);
    expect(e.outcome?.decidedBy?.id).toBe("alice");
    e = (await client.archiveExperiment({ id: e.id, expectedVersion: e.version }, as("alice"))).experiment!;
    expect(e.status).toBe(S.ARCHIVED);
    expect(e.version).toBe(8n);

    const versions = (await client.listExperimentVersions({ id: e.id })).versions;
    expect(versions.map((x) => x.version)).toEqual([8n, 7n, 6n, 5n, 4n, 3n, 2n, 1n]);
    expect(versions.at(-1)?.experiment?.status).toBe(S.DRAFT);

    const audit = (await client.listAuditEvents({ experimentId: e.id, actions: ["status_changed"] })).events;
    expect(audit.map((a) => `${a.fromStatus}>${a.toStatus}`)).toEqual([
      "draft>in_review",
      "in_review>approved",
      "approved>running",
      "running>paused",
      "paused>running",
      "running>completed",
      "completed>archived",
    ]);
    const pause = audit[3];
    expect(pause.actor?.id).toBe("service:guardrail");
    expect(pause.metadata).toMatchObject({ trigger: "t1", reason: "guardrail" });
    const statusEvents = h.published
      .filter((m) => m.subject === Subjects.experimentStatusChanged)
      .map((m) => fromBinary(ExperimentStatusChangedSchema, m.data))
      .filter((x: ExperimentStatusChanged) => x.experimentId === e.id);
    expect(statusEvents.map((x) => x.toStatus)).toEqual(["in_review", "approved", "running", "paused", "running", "completed", "archived"]);
  });

  it("refuses a transition the graph does not allow, naming both statuses, and changes nothing", async () => {
    await boolFlag(h.client, "life.refuse");
    const e = (await h.client.createExperiment({ experiment: abExperiment("life.refuse") }, as("alice"))).experiment!;
    const err = await codeOf(h.client.startExperiment({ id: e.id, expectedVersion: e.version }, as("alice")));
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(err.message).toContain("draft");
    expect(err.message).toContain("running");
    expect((await h.client.getExperiment({ id: e.id })).experiment?.version).toBe(1n);
  });

  it("fails with ABORTED when the expected version moved, and leaves everything unchanged", async () => {
    await boolFlag(h.client, "life.aborted");
    const e = await runningExperiment(h.client, "life.aborted");
    const auditBefore = (await h.client.listAuditEvents({ experimentId: e.id })).events.length;
    const err = await codeOf(h.client.pauseExperiment({ id: e.id, expectedVersion: e.version - 1n }, as("alice")));
    expect(err.code).toBe(Code.Aborted);
    const after = (await h.client.getExperiment({ id: e.id })).experiment!;
    expect(after.status).toBe(S.RUNNING);
    expect(after.version).toBe(e.version);
    expect((await h.client.listAuditEvents({ experimentId: e.id })).events.length).toBe(auditBefore);
  });

  it("allows one running or paused experiment per flag", async () => {
    await boolFlag(h.client, "life.one");
    const first = await runningExperiment(h.client, "life.one");
    await h.client.pauseExperiment({ id: first.id, expectedVersion: first.version }, as("alice"));
    let e = (await h.client.createExperiment({ experiment: abExperiment("life.one") }, as("alice"))).experiment!;
    e = (await h.client.submitExperiment({ id: e.id, expectedVersion: e.version }, as("alice"))).experiment!;
    e = (await h.client.approveExperiment({ id: e.id, expectedVersion: e.version }, as("bob"))).experiment!;
    const err = await codeOf(h.client.startExperiment({ id: e.id, expectedVersion: e.version }, as("alice")));
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(err.message).toContain("paused");
    expect(await codeOf(h.client.archiveFlag({ key: "life.one" }))).toMatchObject({ code: Code.FailedPrecondition });
  });

  it("rollout of a winner makes the winner's value the flag default, bumps the flag version and records it", async () => {
    await boolFlag(h.client, "life.winner");
    const flagBefore = (await h.client.getFlag({ key: "life.winner" })).flag!;
    const e = await runningExperiment(h.client, "life.winner");
    // The rationale is required by the request's annotations; the winner only with this outcome.
    const noRationale = await codeOf(h.client.completeExperiment({ id: e.id, expectedVersion: e.version, outcome: OutcomeKind.ROLLOUT_WINNER }, as("alice")));
    expect(noRationale.code).toBe(Code.InvalidArgument);
    expect(noRationale.message).toBe('field "rationale": value is required');
    const noWinner = await codeOf(h.client.completeExperiment({ id: e.id, expectedVersion: e.version, outcome: OutcomeKind.ROLLOUT_WINNER, rationale: "+3%" }, as("alice")));
    expect(noWinner.code).toBe(Code.InvalidArgument);
    expect(noWinner.message).toContain('"winning_variant"');

    const rs0 = (await h.client.getRuleset({})).ruleset!.version;
    await h.client.completeExperiment(
      { id: e.id, expectedVersion: e.version, outcome: OutcomeKind.ROLLOUT_WINNER, winningVariant: "on", rationale: "+3% conversion" },
      as("alice"),
    );
    const flag = (await h.client.getFlag({ key: "life.winner" })).flag!;
    expect(flag.defaultValue).toEqual(v(true));
    expect(flag.version).toBe(flagBefore.version + 1n);
    const rs = (await h.client.getRuleset({})).ruleset!;
    expect(rs.version).toBeGreaterThan(rs0);
    expect(rs.flags.find((f) => f.key === "life.winner")?.defaultValue).toEqual(v(true));
    expect(rs.experiments.some((x) => x.id === e.id)).toBe(false);
    const audit = (await h.client.listAuditEvents({ experimentId: e.id, actions: ["flag_default_set"] })).events;
    expect(audit).toHaveLength(1);
    expect(audit[0].metadata).toMatchObject({ flag_key: "life.winner", from: false, to: true, winning_variant: "on" });
    const flagEvents = h.published.filter((m) => m.subject === Subjects.flagChanged).map((m) => fromBinary(FlagChangedSchema, m.data));
    expect(flagEvents.some((x) => x.flagKey === "life.winner" && x.change === "updated" && x.rulesetVersion === rs.version)).toBe(true);
  });
});
