import { toJson, type JsonValue } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import type { HttpRoute, NodeRequest, NodeResponse } from "@lotty/platform/rpc";
import type { AttributeValue } from "@lotty/targeting";
import { DecisionReason } from "../domain/index.js";
import { reasonName, type Decider, type DecisionResult } from "../decider.js";
import type { RulesetHolder } from "../ruleset/holder.js";
import { LIMITS } from "./validate.js";

// OpenFeature Remote Evaluation Protocol (https://openfeature.dev/specification/appendix-c):
// single and bulk evaluation over plain HTTP so stock OFREP providers work unchanged.

const MAX_BODY_BYTES = 64 * 1024;

type OfrepErrorCode = "FLAG_NOT_FOUND" | "TARGETING_KEY_MISSING" | "PARSE_ERROR" | "INVALID_CONTEXT" | "GENERAL";

class OfrepError extends Error {
  constructor(
    readonly status: number,
    readonly code: OfrepErrorCode,
    details: string,
  ) {
    super(details);
  }
}

interface Context {
  subjectId: string;
  attributes: Record<string, AttributeValue>;
}

function send(res: NodeResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

async function readJson(req: NodeRequest): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new OfrepError(400, "PARSE_ERROR", `body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  try {
    return text === "" ? {} : JSON.parse(text);
  } catch {
    throw new OfrepError(400, "PARSE_ERROR", "body is not valid JSON");
  }
}

function parseContext(body: unknown): Context {
  const context = (body as { context?: unknown } | null)?.context ?? {};
  if (typeof context !== "object" || context === null || Array.isArray(context)) {
    throw new OfrepError(400, "INVALID_CONTEXT", "context must be an object");
  }
  const { targetingKey, ...rest } = context as Record<string, unknown>;
  if (typeof targetingKey !== "string" || targetingKey === "") throw new OfrepError(400, "TARGETING_KEY_MISSING", "context.targetingKey is required");
  if (targetingKey.length > LIMITS.subjectIdMax) throw new OfrepError(400, "INVALID_CONTEXT", `targetingKey longer than ${LIMITS.subjectIdMax} characters`);
  const entries = Object.entries(rest);
  if (entries.length > LIMITS.attributesMax) throw new OfrepError(400, "INVALID_CONTEXT", `at most ${LIMITS.attributesMax} context attributes`);
  const attributes: Record<string, AttributeValue> = {};
  for (const [k, v] of entries) if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") attributes[k] = v;
  return { subjectId: targetingKey, attributes };
}

function ofrepReason(r: DecisionReason): string {
  switch (r) {
    case DecisionReason.EXPERIMENT_ASSIGNED:
      return "SPLIT";
    case DecisionReason.DEGRADED:
      return "STALE";
    case DecisionReason.NO_ACTIVE_EXPERIMENT:
      return "STATIC";
    default:
      return "DEFAULT";
  }
}

function evaluation(d: DecisionResult): Record<string, unknown> {
  if (d.reason === DecisionReason.FLAG_NOT_FOUND) return { key: d.flagKey, errorCode: "FLAG_NOT_FOUND", errorDetails: `flag "${d.flagKey}" not found` };
  const metadata: Record<string, string | number> = { decisionId: d.decisionId, lottyReason: reasonName(d.reason), rulesetVersion: Number(d.rulesetVersion) };
  if (d.experimentId) metadata.experimentId = d.experimentId;
  if (d.detail) metadata.detail = d.detail;
  const value: JsonValue = d.value ? toJson(ValueSchema, d.value) : null;
  return { key: d.flagKey, value, reason: ofrepReason(d.reason), variant: d.variant || undefined, metadata };
}

function handleErrors(fn: (req: NodeRequest, res: NodeResponse, match: RegExpExecArray) => Promise<void>, key?: (m: RegExpExecArray) => string) {
  return async (req: NodeRequest, res: NodeResponse, match: RegExpExecArray): Promise<void> => {
    try {
      await fn(req, res, match);
    } catch (err) {
      if (!(err instanceof OfrepError)) throw err;
      send(res, err.status, { ...(key ? { key: key(match) } : {}), errorCode: err.code, errorDetails: err.message });
    }
  };
}

export function ofrepRoutes(decider: Decider, holder: RulesetHolder): HttpRoute[] {
  const keyOf = (m: RegExpExecArray): string => decodeURIComponent(m[1]);
  return [
    {
      method: "POST",
      path: /^\/ofrep\/v1\/evaluate\/flags\/([^/]+)$/,
      handle: handleErrors(async (req, res, match) => {
        const ctx = parseContext(await readJson(req));
        const [d] = await decider.decide(ctx.subjectId, ctx.attributes, [keyOf(match)]);
        send(res, d.reason === DecisionReason.FLAG_NOT_FOUND ? 404 : 200, evaluation(d));
      }, keyOf),
    },
    {
      method: "POST",
      path: "/ofrep/v1/evaluate/flags",
      handle: handleErrors(async (req, res) => {
        const ctx = parseContext(await readJson(req));
        const decisions = await decider.decide(ctx.subjectId, ctx.attributes, [...holder.current().flags.keys()]);
        send(res, 200, { flags: decisions.map(evaluation) });
      }),
    },
  ];
}
