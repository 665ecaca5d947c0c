import { create } from "@bufbuild/protobuf";
import { ApproverGroupSchema, type ApproverGroup } from "@lotty/proto/experiment";
import type { Queryable } from "@lotty/platform/db";
import { jsonParam } from "./codec.js";

interface GroupRow {
  owner: string;
  approvers: string[];
  min_approvals: number;
}

const toGroup = (r: GroupRow): ApproverGroup =>
  create(ApproverGroupSchema, { owner: r.owner, approvers: r.approvers, minApprovals: r.min_approvals });

export async function upsertApproverGroup(q: Queryable, g: ApproverGroup): Promise<void> {
  await q.query(
    `INSERT INTO experiment.approver_groups (owner, approvers, min_approvals) VALUES ($1, $2::jsonb, $3)
     ON CONFLICT (owner) DO UPDATE SET approvers = EXCLUDED.approvers, min_approvals = EXCLUDED.min_approvals`,
    [g.owner, jsonParam(g.approvers), g.minApprovals],
  );
}

export async function getApproverGroup(q: Queryable, owner: string): Promise<ApproverGroup | undefined> {
  const { rows } = await q.query<GroupRow>(`SELECT * FROM experiment.approver_groups WHERE owner = $1`, [owner]);
  return rows[0] && toGroup(rows[0]);
}

export async function listApproverGroups(q: Queryable, after: string | undefined, limit: number): Promise<ApproverGroup[]> {
  const { rows } = await q.query<GroupRow>(
    `SELECT * FROM experiment.approver_groups WHERE ($1::text IS NULL OR owner > $1) ORDER BY owner LIMIT $2`,
    [after ?? null, limit + 1],
  );
  return rows.map(toGroup);
}
