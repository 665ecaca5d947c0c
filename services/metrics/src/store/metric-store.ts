import { create } from "@bufbuild/protobuf";
import { durationFromMs, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Queryable } from "@lotty/platform/db";
import {
  MetricAttachmentSchema,
  MetricSchema,
  type Metric,
  type MetricAttachment,
  type MetricDirection,
  type MetricRole,
  type MetricType,
} from "@lotty/proto/metrics";
import { durationSeconds } from "../domain/definition-validation.js";

interface Row {
  key: string;
  name: string;
  description: string;
  direction: number;
  type: number;
  event_type: string;
  denominator_event_type: string;
  conversion_window_s: number | null;
  percentile: number;
  cap_percentile: number;
  cap_value: number;
  archived: boolean;
  version: string;
  create_time: Date;
}

const toProto = (r: Row): Metric =>
  create(MetricSchema, {
    key: r.key,
    name: r.name,
    description: r.description,
    direction: r.direction as MetricDirection,
    type: r.type as MetricType,
    eventType: r.event_type,
    denominatorEventType: r.denominator_event_type,
    conversionWindow: r.conversion_window_s === null ? undefined : durationFromMs(r.conversion_window_s * 1000),
    percentile: r.percentile,
    capPercentile: r.cap_percentile,
    capValue: r.cap_value,
    archived: r.archived,
    version: BigInt(r.version),
    createTime: timestampFromDate(new Date(r.create_time)),
  });

const windowSeconds = (m: Metric) => (m.conversionWindow ? durationSeconds(m.conversionWindow) : null);

export async function insertMetric(db: Queryable, m: Metric): Promise<Metric | undefined> {
  const { rows } = await db.query<Row>(
    `INSERT INTO metrics.metrics (key, name, description, direction, type, event_type, denominator_event_type,
                                  conversion_window_s, percentile, cap_percentile, cap_value)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (key) DO NOTHING RETURNING *`,
    [m.key, m.name, m.description, m.direction, m.type, m.eventType, m.denominatorEventType, windowSeconds(m), m.percentile, m.capPercentile, m.capValue],
  );
  return rows[0] && toProto(rows[0]);
}

export async function getMetrics(db: Queryable, keys: readonly string[]): Promise<Map<string, Metric>> {
  const { rows } = await db.query<Row>("SELECT * FROM metrics.metrics WHERE key = ANY($1::text[])", [[...new Set(keys)]]);
  return new Map(rows.map((r) => [r.key, toProto(r)]));
}

export async function listMetrics(db: Queryable, opts: { includeArchived: boolean; after: string; limit: number }): Promise<Metric[]> {
  const { rows } = await db.query<Row>(
    `SELECT * FROM metrics.metrics WHERE key > $1 AND ($2 OR NOT archived) ORDER BY key LIMIT $3`,
    [opts.after, opts.includeArchived, opts.limit],
  );
  return rows.map(toProto);
}

/** Replaces the whole row with m (the handler merged the mask); undefined when missing. */
export async function replaceMetric(db: Queryable, m: Metric): Promise<Metric | undefined> {
  const { rows } = await db.query<Row>(
    `UPDATE metrics.metrics SET name = $2, description = $3, direction = $4, conversion_window_s = $5,
       cap_percentile = $6, cap_value = $7, version = version + 1
     WHERE key = $1 RETURNING *`,
    [m.key, m.name, m.description, m.direction, windowSeconds(m), m.capPercentile, m.capValue],
  );
  return rows[0] && toProto(rows[0]);
}

export async function archiveMetric(db: Queryable, key: string): Promise<Metric | undefined> {
  const { rows } = await db.query<Row>(
    `UPDATE metrics.metrics SET archived = true, version = version + CASE WHEN archived THEN 0 ELSE 1 END
     WHERE key = $1 RETURNING *`,
    [key],
  );
  return rows[0] && toProto(rows[0]);
}

export async function setAttachments(db: Queryable, experimentId: string, attachments: readonly MetricAttachment[]): Promise<void> {
  await db.query("DELETE FROM metrics.experiment_metrics WHERE experiment_id = $1", [experimentId]);
  if (attachments.length === 0) return;
  await db.query(
    `INSERT INTO metrics.experiment_metrics (experiment_id, metric_key, role, position)
     SELECT $1, k, r, p FROM unnest($2::text[], $3::int[]) WITH ORDINALITY AS t(k, r, p)`,
    [experimentId, attachments.map((a) => a.metricKey), attachments.map((a) => a.role)],
  );
}

export async function getAttachments(db: Queryable, experimentId: string): Promise<MetricAttachment[]> {
  const { rows } = await db.query<{ metric_key: string; role: number }>(
    "SELECT metric_key, role FROM metrics.experiment_metrics WHERE experiment_id = $1 ORDER BY position",
    [experimentId],
  );
  return rows.map((r) => create(MetricAttachmentSchema, { metricKey: r.metric_key, role: r.role as MetricRole }));
}
