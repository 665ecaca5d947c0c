// Guardrail CRUD and trigger history.
import { randomUUID } from "node:crypto";
import { clone, create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { aborted, invalidArgument, invalidArguments, notFound } from "@lotty/platform/rpc";
import {
  GuardrailSchema,
  type CreateGuardrailRequest,
  type Guardrail,
  type ListGuardrailsRequest,
  type ListTriggersRequest,
  type UpdateGuardrailRequest,
} from "@lotty/proto/guardrail";
import { nextPage, pageOf } from "../domain/pagination.js";
import { forbiddenPaths, validateGuardrail, withRuleThreshold } from "../domain/validation.js";
import * as store from "../store/guardrails.js";
import { listTriggers, triggerKey } from "../store/triggers.js";
import type { Ctx } from "./context.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TRIGGER_KEY = /^\d{4}-\d{2}-\d{2}T[\d:.]+Z\|[0-9a-f-]{36}$/i;

async function load(ctx: Ctx, id: string): Promise<Guardrail> {
  const g = UUID.test(id) ? await store.getGuardrail(ctx.db, id) : undefined;
  if (!g) throw notFound("guardrail", id);
  return g;
}

export async function createGuardrail(ctx: Ctx, req: CreateGuardrailRequest): Promise<Guardrail> {
  if (!req.guardrail) throw invalidArgument("guardrail", "is required");
  const violations = validateGuardrail(req.guardrail);
  if (violations.length > 0) throw invalidArguments(violations);
  // The experiment must exist: a guardrail on a typo would silently never fire.
  await ctx.experiment.getExperiment({ id: req.guardrail.experimentId }).catch((err: unknown) => {
    if (ConnectError.from(err).code === Code.NotFound) throw invalidArgument("guardrail.experiment_id", `experiment "${req.guardrail!.experimentId}" does not exist`);
    throw err;
  });
  const g = create(GuardrailSchema, { ...req.guardrail, id: randomUUID() });
  return store.insertGuardrail(ctx.db, g, ctx.clock());
}

export async function updateGuardrail(ctx: Ctx, req: UpdateGuardrailRequest): Promise<Guardrail> {
  const patch = req.guardrail;
  if (!patch) throw invalidArgument("guardrail", "is required");
  const paths = req.updateMask?.paths ?? [];
  if (paths.length === 0) throw invalidArgument("update_mask", "must name at least one of threshold, window, action, active");
  const forbidden = forbiddenPaths(paths);
  if (forbidden.length > 0) {
    throw invalidArguments(forbidden.map((field) => ({ field, description: "cannot change after creation; only threshold, window, action and active may" })));
  }
  const current = await load(ctx, patch.id);
  if (patch.version !== 0n && patch.version !== current.version) {
    throw aborted(`guardrail ${current.id} is at version ${current.version}, not ${patch.version}`);
  }
  const next = clone(GuardrailSchema, current);
  for (const p of paths) {
    if (p === "window") next.window = patch.window;
    if (p === "action") next.action = patch.action;
    if (p === "active") next.active = patch.active;
    if (p === "threshold") {
      if (patch.rule.case !== current.rule.case) throw invalidArgument("guardrail.rule", `must carry the new threshold in the guardrail's ${current.rule.case} rule`);
      next.rule = withRuleThreshold(current.rule, patch.rule);
    }
  }
  const violations = validateGuardrail(next);
  if (violations.length > 0) throw invalidArguments(violations);
  const saved = await store.updateGuardrail(ctx.db, next, current.version, ctx.clock());
  if (!saved) throw aborted(`guardrail ${current.id} changed concurrently; retry`);
  return saved;
}

export async function getGuardrail(ctx: Ctx, id: string): Promise<Guardrail> {
  return load(ctx, id);
}

export async function listGuardrails(ctx: Ctx, req: ListGuardrailsRequest): Promise<{ guardrails: Guardrail[]; nextPageToken: string }> {
  const page = pageOf(req.pageSize, req.pageToken);
  if (page.after !== undefined && !UUID.test(page.after)) throw invalidArgument("page_token", "is not a token this service issued");
  const rows = await store.listGuardrails(ctx.db, { experimentId: req.experimentId, ...page });
  const { items, nextPageToken } = nextPage(rows, page.limit, (g) => g.id);
  return { guardrails: items, nextPageToken };
}

export async function deleteGuardrail(ctx: Ctx, id: string): Promise<void> {
  if (!UUID.test(id) || !(await store.deleteGuardrail(ctx.db, id))) throw notFound("guardrail", id);
}

export async function listTriggerHistory(ctx: Ctx, req: ListTriggersRequest) {
  const page = pageOf(req.pageSize, req.pageToken);
  if (page.after !== undefined && !TRIGGER_KEY.test(page.after)) throw invalidArgument("page_token", "is not a token this service issued");
  const rows = await listTriggers(ctx.db, { experimentId: req.experimentId, ...page });
  const { items, nextPageToken } = nextPage(rows, page.limit, triggerKey);
  return { triggers: items, nextPageToken };
}

