import { create } from "@bufbuild/protobuf";
import { FlagSchema } from "@lotty/proto/experiment";
import { aborted, alreadyExists, assertValid, failedPrecondition, invalidArgument, notFound } from "../domain/errors.js";
import { resolveFlagMask, validateNewFlag, MAX_DESCRIPTION_LENGTH } from "../domain/flags.js";
import { nextPage, pageOf } from "../domain/pagination.js";
import { valueMismatch } from "../domain/values.js";
import { activeExperimentOf } from "../store/experiments.js";
import { getFlag, insertFlag, listFlags, lockFlag, updateFlag } from "../store/flags.js";
import { bumpRulesetVersion } from "../store/ruleset.js";
import { inTransaction, type Deps } from "./context.js";
import { flagChanged } from "./events.js";
import type { Slice } from "./impl.js";

type FlagRpcs = "createFlag" | "getFlag" | "listFlags" | "updateFlag" | "archiveFlag";

export function flagHandlers(deps: Deps): Slice<FlagRpcs> {
  return {
    async createFlag(req) {
      assertValid(validateNewFlag(req));
      const now = deps.clock();
      const flag = await inTransaction(deps, async (tx, events) => {
        const created = await insertFlag(tx, create(FlagSchema, { key: req.key, description: req.description, valueType: req.valueType, defaultValue: req.defaultValue }), now);
        if (!created) throw alreadyExists("flag", req.key);
        events.push(flagChanged(created.key, "created", await bumpRulesetVersion(tx), now, created));
        return created;
      });
      return { flag };
    },

    async getFlag(req) {
      const flag = await getFlag(deps.db, req.key);
      if (!flag) throw notFound("flag", req.key);
      return { flag };
    },

    async listFlags(req) {
      const page = pageOf(req.pageSize, req.pageToken);
      const rows = await listFlags(deps.db, { query: req.query, includeArchived: req.includeArchived, after: page.after, limit: page.limit });
      const { items, nextPageToken } = nextPage(rows, page.limit, (f) => f.key);
      return { flags: items, nextPageToken };
    },

    async updateFlag(req) {
      const paths: readonly string[] = resolveFlagMask(req.updateMask?.paths ?? []);
      if (paths.includes("description") && req.description.length > MAX_DESCRIPTION_LENGTH) {
        throw invalidArgument("description", `must be at most ${MAX_DESCRIPTION_LENGTH} characters`);
      }
      const now = deps.clock();
      const flag = await inTransaction(deps, async (tx, events) => {
        const cur = await lockFlag(tx, req.key);
        if (!cur) throw notFound("flag", req.key);
        if (cur.archived) throw failedPrecondition(`flag "${req.key}" is archived`);
        if (paths.includes("default_value")) {
          const bad = valueMismatch(cur.valueType, req.defaultValue);
          if (bad) throw invalidArgument("default_value", bad);
        }
        const next = create(FlagSchema, {
          ...cur,
          description: paths.includes("description") ? req.description : cur.description,
          defaultValue: paths.includes("default_value") ? req.defaultValue : cur.defaultValue,
        });
        const updated = await updateFlag(tx, next, req.expectedVersion, now);
        if (!updated) throw aborted(`flag "${req.key}" is at version ${cur.version}, not ${req.expectedVersion}; reload and retry`);
        events.push(flagChanged(updated.key, "updated", await bumpRulesetVersion(tx), now, updated));
        return updated;
      });
      return { flag };
    },

    async archiveFlag(req) {
      const now = deps.clock();
      const flag = await inTransaction(deps, async (tx, events) => {
        // Locking first orders this with a concurrent StartExperiment (which locks the flag too).
        const cur = await lockFlag(tx, req.key);
        if (!cur) throw notFound("flag", req.key);
        if (cur.archived) return cur;
        const active = await activeExperimentOf(tx, req.key);
        if (active) throw failedPrecondition(`flag "${req.key}" has an active experiment (${active.id}); complete it first`);
        const updated = (await updateFlag(tx, { ...cur, archived: true }, 0n, now))!;
        events.push(flagChanged(updated.key, "archived", await bumpRulesetVersion(tx), now));
        return updated;
      });
      return { flag };
    },
  };
}
