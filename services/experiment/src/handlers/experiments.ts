import { create } from "@bufbuild/protobuf";
import { ExperimentSchema, type Experiment } from "@lotty/proto/experiment";
import type { Queryable } from "@lotty/platform/db";
import { randomUUID } from "node:crypto";
import { invalidArgument, notFound } from "../domain/errors.js";
import { expectValid, initialize, validateExperiment } from "../domain/experiments.js";
import { nextPage, pageOf } from "../domain/pagination.js";
import { rolloutExperiment } from "../domain/rollout.js";
import { applyMask, assertUpdatable, parseUpdateMask } from "../domain/updates.js";
import { appendAudit, type StoredActor } from "../store/audit.js";
import { domainKeys } from "../store/domains.js";
import { getExperiment, insertExperiment, insertVersion, listExperiments, listVersions } from "../store/experiments.js";
import { getFlag } from "../store/flags.js";
import { changeExperiment } from "./change.js";
import { callerOf, inTransaction, type Deps } from "./context.js";
import type { Slice } from "./impl.js";

type ExperimentRpcs =
  | "createExperiment"
  | "createRollout"
  | "getExperiment"
  | "listExperiments"
  | "updateExperiment"
  | "listExperimentVersions";

async function validateAgainstStore(tx: Queryable, e: Experiment) {
  const flag = e.flagKey ? await getFlag(tx, e.flagKey) : undefined;
  return validateExperiment(e, { flag, knownDomains: await domainKeys(tx) });
}

/** Validates and stores a new draft with its first version and a "created" audit entry. */
async function createDraft(deps: Deps, input: Experiment, actor: StoredActor): Promise<Experiment> {
  const now = deps.clock();
  return inTransaction(deps, async (tx) => {
    const v = expectValid(await validateAgainstStore(tx, input));
    const e = initialize(v.experiment, randomUUID(), now);
    await insertExperiment(tx, e, v.targetingAst);
    await insertVersion(tx, e, actor, now);
    await appendAudit(tx, { experimentId: e.id, action: "created", actor, toStatus: "draft", at: now, experimentVersion: e.version });
    return e;
  });
}

export function experimentHandlers(deps: Deps): Slice<ExperimentRpcs> {
  return {
    async createExperiment(req, ctx) {
      if (!req.experiment) throw invalidArgument("experiment", "is required");
      return { experiment: await createDraft(deps, req.experiment, callerOf(ctx)) };
    },

    async createRollout(req, ctx) {
      const flag = req.flagKey ? await getFlag(deps.db, req.flagKey) : undefined;
      const draft = rolloutExperiment(
        {
          name: req.name,
          owner: req.owner,
          flagKey: req.flagKey,
          description: req.description,
          targeting: req.targeting,
          stableValue: req.stableValue,
          canaryValue: req.canaryValue,
          stepAllocations: req.stepAllocations,
          stepMinDuration: req.stepMinDuration,
          minExposuresPerVariant: req.minExposuresPerVariant,
          promoteOnSuccess: req.promoteOnSuccess,
          gates: req.gates,
          onBreach: req.onBreach,
        },
        flag?.defaultValue,
      );
      return { experiment: await createDraft(deps, draft, callerOf(ctx)) };
    },

    async getExperiment(req) {
      const stored = await getExperiment(deps.db, req.id);
      if (!stored) throw notFound("experiment", req.id);
      return { experiment: stored.experiment };
    },

    async listExperiments(req) {
      const page = pageOf(req.pageSize, req.pageToken);
      const rows = await listExperiments(deps.db, { statuses: req.statuses, flagKey: req.flagKey, owner: req.owner, after: page.after, limit: page.limit });
      const { items, nextPageToken } = nextPage(rows, page.limit, (r) => r.seq);
      return { experiments: items.map((r) => r.experiment), nextPageToken };
    },

    async updateExperiment(req, ctx) {
      if (!req.experiment) throw invalidArgument("experiment", "is required");
      const patch = req.experiment;
      const paths = parseUpdateMask(req.updateMask?.paths ?? []);
      const experiment = await changeExperiment(deps, {
        id: patch.id,
        expectedVersion: req.expectedVersion,
        actor: callerOf(ctx),
        async decide(tx, cur) {
          assertUpdatable(cur.status, paths);
          const v = expectValid(await validateAgainstStore(tx, applyMask(cur, patch, paths)));
          return {
            next: create(ExperimentSchema, v.experiment),
            targetingAst: v.targetingAst,
            notes: [{ action: "updated", metadata: { fields: paths } }],
          };
        },
      });
      return { experiment };
    },

    async listExperimentVersions(req) {
      if (req.id === "") throw invalidArgument("id", "is required");
      const page = pageOf(req.pageSize, req.pageToken);
      const rows = await listVersions(deps.db, req.id, page.after, page.limit);
      if (rows.length === 0 && !page.after && !(await getExperiment(deps.db, req.id))) throw notFound("experiment", req.id);
      const { items, nextPageToken } = nextPage(rows, page.limit, (v) => v.version.toString());
      return { versions: items, nextPageToken };
    },
  };
}
