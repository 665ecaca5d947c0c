import { randomUUID } from "node:crypto";
import type { ServiceImpl } from "@connectrpc/connect";
import type { Db } from "@lotty/platform/db";
import { invalidArgument, invalidArguments, notFound } from "@lotty/platform/rpc";
import type { NotificationService, Rule } from "@lotty/proto/notification";
import type { RuleSpec } from "../domain/rules.js";
import { existingChannelIds } from "../store/channels.js";
import { decodeCursor, pageSize, paginate } from "../store/pagination.js";
import { deleteRule, getRule, insertRule, listRules, updateRule, type RuleRecord } from "../store/rules.js";
import { parseRule, RULE_FIELDS, ruleToProto } from "./rule-codec.js";

type RuleRpcs = Pick<ServiceImpl<typeof NotificationService>, "createRule" | "getRule" | "listRules" | "updateRule" | "deleteRule">;

const camel = (path: string) => path.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()) as keyof Rule;

export function ruleHandlers(deps: { db: Db; clock: () => Date }): RuleRpcs {
  async function validSpec(rule: Rule | undefined): Promise<RuleSpec> {
    const { spec, violations } = parseRule(rule);
    if (!spec) throw invalidArguments(violations);
    const known = await existingChannelIds(deps.db, spec.channelIds);
    const missing = spec.channelIds.filter((id) => !known.has(id));
    if (missing.length > 0) throw invalidArgument("rule.channel_ids", `unknown channel(s) ${missing.join(", ")}`);
    return spec;
  }

  async function mustGet(id: string): Promise<RuleRecord> {
    if (!id) throw invalidArgument("id", "required");
    const rec = await getRule(deps.db, id);
    if (!rec) throw notFound("rule", id);
    return rec;
  }

  return {
    async createRule(req) {
      const rec: RuleRecord = { id: randomUUID(), spec: await validSpec(req.rule), createTime: deps.clock() };
      await insertRule(deps.db, rec);
      return { rule: ruleToProto(rec) };
    },

    async getRule(req) {
      return { rule: ruleToProto(await mustGet(req.id)) };
    },

    async listRules(req) {
      const limit = pageSize(req.pageSize);
      const rows = await listRules(deps.db, limit + 1, decodeCursor(req.pageToken));
      const page = paginate(rows, limit, (r) => ({ time: r.createTime, id: r.id }));
      return { rules: page.items.map(ruleToProto), nextPageToken: page.nextPageToken };
    },

    async updateRule(req) {
      if (!req.rule) throw invalidArgument("rule", "required");
      const existing = await mustGet(req.rule.id);
      const paths = req.updateMask?.paths.length ? req.updateMask.paths : [...RULE_FIELDS];
      const bad = paths.find((p) => !(RULE_FIELDS as readonly string[]).includes(p));
      if (bad) throw invalidArgument("update_mask", `unknown path "${bad}"`);
      // Merge in API space, then validate the result as a whole.
      const merged: Rule = ruleToProto(existing);
      const target = merged as unknown as Record<string, unknown>;
      for (const p of paths) target[camel(p)] = req.rule[camel(p)];
      const next: RuleRecord = { ...existing, spec: await validSpec(merged) };
      await updateRule(deps.db, next);
      return { rule: ruleToProto(next) };
    },

    async deleteRule(req) {
      if (!req.id) throw invalidArgument("id", "required");
      if (!(await deleteRule(deps.db, req.id))) throw notFound("rule", req.id);
      return {};
    },
  };
}
