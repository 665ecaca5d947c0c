// The one path every change to an existing experiment takes: version check, domain decision,
// atomic version-guarded write, kept version, audit, ruleset bump, events after commit.
import { create, type JsonObject } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Queryable } from "@lotty/platform/db";
import { ExperimentSchema, ExperimentStatus, type Experiment } from "@lotty/proto/experiment";
import type { RuleAst } from "@lotty/targeting";
import { aborted, failedPrecondition, invalidArgument, notFound } from "../domain/errors.js";
import { effectiveAllocation } from "../domain/experiments.js";
import { assertTransition, assertTransitionFrom, statusName } from "../domain/lifecycle.js";
import { appendAudit, type StoredActor } from "../store/audit.js";
import { isUniqueViolation } from "../store/codec.js";
import { getExperiment, insertVersion, replaceExperiment } from "../store/experiments.js";
import { bumpRulesetVersion, rulesetVersion } from "../store/ruleset.js";
import type { HandlerContext } from "@connectrpc/connect";
import { callerOf, inTransaction, type Deps, type PendingEvent } from "./context.js";
import { experimentChanged, statusChanged } from "./events.js";

export interface AuditNote {
  action: string;
  metadata?: JsonObject;
}

/** What a use case decided, given the current experiment. */
export interface Change {
  next: Experiment;
  /** Recompiled targeting, when it changed. */
  targetingAst?: RuleAst;
  /** Audit entries besides the automatic "status_changed" one. */
  notes: AuditNote[];
  /** Reason/metadata recorded with the status change and its event. */
  reason?: string;
  metadata?: JsonObject;
  /** ExperimentChanged.change when the ruleset is affected. */
  change?: string;
  /** Forces a ruleset bump even when the experiment is not running (e.g. a flag default change). */
  affectsRuleset?: boolean;
  outcome?: string;
  winningVariant?: string;
  /** Further writes in the same transaction, knowing the new ruleset version (if bumped). */
  after?: (tx: Queryable, rulesetVersion: bigint | undefined, events: PendingEvent[]) => Promise<void>;
}

export interface ChangeRequest {
  id: string;
  expectedVersion: bigint;
  actor: StoredActor;
  decide: (tx: Queryable, current: Experiment) => Promise<Change> | Change;
}

const ACTIVE_INDEX = "experiments_one_active_per_flag";

export async function changeExperiment(deps: Deps, req: ChangeRequest): Promise<Experiment> {
  if (req.id === "") throw invalidArgument("id", "is required");
  if (req.expectedVersion <= 0n) throw invalidArgument("expected_version", "is required (the version you last saw)");
  const now = deps.clock();
  return inTransaction(deps, async (tx, events) => {
    const stored = await getExperiment(tx, req.id);
    if (!stored) throw notFound("experiment", req.id);
    const before = stored.experiment;
    if (before.version !== req.expectedVersion) {
      throw aborted(`experiment "${req.id}" is at version ${before.version}, not ${req.expectedVersion}; reload and retry`);
    }
    const c = await req.decide(tx, before);
    const next = create(ExperimentSchema, {
      ...c.next,
      version: before.version + 1n,
      updateTime: timestampFromDate(now),
    });
    next.effectiveTrafficAllocation = effectiveAllocation(next);
    const ast = c.targetingAst ?? stored.targetingAst;

    let written: boolean;
    try {
      written = await replaceExperiment(tx, next, ast, req.expectedVersion);
    } catch (err) {
      if (isUniqueViolation(err, ACTIVE_INDEX)) {
        throw failedPrecondition(`flag "${next.flagKey}" already has a running or paused experiment`);
      }
      throw err;
    }
    if (!written) throw aborted(`experiment "${req.id}" changed concurrently; reload and retry`);

    await insertVersion(tx, next, req.actor, now);
    const statusMoved = before.status !== next.status;
    const audit = (action: string, extra: Partial<Parameters<typeof appendAudit>[1]>) =>
      appendAudit(tx, { experimentId: next.id, action, actor: req.actor, at: now, experimentVersion: next.version, ...extra });
    for (const n of c.notes) await audit(n.action, { metadata: n.metadata });
    if (statusMoved) {
      await audit("status_changed", {
        fromStatus: statusName(before.status),
        toStatus: statusName(next.status),
        metadata: { ...(c.metadata ?? {}), ...(c.reason ? { reason: c.reason } : {}) },
      });
    }

    const running = before.status === ExperimentStatus.RUNNING || next.status === ExperimentStatus.RUNNING;
    const rv = running || c.affectsRuleset ? await bumpRulesetVersion(tx) : undefined;
    await c.after?.(tx, rv, events);
    if (rv !== undefined) events.push(experimentChanged(c.change ?? "experiment", rv, now, next));
    if (statusMoved) {
      events.push(
        statusChanged(
          {
            before,
            after: next,
            actor: req.actor,
            reason: c.reason ?? "",
            outcome: c.outcome,
            winningVariant: c.winningVariant,
            rulesetVersion: rv ?? (await rulesetVersion(tx)),
          },
          now,
        ),
      );
    }
    return next;
  });
}

/** The request fields every lifecycle RPC shares. */
interface TransitionRequest {
  id: string;
  expectedVersion: bigint;
  reason?: string;
  metadata?: JsonObject;
}

/**
 * A handler for a transition that only moves the status (optionally resetting fields), checked
 * against the lifecycle table and recorded with the request's reason and metadata.
 */
export function moveStatus(deps: Deps, to: ExperimentStatus, opts: { from?: ExperimentStatus[]; reset?: Partial<Experiment> } = {}) {
  return async (req: TransitionRequest, ctx: HandlerContext): Promise<{ experiment: Experiment }> => ({
    experiment: await changeExperiment(deps, {
      id: req.id,
      expectedVersion: req.expectedVersion,
      actor: callerOf(ctx),
      decide: (_tx, cur) => {
        if (opts.from) assertTransitionFrom(cur.status, opts.from, to);
        else assertTransition(cur.status, to);
        return { next: { ...cur, ...opts.reset, status: to }, notes: [], reason: req.reason, metadata: req.metadata };
      },
    }),
  });
}
