import type { JsonValue as PbJsonValue } from "@bufbuild/protobuf";
import { toJson } from "@bufbuild/protobuf";
import { ValueSchema, type Value } from "@bufbuild/protobuf/wkt";
import { createClient, type Client, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { DecisionReason, DecisionService, type DecideResponse } from "@lotty/proto/decision";
import {
  ErrorCode,
  StandardResolutionReasons,
  type EvaluationContext,
  type JsonValue,
  type Provider,
  type ResolutionDetails,
} from "@openfeature/server-sdk";
import { cacheKey, toDecideInput } from "./context.js";

export interface LottyProviderOptions {
  /** Decision service base URL (gRPC), e.g. http://127.0.0.1:8082. Ignored when transport is given. */
  url?: string;
  transport?: Transport;
  /** SDK key sent as `authorization: Bearer <key>`. */
  sdkKey?: string;
  /** How long a decision is reused for the same subject, flag and attributes; 0 disables. */
  cacheTtlMs?: number;
  /** Bound on cached decisions (oldest evicted first). */
  cacheSize?: number;
  timeoutMs?: number;
}

interface Cached {
  decision: DecideResponse;
  expires: number;
}

const REASONS: Partial<Record<DecisionReason, string>> = {
  [DecisionReason.NO_ACTIVE_EXPERIMENT]: StandardResolutionReasons.STATIC,
  [DecisionReason.TARGETING_MISMATCH]: StandardResolutionReasons.DEFAULT,
  [DecisionReason.PARTICIPATION_LIMIT]: StandardResolutionReasons.DEFAULT,
  [DecisionReason.DOMAIN_CONFLICT]: StandardResolutionReasons.DEFAULT,
  [DecisionReason.OUTSIDE_TRAFFIC_ALLOCATION]: StandardResolutionReasons.DEFAULT,
  [DecisionReason.NO_VARIANTS]: StandardResolutionReasons.DEFAULT,
  [DecisionReason.EXPERIMENT_ASSIGNED]: StandardResolutionReasons.SPLIT,
  [DecisionReason.DEGRADED]: StandardResolutionReasons.STALE,
};

type Kind = "boolean" | "string" | "number" | "object";

/**
 * OpenFeature provider for Node backends: evaluates through the decision service over gRPC,
 * reuses recent decisions from an in-process cache, and `prefetch` fills the cache for many
 * flags with one DecideBatch (e.g. at the start of a request).
 */
export class LottyProvider implements Provider {
  readonly metadata = { name: "lotty" } as const;
  readonly runsOn = "server" as const;
  private readonly client: Client<typeof DecisionService>;
  private readonly cache = new Map<string, Cached>();
  private readonly ttl: number;
  private readonly size: number;

  constructor(opts: LottyProviderOptions) {
    const transport =
      opts.transport ??
      createGrpcTransport({
        baseUrl: opts.url ?? "http://127.0.0.1:8080",
        defaultTimeoutMs: opts.timeoutMs ?? 1000,
        interceptors: opts.sdkKey
          ? [(next) => (req) => (req.header.set("authorization", `Bearer ${opts.sdkKey}`), next(req))]
          : [],
      });
    this.client = createClient(DecisionService, transport);
    this.ttl = opts.cacheTtlMs ?? 1000;
    this.size = opts.cacheSize ?? 10_000;
  }

  /** Decides the given flags (all flags when empty) for this context in one call and caches them. */
  async prefetch(context: EvaluationContext, flagKeys: readonly string[] = []): Promise<void> {
    const { subjectId, attributes } = toDecideInput(context);
    if (!subjectId) return;
    const res = await this.client.decideBatch({ subjectId, attributes, flagKeys: [...flagKeys] });
    for (const d of res.decisions) this.remember(cacheKey(subjectId, d.flagKey, context), d);
  }

  resolveBooleanEvaluation(flagKey: string, defaultValue: boolean, context: EvaluationContext) {
    return this.resolve(flagKey, defaultValue, context, "boolean");
  }

  resolveStringEvaluation(flagKey: string, defaultValue: string, context: EvaluationContext) {
    return this.resolve(flagKey, defaultValue, context, "string");
  }

  resolveNumberEvaluation(flagKey: string, defaultValue: number, context: EvaluationContext) {
    return this.resolve(flagKey, defaultValue, context, "number");
  }

  resolveObjectEvaluation<T extends JsonValue>(flagKey: string, defaultValue: T, context: EvaluationContext) {
    return this.resolve(flagKey, defaultValue, context, "object");
  }

  async onClose(): Promise<void> {
    this.cache.clear();
  }

  private async resolve<T>(flagKey: string, defaultValue: T, context: EvaluationContext, kind: Kind): Promise<ResolutionDetails<T>> {
    const { subjectId, attributes } = toDecideInput(context);
    if (!subjectId) {
      return { value: defaultValue, reason: StandardResolutionReasons.ERROR, errorCode: ErrorCode.TARGETING_KEY_MISSING };
    }
    const key = cacheKey(subjectId, flagKey, context);
    let decision = this.fresh(key);
    const cached = decision !== undefined;
    if (!decision) {
      decision = await this.client.decide({ subjectId, flagKey, attributes });
      this.remember(key, decision);
    }
    if (decision.reason === DecisionReason.FLAG_NOT_FOUND) {
      return { value: defaultValue, reason: StandardResolutionReasons.ERROR, errorCode: ErrorCode.FLAG_NOT_FOUND, errorMessage: `flag ${flagKey} not found` };
    }
    const value = plain(decision.value);
    if (!matches(value, kind)) {
      return { value: defaultValue, reason: StandardResolutionReasons.ERROR, errorCode: ErrorCode.TYPE_MISMATCH, errorMessage: `flag ${flagKey} is not a ${kind}` };
    }
    return {
      value: value as T,
      variant: decision.variant || undefined,
      reason: cached ? StandardResolutionReasons.CACHED : (REASONS[decision.reason] ?? StandardResolutionReasons.UNKNOWN),
      flagMetadata: {
        decisionId: decision.decisionId,
        ...(decision.experimentId ? { experimentId: decision.experimentId } : {}),
        lottyReason: DecisionReason[decision.reason].toLowerCase(),
      },
    };
  }

  private fresh(key: string): DecideResponse | undefined {
    const hit = this.cache.get(key);
    if (!hit) return undefined;
    if (hit.expires > Date.now()) return hit.decision;
    this.cache.delete(key);
    return undefined;
  }

  private remember(key: string, decision: DecideResponse): void {
    if (this.ttl <= 0 || decision.reason === DecisionReason.DEGRADED) return;
    if (this.cache.size >= this.size) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, { decision, expires: Date.now() + this.ttl });
  }
}

function plain(v: Value | undefined): PbJsonValue | undefined {
  return v ? toJson(ValueSchema, v) : undefined;
}

function matches(v: PbJsonValue | undefined, kind: Kind): boolean {
  if (kind === "object") return v !== null && typeof v === "object";
  return typeof v === kind;
}
