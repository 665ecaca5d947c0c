import type { Approval, ApproverGroup, Experiment } from "@lotty/proto/experiment";
import type { FieldViolation } from "./errors.js";
import { failedPrecondition, permissionDenied } from "./errors.js";

/**
 * The rule applied to an owner's experiments. Fallback when the owner has no approver group:
 * anyone other than the owner may approve, and one approval suffices. The fallback keeps a
 * fresh install usable while still enforcing four eyes.
 */
export interface ReviewRule {
  /** undefined = anyone except the owner. */
  approvers?: ReadonlySet<string>;
  minApprovals: number;
}

export const FALLBACK_RULE: ReviewRule = { minApprovals: 1 };

export function reviewRule(group: ApproverGroup | undefined): ReviewRule {
  if (!group) return FALLBACK_RULE;
  return { approvers: new Set(group.approvers), minApprovals: group.minApprovals };
}

/** Anonymous callers cannot take part in review: approvals must be attributable. */
export const ANONYMOUS = "anonymous";

/**
 * Who may approve. The owner approving their own experiment is PERMISSION_DENIED (a matter of
 * who calls, not of the experiment's state); so is a caller outside the owner's group. A second
 * approval by the same person is FAILED_PRECONDITION.
 */
export function assertMayApprove(exp: Experiment, approver: string, rule: ReviewRule): void {
  if (approver === "" || approver === ANONYMOUS) throw permissionDenied("approving needs an identified caller");
  if (approver === exp.owner) throw permissionDenied(`"${approver}" owns this experiment and may not approve it`);
  if (rule.approvers && !rule.approvers.has(approver)) {
    throw permissionDenied(`"${approver}" is not in the approver group of owner "${exp.owner}"`);
  }
  if (exp.approvals.some((a) => a.approver === approver)) {
    throw failedPrecondition(`"${approver}" has already approved this review round`);
  }
}

/** Approvals that count under the rule as it stands now (the group may have changed since). */
export function countedApprovals(exp: Experiment, rule: ReviewRule): Approval[] {
  return exp.approvals.filter((a) => a.approver !== exp.owner && (!rule.approvers || rule.approvers.has(a.approver)));
}

export function thresholdMet(exp: Experiment, rule: ReviewRule): boolean {
  return countedApprovals(exp, rule).length >= rule.minApprovals;
}

export function assertThresholdMet(exp: Experiment, rule: ReviewRule): void {
  const have = countedApprovals(exp, rule).length;
  if (have < rule.minApprovals) {
    throw failedPrecondition(`experiment has ${have} of ${rule.minApprovals} required approvals`);
  }
}

export const MAX_APPROVERS = 100;

export function validateApproverGroup(g: ApproverGroup | undefined): FieldViolation[] {
  if (!g) return [{ field: "group", description: "is required" }];
  const out: FieldViolation[] = [];
  if (g.owner.trim() === "") out.push({ field: "group.owner", description: "is required" });
  if (g.approvers.length === 0 || g.approvers.length > MAX_APPROVERS) {
    out.push({ field: "group.approvers", description: `must list 1..${MAX_APPROVERS} approvers` });
  }
  g.approvers.forEach((a, i) => {
    if (a.trim() === "") out.push({ field: `group.approvers[${i}]`, description: "must not be empty" });
    if (a === g.owner) out.push({ field: `group.approvers[${i}]`, description: "the owner cannot approve their own experiments" });
  });
  if (new Set(g.approvers).size !== g.approvers.length) {
    out.push({ field: "group.approvers", description: "must not repeat an approver" });
  }
  const distinct = new Set(g.approvers.filter((a) => a !== g.owner)).size;
  if (g.minApprovals < 1 || g.minApprovals > distinct) {
    out.push({ field: "group.min_approvals", description: `must be between 1 and the number of approvers (${distinct})` });
  }
  return out;
}
