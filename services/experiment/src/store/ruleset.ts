import type { Queryable } from "@lotty/platform/db";
import { big } from "./codec.js";

/**
 * Bumps the ruleset version. Called inside the transaction of every change that affects
 * decisions, so the version a reader sees always matches the data committed with it; the row
 * lock also orders those changes.
 */
export async function bumpRulesetVersion(q: Queryable): Promise<bigint> {
  const { rows } = await q.query<{ version: string }>(
    `UPDATE experiment.ruleset_state SET version = version + 1 RETURNING version`,
  );
  return big(rows[0].version);
}

export async function rulesetVersion(q: Queryable): Promise<bigint> {
  const { rows } = await q.query<{ version: string }>(`SELECT version FROM experiment.ruleset_state`);
  return big(rows[0].version);
}
