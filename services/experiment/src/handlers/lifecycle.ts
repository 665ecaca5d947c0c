import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ExperimentStatus as S, OutcomeSchema } from "@lotty/proto/experiment";
import { assertValid, failedPrecondition, invalidArgument } from "../domain/errors.js";
import { assertTransition, assertTransitionFrom, statusName } from "../domain/lifecycle.js";
import { OUTCOME_NAMES, validateCompletion, winnerOf } from "../domain/outcome.js";
import { assertThresholdMet, reviewRule } from "../domain/review.js";
import { getApproverGroup } from "../store/approvers.js";
import { domainKeys } from "../store/domains.js";
import { activeExperimentOf } from "../store/experiments.js";
import { lockFlag, updateFlag } from "../store/flags.js";
import { appendAudit } from "../store/audit.js";
import { valueToJson } from "../store/codec.js";
import { changeExperiment, moveStatus } from "./change.js";
import { callerOf, type Deps } from "./context.js";
import { flagChanged } from "./events.js";
import type { Slice } from "./impl.js";

type LifecycleRpcs = "startExperiment" | "pauseExperiment" | "resumeExperiment" | "completeExperiment" | "archiveExperiment" | "setRampStep";

export function lifecycleHandlers(deps: Deps): Slice<LifecycleRpcs> {
  return {
    async startExperiment(req, ctx) {
      const experiment = await changeExperiment(deps, {
        id: req.id,
        expectedVersion: req.expectedVersion,
        actor: callerOf(ctx),
        async decide(tx, cur) {
          assertTransitionFrom(cur.status, [S.APPROVED], S.RUNNING);
          // The approver group may have changed since approval: the threshold is checked as it stands now.
          assertThresholdMet(cur, reviewRule(await getApproverGroup(tx, cur.owner)));
          // Locks the flag row, so an ArchiveFlag running concurrently is ordered with this start.
          const flag = await lockFlag(tx, cur.flagKey);
          if (!flag || flag.archived) throw failedPrecondition(`flag "${cur.flagKey}" is archived or gone`);
          const active = await activeExperimentOf(tx, cur.flagKey);
          if (active) throw failedPrecondition(`flag "${cur.flagKey}" already has a ${active.status === S.RUNNING ? "running" : "paused"} experiment (${active.id})`);
          const known = await domainKeys(tx);
          const missing = cur.domains.find((d) => !known.has(d.domainKey));
          if (missing) throw failedPrecondition(`conflict domain "${missing.domainKey}" no longer exists`);
          return {
            next: {
              ...cur,
              status: S.RUNNING,
              startTime: timestampFromDate(deps.clock()),
              // A ramp starts at its first step, never at full allocation.
              currentRampStep: cur.rampPlan && cur.rampPlan.steps.length > 0 ? 0 : -1,
            },
            notes: [],
            reason: req.reason,
          };
        },
      });
      return { experiment };
    },

    pauseExperiment: moveStatus(deps, S.PAUSED, { from: [S.RUNNING] }),

    resumeExperiment: moveStatus(deps, S.RUNNING, { from: [S.PAUSED] }),

    async completeExperiment(req, ctx) {
      const actor = callerOf(ctx);
      const completion = { outcome: req.outcome, winningVariant: req.winningVariant, rationale: req.rationale };
      const experiment = await changeExperiment(deps, {
        id: req.id,
        expectedVersion: req.expectedVersion,
        actor,
        decide: (_tx, cur) => {
          assertTransition(cur.status, S.COMPLETED);
          assertValid(validateCompletion(cur, completion));
          const now = deps.clock();
          const winner = winnerOf(cur, completion);
          return {
            next: {
              ...cur,
              status: S.COMPLETED,
              endTime: timestampFromDate(now),
              outcome: create(OutcomeSchema, {
                kind: req.outcome,
                winningVariant: req.winningVariant,
                rationale: req.rationale,
                decidedBy: actor,
                decideTime: timestampFromDate(now),
              }),
            },
            notes: [],
            reason: req.rationale,
            metadata: { ...(req.metadata ?? {}), outcome: OUTCOME_NAMES[req.outcome], winning_variant: req.winningVariant },
            outcome: OUTCOME_NAMES[req.outcome],
            winningVariant: req.winningVariant,
            affectsRuleset: winner !== undefined,
            // Rolling out the winner: its value becomes the flag default, so Decide keeps serving it.
            after: winner
              ? async (tx, rv, events) => {
                  const flag = await lockFlag(tx, cur.flagKey);
                  if (!flag) throw failedPrecondition(`flag "${cur.flagKey}" is gone`);
                  const updated = await updateFlag(tx, { ...flag, defaultValue: winner.value }, 0n, now);
                  await appendAudit(tx, {
                    experimentId: cur.id,
                    action: "flag_default_set",
                    actor,
                    at: now,
                    experimentVersion: cur.version + 1n,
                    metadata: {
                      flag_key: flag.key,
                      from: valueToJson(flag.defaultValue),
                      to: valueToJson(winner.value),
                      winning_variant: winner.name,
                      flag_version: String(updated?.version ?? ""),
                    },
                  });
                  events.push(flagChanged(flag.key, "updated", rv!, now));
                }
              : undefined,
          };
        },
      });
      return { experiment };
    },

    archiveExperiment: moveStatus(deps, S.ARCHIVED),

    async setRampStep(req, ctx) {
      const experiment = await changeExperiment(deps, {
        id: req.id,
        expectedVersion: req.expectedVersion,
        actor: callerOf(ctx),
        decide: (_tx, cur) => {
          if (cur.status !== S.RUNNING) throw failedPrecondition(`experiment is ${statusName(cur.status)}; ramp steps move only while running`);
          const steps = cur.rampPlan?.steps ?? [];
          if (steps.length === 0) throw failedPrecondition("experiment has no ramp plan");
          if (req.step < 0 || req.step >= steps.length) throw invalidArgument("step", `must be between 0 and ${steps.length - 1}`);
          return {
            next: { ...cur, currentRampStep: req.step },
            notes: [
              {
                action: "ramp_step",
                metadata: {
                  ...(req.metadata ?? {}),
                  reason: req.reason,
                  from_step: cur.currentRampStep,
                  to_step: req.step,
                  traffic_allocation: steps[req.step].trafficAllocation,
                },
              },
            ],
            change: "ramp_step",
          };
        },
      });
      return { experiment };
    },
  };
}
