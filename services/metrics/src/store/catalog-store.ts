import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Queryable } from "@lotty/platform/db";
import { EventFieldSchema, EventTypeSchema, type EventFieldType, type EventType } from "@lotty/proto/metrics";
import type { EventTypeRule } from "../domain/event-validation.js";

interface Row {
  key: string;
  description: string;
  fields: { name: string; type: number; required: boolean }[];
  requires_exposure: boolean;
  archived: boolean;
  version: string;
  create_time: Date;
}

const toProto = (r: Row): EventType =>
  create(EventTypeSchema, {
    key: r.key,
    description: r.description,
    fields: r.fields.map((f) => create(EventFieldSchema, { name: f.name, type: f.type as EventFieldType, required: f.required })),
    requiresExposure: r.requires_exposure,
    archived: r.archived,
    version: BigInt(r.version),
    createTime: timestampFromDate(new Date(r.create_time)),
  });

const fieldsJson = (t: EventType) => JSON.stringify(t.fields.map((f) => ({ name: f.name, type: f.type, required: f.required })));

/** Inserts a new event type; undefined when the key is taken. */
export async function insertEventType(db: Queryable, t: EventType): Promise<EventType | undefined> {
  const { rows } = await db.query<Row>(
    `INSERT INTO metrics.event_types (key, description, fields, requires_exposure) VALUES ($1, $2, $3::jsonb, $4)
     ON CONFLICT (key) DO NOTHING RETURNING *`,
    [t.key, t.description, fieldsJson(t), t.requiresExposure],
  );
  return rows[0] && toProto(rows[0]);
}

export async function getEventType(db: Queryable, key: string): Promise<EventType | undefined> {
  const { rows } = await db.query<Row>("SELECT * FROM metrics.event_types WHERE key = $1", [key]);
  return rows[0] && toProto(rows[0]);
}

/** Keyset page ordered by key; the token is the last key returned. */
export async function listEventTypes(db: Queryable, opts: { includeArchived: boolean; after: string; limit: number }): Promise<EventType[]> {
  const { rows } = await db.query<Row>(
    `SELECT * FROM metrics.event_types WHERE key > $1 AND ($2 OR NOT archived) ORDER BY key LIMIT $3`,
    [opts.after, opts.includeArchived, opts.limit],
  );
  return rows.map(toProto);
}

/** Applies the masked fields; undefined when missing. */
export async function updateEventType(
  db: Queryable,
  t: EventType,
  paths: ReadonlySet<"description" | "fields" | "requires_exposure">,
): Promise<EventType | undefined> {
  const { rows } = await db.query<Row>(
    `UPDATE metrics.event_types SET
       description = CASE WHEN $2 THEN $3 ELSE description END,
       fields = CASE WHEN $4 THEN $5::jsonb ELSE fields END,
       requires_exposure = CASE WHEN $6 THEN $7 ELSE requires_exposure END,
       version = version + 1
     WHERE key = $1 RETURNING *`,
    [t.key, paths.has("description"), t.description, paths.has("fields"), fieldsJson(t), paths.has("requires_exposure"), t.requiresExposure],
  );
  return rows[0] && toProto(rows[0]);
}

export async function archiveEventType(db: Queryable, key: string): Promise<EventType | undefined> {
  const { rows } = await db.query<Row>(
    `UPDATE metrics.event_types SET archived = true, version = version + CASE WHEN archived THEN 0 ELSE 1 END
     WHERE key = $1 RETURNING *`,
    [key],
  );
  return rows[0] && toProto(rows[0]);
}

/** Rules for the given keys (unknown keys are simply absent). */
export async function eventTypeRules(db: Queryable, keys: readonly string[]): Promise<Map<string, EventTypeRule>> {
  const { rows } = await db.query<Row>("SELECT * FROM metrics.event_types WHERE key = ANY($1::text[])", [[...new Set(keys)]]);
  return new Map(
    rows.map((r) => [
      r.key,
      { key: r.key, archived: r.archived, requiresExposure: r.requires_exposure, fields: r.fields.map((f) => ({ ...f, type: f.type as EventFieldType })) },
    ]),
  );
}
