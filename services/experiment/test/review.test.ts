import { Code } from "@connectrpc/connect";
import { ExperimentStatus as S } from "@lotty/proto/experiment";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { abExperiment, as, boolFlag, codeOf, startHarness, type Harness } from "./harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await boolFlag(h.client, "rev.flag");
  await h.client.setApproverGroup({ group: { owner: "team-pay", approvers: ["carol", "dave", "erin"], minApprovals: 2 } });
});
afterAll(() => h.close());

async function submitted(owner: string) {
  let e = (await h.client.createExperiment({ experiment: abExperiment("rev.flag", { owner }) }, as(owner))).experiment!;
  e = (await h.client.submitExperiment({ id: e.id, expectedVersion: e.version }, as(owner))).experiment!;
  return e;
}

describe("review", () => {
  it("needs the group's minimum approvals from its members before the experiment is approved", async () => {
    let e = await submitted("team-pay");
    expect((await codeOf(h.client.approveExperiment({ id: e.id, expectedVersion: e.version }, as("mallory")))).code).toBe(Code.PermissionDenied);
    e = (await h.client.approveExperiment({ id: e.id, expectedVersion: e.version }, as("carol"))).experiment!;
    expect(e.status).toBe(S.IN_REVIEW);
    const twice = await codeOf(h.client.approveExperiment({ id: e.id, expectedVersion: e.version }, as("carol")));
    expect(twice.code).toBe(Code.FailedPrecondition);
    e = (await h.client.approveExperiment({ id: e.id, expectedVersion: e.version }, as("dave"))).experiment!;
    expect(e.status).toBe(S.APPROVED);
    expect(e.approvals.map((a) => a.approver)).toEqual(["carol", "dave"]);
  });

  it("refuses the owner approving their own experiment (fallback rule: anyone else, one approval)", async () => {
    let e = await submitted("zoe");
    const own = await codeOf(h.client.approveExperiment({ id: e.id, expectedVersion: e.version }, as("zoe")));
    expect(own.code).toBe(Code.PermissionDenied);
    expect(own.message).toContain("owns this experiment");
    expect((await codeOf(h.client.approveExperiment({ id: e.id, expectedVersion: e.version }))).code).toBe(Code.PermissionDenied);
    e = (await h.client.approveExperiment({ id: e.id, expectedVersion: e.version }, as("yann"))).experiment!;
    expect(e.status).toBe(S.APPROVED);
  });

  it("refuses start below the threshold as the group stands now", async () => {
    await h.client.setApproverGroup({ group: { owner: "team-raise", approvers: ["carol", "dave"], minApprovals: 1 } });
    let e = await submitted("team-raise");
    e = (await h.client.approveExperiment({ id: e.id, expectedVersion: e.version }, as("carol"))).experiment!;
    expect(e.status).toBe(S.APPROVED);
    await h.client.setApproverGroup({ group: { owner: "team-raise", approvers: ["carol", "dave"], minApprovals: 2 } });
    const err = await codeOf(h.client.startExperiment({ id: e.id, expectedVersion: e.version }, as("team-raise")));
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(err.message).toContain("1 of 2 required approvals");
  });

  it("sends changes back to draft and clears approvals; rejected experiments reopen to draft", async () => {
    let e = await submitted("team-pay");
    e = (await h.client.approveExperiment({ id: e.id, expectedVersion: e.version }, as("carol"))).experiment!;
    e = (await h.client.requestChanges({ id: e.id, expectedVersion: e.version, comment: "add a guardrail" }, as("dave"))).experiment!;
    expect(e.status).toBe(S.DRAFT);
    expect(e.approvals).toHaveLength(0);
    e = (await h.client.submitExperiment({ id: e.id, expectedVersion: e.version }, as("team-pay"))).experiment!;
    e = (await h.client.rejectExperiment({ id: e.id, expectedVersion: e.version, reason: "no" }, as("dave"))).experiment!;
    expect(e.status).toBe(S.REJECTED);
    const rc = await codeOf(h.client.requestChanges({ id: e.id, expectedVersion: e.version }, as("dave")));
    expect(rc.code).toBe(Code.FailedPrecondition);
    e = (await h.client.reopenExperiment({ id: e.id, expectedVersion: e.version }, as("team-pay"))).experiment!;
    expect(e.status).toBe(S.DRAFT);
  });

  it("validates approver groups", async () => {
    const err = await codeOf(h.client.setApproverGroup({ group: { owner: "x", approvers: ["x"], minApprovals: 2 } }));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.message).toContain('field "group.approvers[0]"');
    expect(err.message).toContain('field "group.min_approvals"');
    expect((await h.client.listApproverGroups({})).groups.map((g) => g.owner)).toEqual(["team-pay", "team-raise"]);
  });
});
