import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import type { Db } from "@lotty/platform/db";
import { alreadyExists, failedPrecondition, invalidArgument, invalidArguments, notFound } from "@lotty/platform/rpc";
import { MetricDirection, MetricRole, MetricSchema, type MetricsService } from "@lotty/proto/metrics";
import { idViolations, isKey, validateEventType, validateMetric } from "../domain/definition-validation.js";
import { EXPOSURE_TYPE, MAX_BATCH } from "../domain/event-validation.js";

const MAX_ATTACHMENTS = 100;
import { trackEvents } from "../ingest/track.js";
import type { Reporting } from "../reporting.js";
import * as catalog from "../store/catalog-store.js";
import * as metrics from "../store/metric-store.js";

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

function page(size: number, token: string): { limit: number; after: string } {
  if (size < 0) throw invalidArgument("page_size", "must not be negative");
  const after = token === "" ? "" : Buffer.from(token, "base64url").toString();
  // Tokens are encoded keys; anything else (a NUL, odd bytes) would only fail later in SQL.
  if (after !== "" && !isKey(after)) throw invalidArgument("page_token", "is not a page token this service issued");
  return { limit: Math.min(size || DEFAULT_PAGE, MAX_PAGE), after };
}

function nextToken<T extends { key: string }>(items: T[], limit: number): string {
  return items.length === limit ? Buffer.from(items[items.length - 1].key).toString("base64url") : "";
}

function maskPaths<P extends string>(paths: readonly string[] | undefined, allowed: readonly P[]): Set<P> {
  const bad = (paths ?? []).filter((p) => !allowed.includes(p as P));
  if (bad.length > 0) throw invalidArgument("update_mask", `unsupported path(s) ${bad.join(", ")}; allowed: ${allowed.join(", ")}`);
  if (!paths || paths.length === 0) throw invalidArgument("update_mask", "is required");
  return new Set(paths as P[]);
}

/** RPC translation only: requests to store/domain calls, results and errors to responses. */
export function metricsHandlers(deps: { db: Db; reporting: Reporting; clock: () => Date }): ServiceImpl<typeof MetricsService> {
  const { db } = deps;
  const eventTypeOrThrow = async (key: string) => (await catalog.getEventType(db, key)) ?? Promise.reject(notFound("event type", key));
  const metricOrThrow = async (key: string) => (await metrics.getMetrics(db, [key])).get(key) ?? Promise.reject(notFound("metric", key));

  async function requireEventTypes(keys: { field: string; key: string }[]): Promise<void> {
    const known = await catalog.eventTypeRules(db, keys.map((k) => k.key));
    const bad = keys.filter((k) => k.key !== "" && (!known.has(k.key) || known.get(k.key)!.archived));
    if (bad.length > 0) throw invalidArguments(bad.map((k) => ({ field: k.field, description: `unknown or archived event type "${k.key}"` })));
  }

  return {
    async createEventType(req) {
      if (!req.eventType) throw invalidArgument("event_type", "is required");
      const v = validateEventType(req.eventType);
      if (v.length > 0) throw invalidArguments(v);
      const eventType = await catalog.insertEventType(db, req.eventType);
      if (!eventType) throw alreadyExists("event type", req.eventType.key);
      return { eventType };
    },
    async getEventType(req) {
      return { eventType: await eventTypeOrThrow(req.key) };
    },
    async listEventTypes(req) {
      const p = page(req.pageSize, req.pageToken);
      const eventTypes = await catalog.listEventTypes(db, { includeArchived: req.includeArchived, ...p });
      return { eventTypes, nextPageToken: nextToken(eventTypes, p.limit) };
    },
    async updateEventType(req) {
      if (!req.eventType) throw invalidArgument("event_type", "is required");
      const paths = maskPaths(req.updateMask?.paths, ["description", "fields", "requires_exposure"] as const);
      const current = await eventTypeOrThrow(req.eventType.key);
      if (current.key === EXPOSURE_TYPE && (paths.has("fields") || paths.has("requires_exposure"))) {
        throw failedPrecondition(`only the description of the built-in "${EXPOSURE_TYPE}" type can change`);
      }
      const v = validateEventType({ ...current, ...req.eventType, key: current.key });
      if (v.length > 0) throw invalidArguments(v);
      return { eventType: (await catalog.updateEventType(db, req.eventType, paths)) ?? (await eventTypeOrThrow(req.eventType.key)) };
    },
    async archiveEventType(req) {
      if (req.key === EXPOSURE_TYPE) throw failedPrecondition(`the built-in "${EXPOSURE_TYPE}" type cannot be archived`);
      return { eventType: (await catalog.archiveEventType(db, req.key)) ?? (await eventTypeOrThrow(req.key)) };
    },

    async trackEvents(req) {
      if (req.events.length > MAX_BATCH) throw invalidArgument("events", `at most ${MAX_BATCH} events per batch, got ${req.events.length}`);
      return trackEvents(db, req.events, deps.clock());
    },

    async createMetric(req) {
      if (!req.metric) throw invalidArgument("metric", "is required");
      const m = create(MetricSchema, {
        ...req.metric,
        direction: req.metric.direction === MetricDirection.UNSPECIFIED ? MetricDirection.HIGHER_IS_BETTER : req.metric.direction,
      });
      const v = validateMetric(m);
      if (v.length > 0) throw invalidArguments(v);
      await requireEventTypes([
        { field: "metric.event_type", key: m.eventType },
        { field: "metric.denominator_event_type", key: m.denominatorEventType },
      ]);
      const metric = await metrics.insertMetric(db, m);
      if (!metric) throw alreadyExists("metric", m.key);
      return { metric };
    },
    async getMetric(req) {
      return { metric: await metricOrThrow(req.key) };
    },
    async listMetrics(req) {
      const p = page(req.pageSize, req.pageToken);
      const list = await metrics.listMetrics(db, { includeArchived: req.includeArchived, ...p });
      return { metrics: list, nextPageToken: nextToken(list, p.limit) };
    },
    async updateMetric(req) {
      if (!req.metric) throw invalidArgument("metric", "is required");
      const paths = maskPaths(req.updateMask?.paths, ["name", "description", "direction", "cap_percentile", "cap_value", "conversion_window"] as const);
      const current = await metricOrThrow(req.metric.key);
      const next = create(MetricSchema, {
        ...current,
        name: paths.has("name") ? req.metric.name : current.name,
        description: paths.has("description") ? req.metric.description : current.description,
        direction: paths.has("direction") ? req.metric.direction : current.direction,
        capPercentile: paths.has("cap_percentile") ? req.metric.capPercentile : current.capPercentile,
        capValue: paths.has("cap_value") ? req.metric.capValue : current.capValue,
        conversionWindow: paths.has("conversion_window") ? req.metric.conversionWindow : current.conversionWindow,
      });
      const v = validateMetric(next);
      if (next.direction === MetricDirection.UNSPECIFIED) v.push({ field: "metric.direction", description: "is required" });
      if (v.length > 0) throw invalidArguments(v);
      return { metric: (await metrics.replaceMetric(db, next)) ?? (await metricOrThrow(next.key)) };
    },
    async archiveMetric(req) {
      return { metric: (await metrics.archiveMetric(db, req.key)) ?? (await metricOrThrow(req.key)) };
    },

    async setExperimentMetrics(req) {
      const badId = idViolations("experiment_id", req.experimentId);
      if (badId.length > 0) throw invalidArguments(badId);
      if (req.attachments.length > MAX_ATTACHMENTS) throw invalidArgument("attachments", `at most ${MAX_ATTACHMENTS} metrics per experiment`);
      const known = await metrics.getMetrics(db, req.attachments.map((a) => a.metricKey));
      const seen = new Set<string>();
      const v = req.attachments.flatMap((a, i) => {
        const problems = [];
        const m = known.get(a.metricKey);
        if (!m || m.archived) problems.push({ field: `attachments[${i}].metric_key`, description: `unknown or archived metric "${a.metricKey}"` });
        if (seen.has(a.metricKey)) problems.push({ field: `attachments[${i}].metric_key`, description: "attached twice" });
        if (a.role === MetricRole.UNSPECIFIED || MetricRole[a.role] === undefined) problems.push({ field: `attachments[${i}].role`, description: "is required" });
        seen.add(a.metricKey);
        return problems;
      });
      if (v.length > 0) throw invalidArguments(v);
      await db.transaction((tx) => metrics.setAttachments(tx, req.experimentId, req.attachments));
      return { attachments: await metrics.getAttachments(db, req.experimentId) };
    },
    async getExperimentMetrics(req) {
      return { attachments: await metrics.getAttachments(db, req.experimentId) };
    },

    async getReport(req) {
      return { report: await deps.reporting.report(req) };
    },
    async getMetricValue(req) {
      const [value] = await deps.reporting.metricValues([req]);
      return { value };
    },
    async batchGetMetricValues(req) {
      if (req.requests.length > MAX_BATCH) throw invalidArgument("requests", `at most ${MAX_BATCH} per call`);
      return { values: await deps.reporting.metricValues(req.requests) };
    },
  };
}
