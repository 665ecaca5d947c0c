// Metric values for a sweep: every query of a page of experiments deduplicated and fetched with
// BatchGetMetricValues in chunks, never one RPC per variant or guardrail.
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { MetricDirection, MetricType, type MetricValue } from "@lotty/proto/metrics";
import type { MetricInfo } from "../domain/rules.js";
import type { Ctx } from "./context.js";

/** Requests per BatchGetMetricValues call. */
export const BATCH_SIZE = 500;

export interface MetricQuery {
  experimentId: string;
  metricKey: string;
  start: Date;
  end: Date;
}

export function queryKey(q: MetricQuery): string {
  return `${q.experimentId}\u0000${q.metricKey}\u0000${q.start.getTime()}\u0000${q.end.getTime()}`;
}

export function windowQuery(experimentId: string, metricKey: string, windowMs: number, now: Date): MetricQuery {
  return { experimentId, metricKey, start: new Date(now.getTime() - windowMs), end: now };
}

export async function fetchMetricValues(ctx: Ctx, queries: readonly MetricQuery[]): Promise<Map<string, MetricValue>> {
  const unique = [...new Map(queries.map((q) => [queryKey(q), q])).values()];
  const out = new Map<string, MetricValue>();
  for (let i = 0; i < unique.length; i += BATCH_SIZE) {
    const chunk = unique.slice(i, i + BATCH_SIZE);
    const { values } = await ctx.metrics.batchGetMetricValues({
      requests: chunk.map((q) => ({
        experimentId: q.experimentId,
        metricKey: q.metricKey,
        window: { start: timestampFromDate(q.start), end: timestampFromDate(q.end) },
      })),
    });
    chunk.forEach((q, j) => values[j] && out.set(queryKey(q), values[j]));
  }
  return out;
}

/**
 * Metric definitions (direction, type) looked up once per metric per sweep. A metric the metrics
 * service does not know is read as a plain mean with the direction its values carry.
 */
export function metricInfoCache(ctx: Ctx): (keys: Iterable<string>) => Promise<Map<string, MetricInfo>> {
  const cache = new Map<string, Promise<MetricInfo>>();
  const load = (key: string) =>
    ctx.metrics.getMetric({ key }).then(
      ({ metric }) => ({ direction: metric?.direction ?? MetricDirection.UNSPECIFIED, type: metric?.type ?? MetricType.UNSPECIFIED }),
      (err: unknown) => {
        if (ConnectError.from(err).code !== Code.NotFound) throw err;
        return { direction: MetricDirection.UNSPECIFIED, type: MetricType.UNSPECIFIED };
      },
    );
  return async (keys) => {
    const wanted = [...new Set(keys)];
    for (const k of wanted) if (!cache.has(k)) cache.set(k, load(k));
    return new Map(await Promise.all(wanted.map(async (k) => [k, await cache.get(k)!] as const)));
  };
}

/** The value's own direction wins over the definition's (the metrics service resolved it). */
export function infoFor(value: MetricValue | undefined, def: MetricInfo | undefined): MetricInfo {
  const own = value?.direction ?? MetricDirection.UNSPECIFIED;
  return {
    direction: own !== MetricDirection.UNSPECIFIED ? own : (def?.direction ?? MetricDirection.UNSPECIFIED),
    type: def?.type ?? MetricType.UNSPECIFIED,
  };
}
