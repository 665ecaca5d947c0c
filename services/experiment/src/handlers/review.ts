import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ApprovalSchema, ExperimentStatus as S } from "@lotty/proto/experiment";
import { assertValid } from "../domain/errors.js";
import { assertTransition, assertTransitionFrom } from "../domain/lifecycle.js";
import { pageOf, nextPage } from "../domain/pagination.js";
import { assertMayApprove, reviewRule, thresholdMet, validateApproverGroup } from "../domain/review.js";
import { getApproverGroup, listApproverGroups, upsertApproverGroup } from "../store/approvers.js";
import { changeExperiment, moveStatus } from "./change.js";
import { callerOf, type Deps } from "./context.js";
import { reviewRequested } from "./events.js";
import type { Slice } from "./impl.js";

type ReviewRpcs =
  | "submitExperiment"
  | "approveExperiment"
  | "requestChanges"
  | "rejectExperiment"
  | "reopenExperiment"
  | "setApproverGroup"
  | "listApproverGroups";

export function reviewHandlers(deps: Deps): Slice<ReviewRpcs> {
  return {
    async submitExperiment(req, ctx) {
      const experiment = await changeExperiment(deps, {
        id: req.id,
        expectedVersion: req.expectedVersion,
        actor: callerOf(ctx),
        async decide(tx, cur) {
          assertTransition(cur.status, S.IN_REVIEW);
          const group = await getApproverGroup(tx, cur.owner);
          const rule = reviewRule(group);
          return {
            // A new review round: approvals from an earlier round do not carry over.
            next: { ...cur, status: S.IN_REVIEW, approvals: [] },
            notes: [],
            reason: req.reason,
            after: async (_tx, _rv, events) => {
              events.push(reviewRequested(cur, group?.approvers ?? [], rule.minApprovals, deps.clock()));
            },
          };
        },
      });
      return { experiment };
    },

    async approveExperiment(req, ctx) {
      const actor = callerOf(ctx);
      const experiment = await changeExperiment(deps, {
        id: req.id,
        expectedVersion: req.expectedVersion,
        actor,
        async decide(tx, cur) {
          assertTransition(cur.status, S.APPROVED);
          const rule = reviewRule(await getApproverGroup(tx, cur.owner));
          assertMayApprove(cur, actor.id, rule);
          const approval = create(ApprovalSchema, { approver: actor.id, comment: req.comment, approveTime: timestampFromDate(deps.clock()) });
          const next = { ...cur, approvals: [...cur.approvals, approval] };
          const met = thresholdMet(next, rule);
          return {
            next: { ...next, status: met ? S.APPROVED : S.IN_REVIEW },
            notes: [{ action: "approved", metadata: { comment: req.comment, approvals: next.approvals.length, required: rule.minApprovals } }],
            reason: met ? "approval threshold met" : undefined,
          };
        },
      });
      return { experiment };
    },

    async requestChanges(req, ctx) {
      const experiment = await changeExperiment(deps, {
        id: req.id,
        expectedVersion: req.expectedVersion,
        actor: callerOf(ctx),
        decide: (_tx, cur) => {
          assertTransitionFrom(cur.status, [S.IN_REVIEW], S.DRAFT);
          return { next: { ...cur, status: S.DRAFT, approvals: [] }, notes: [{ action: "changes_requested", metadata: { comment: req.comment } }], reason: req.comment };
        },
      });
      return { experiment };
    },

    rejectExperiment: moveStatus(deps, S.REJECTED),

    reopenExperiment: moveStatus(deps, S.DRAFT, { from: [S.REJECTED], reset: { approvals: [] } }),

    async setApproverGroup(req) {
      assertValid(validateApproverGroup(req.group));
      await upsertApproverGroup(deps.db, req.group!);
      return { group: req.group };
    },

    async listApproverGroups(req) {
      const page = pageOf(req.pageSize, req.pageToken);
      const rows = await listApproverGroups(deps.db, page.after, page.limit);
      const { items, nextPageToken } = nextPage(rows, page.limit, (g) => g.owner);
      return { groups: items, nextPageToken };
    },
  };
}
