import type { Queryable } from "@lotty/platform/db";
import type { Participation } from "../domain/policy.js";

export async function getPolicy(q: Queryable): Promise<Participation> {
  const { rows } = await q.query<{ max_concurrent_experiments: number; cooldown_seconds: string }>(
    `SELECT max_concurrent_experiments, cooldown_seconds FROM experiment.participation_policy`,
  );
  return { maxConcurrentExperiments: rows[0].max_concurrent_experiments, cooldownSeconds: Number(rows[0].cooldown_seconds) };
}

/** Locks the policy row too (FOR UPDATE semantics via UPDATE), so concurrent updates serialise. */
export async function setPolicy(q: Queryable, p: Participation): Promise<void> {
  await q.query(`UPDATE experiment.participation_policy SET max_concurrent_experiments = $1, cooldown_seconds = $2`, [
    p.maxConcurrentExperiments,
    Math.round(p.cooldownSeconds),
  ]);
}
