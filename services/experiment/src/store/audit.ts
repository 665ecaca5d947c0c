import { create, type JsonObject } from "@bufbuild/protobuf";
import { ActorSchema, type ActorKind } from "@lotty/proto/common";
import { AuditEventSchema, type AuditEvent } from "@lotty/proto/experiment";
import type { Queryable } from "@lotty/platform/db";
import { randomUUID } from "node:crypto";
import { big, jsonParam, ts } from "./codec.js";

export interface StoredActor {
  id: string;
  kind: ActorKind;
}

export interface AuditEntry {
  experimentId: string;
  action: string;
  actor: StoredActor;
  fromStatus?: string;
  toStatus?: string;
  metadata?: JsonObject;
  at: Date;
  experimentVersion: bigint;
}

export async function appendAudit(q: Queryable, a: AuditEntry): Promise<void> {
  await q.query(
    `INSERT INTO experiment.audit_events
       (id, experiment_id, action, actor_id, actor_kind, from_status, to_status, metadata, occurred_at, experiment_version)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10)`,
    [
      randomUUID(),
      a.experimentId,
      a.action,
      a.actor.id,
      a.actor.kind,
      a.fromStatus ?? "",
      a.toStatus ?? "",
      jsonParam(a.metadata ?? {}),
      a.at.toISOString(),
      a.experimentVersion.toString(),
    ],
  );
}

interface AuditRow {
  id: string;
  seq: string;
  experiment_id: string;
  action: string;
  actor_id: string;
  actor_kind: number;
  from_status: string;
  to_status: string;
  metadata: JsonObject;
  occurred_at: Date;
  experiment_version: string;
}

export async function listAudit(
  q: Queryable,
  f: { experimentId: string; actions: readonly string[]; after?: string; limit: number },
): Promise<Array<{ seq: string; event: AuditEvent }>> {
  const { rows } = await q.query<AuditRow>(
    `SELECT * FROM experiment.audit_events
      WHERE experiment_id = $1 AND (cardinality($2::text[]) = 0 OR action = ANY($2::text[]))
        AND ($3::bigint IS NULL OR seq > $3::bigint)
      ORDER BY seq LIMIT $4`,
    [f.experimentId, f.actions, f.after ?? null, f.limit + 1],
  );
  return rows.map((r) => ({
    seq: r.seq,
    event: create(AuditEventSchema, {
      id: r.id,
      experimentId: r.experiment_id,
      action: r.action,
      actor: create(ActorSchema, { id: r.actor_id, kind: r.actor_kind }),
      fromStatus: r.from_status,
      toStatus: r.to_status,
      metadata: r.metadata,
      occurTime: ts(r.occurred_at),
      experimentVersion: big(r.experiment_version),
    }),
  }));
}
