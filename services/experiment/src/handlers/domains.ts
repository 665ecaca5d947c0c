import { create } from "@bufbuild/protobuf";
import { ConflictDomainSchema, ExperimentStatus as S } from "@lotty/proto/experiment";
import { DOMAIN_UPDATE_PATHS, normalizeDomain } from "../domain/domains.js";
import { aborted, alreadyExists, failedPrecondition, invalidArgument, notFound } from "../domain/errors.js";
import { nextPage, pageOf } from "../domain/pagination.js";
import { getDomain, insertDomain, listDomains, updateDomain, deleteDomain } from "../store/domains.js";
import { domainMembers } from "../store/experiments.js";
import { bumpRulesetVersion } from "../store/ruleset.js";
import { inTransaction, type Deps } from "./context.js";
import { experimentChanged } from "./events.js";
import type { Slice } from "./impl.js";

type DomainRpcs = "createConflictDomain" | "getConflictDomain" | "listConflictDomains" | "updateConflictDomain" | "deleteConflictDomain";

export function domainHandlers(deps: Deps): Slice<DomainRpcs> {
  return {
    async createConflictDomain(req) {
      if (!req.domain) throw invalidArgument("domain", "is required");
      const d = normalizeDomain(req.domain);
      const now = deps.clock();
      const domain = await inTransaction(deps, async (tx, events) => {
        const created = await insertDomain(tx, d, now);
        if (!created) throw alreadyExists("conflict domain", d.key);
        events.push(experimentChanged("domain", await bumpRulesetVersion(tx), now));
        return created;
      });
      return { domain };
    },

    async getConflictDomain(req) {
      const domain = await getDomain(deps.db, req.key);
      if (!domain) throw notFound("conflict domain", req.key);
      return { domain, experimentIds: await domainMembers(deps.db, req.key) };
    },

    async listConflictDomains(req) {
      const page = pageOf(req.pageSize, req.pageToken);
      const rows = await listDomains(deps.db, page.after, page.limit);
      const { items, nextPageToken } = nextPage(rows, page.limit, (d) => d.key);
      return { domains: items, nextPageToken };
    },

    async updateConflictDomain(req) {
      if (!req.domain) throw invalidArgument("domain", "is required");
      const patch = req.domain;
      const paths = req.updateMask?.paths.length ? req.updateMask.paths : [...DOMAIN_UPDATE_PATHS];
      const bad = paths.find((p) => !(DOMAIN_UPDATE_PATHS as readonly string[]).includes(p));
      if (bad !== undefined) throw invalidArgument("update_mask", `unknown path "${bad}" (allowed: ${DOMAIN_UPDATE_PATHS.join(", ")})`);
      const now = deps.clock();
      const domain = await inTransaction(deps, async (tx, events) => {
        const cur = await getDomain(tx, patch.key);
        if (!cur) throw notFound("conflict domain", patch.key);
        const next = normalizeDomain(
          create(ConflictDomainSchema, {
            ...cur,
            description: paths.includes("description") ? patch.description : cur.description,
            policy: paths.includes("policy") ? patch.policy : cur.policy,
            maxConcurrent: paths.includes("max_concurrent") ? patch.maxConcurrent : cur.maxConcurrent,
          }),
        );
        const updated = await updateDomain(tx, next, req.expectedVersion, now);
        if (!updated) throw aborted(`conflict domain "${patch.key}" is at version ${cur.version}, not ${req.expectedVersion}`);
        events.push(experimentChanged("domain", await bumpRulesetVersion(tx), now));
        return updated;
      });
      return { domain };
    },

    async deleteConflictDomain(req) {
      const now = deps.clock();
      await inTransaction(deps, async (tx, events) => {
        const active = await domainMembers(tx, req.key, [S.RUNNING, S.PAUSED]);
        if (active.length > 0) throw failedPrecondition(`conflict domain "${req.key}" has active experiments: ${active.join(", ")}`);
        if (!(await deleteDomain(tx, req.key))) throw notFound("conflict domain", req.key);
        events.push(experimentChanged("domain", await bumpRulesetVersion(tx), now));
      });
      return {};
    },
  };
}
