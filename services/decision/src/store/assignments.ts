import type { Db } from "@lotty/platform/db";
import type { AssignmentRecord } from "../domain/index.js";

interface Row {
  experiment_id: string;
  variant: string;
  assigned_ms: string | number;
}

const toRecord = (r: Row): AssignmentRecord => ({ experimentId: r.experiment_id, variant: r.variant, assignedAtMs: Number(r.assigned_ms) });

const SELECT = `SELECT experiment_id, variant, (extract(epoch FROM assigned_at) * 1000)::bigint AS assigned_ms
                  FROM decision.assignments`;

/** The durable record of sticky assignments in Postgres. */
export class AssignmentStore {
  constructor(private readonly db: Db) {}

  async forSubject(subjectId: string): Promise<AssignmentRecord[]> {
    const { rows } = await this.db.query<Row>(`${SELECT} WHERE subject_id = $1`, [subjectId]);
    return rows.map(toRecord);
  }

  /**
   * Inserts the proposed assignments (first writer wins) and returns the stored ones, which
   * differ from the proposal where a concurrent decide got there first.
   */
  async insertFirstWins(subjectId: string, proposed: readonly AssignmentRecord[]): Promise<AssignmentRecord[]> {
    if (proposed.length === 0) return [];
    const params: unknown[] = [subjectId];
    const values = proposed.map((a) => {
      params.push(a.experimentId, a.variant, new Date(a.assignedAtMs).toISOString());
      const n = params.length;
      return `($1, $${n - 2}, $${n - 1}, $${n}::timestamptz)`;
    });
    await this.db.query(
      `INSERT INTO decision.assignments (subject_id, experiment_id, variant, assigned_at) VALUES ${values.join(", ")}
       ON CONFLICT (subject_id, experiment_id) DO NOTHING`,
      params,
    );
    // Read back the winners in a separate statement: it sees rows a concurrent writer committed.
    const { rows } = await this.db.query<Row>(`${SELECT} WHERE subject_id = $1 AND experiment_id = ANY($2::text[])`, [
      subjectId,
      proposed.map((a) => a.experimentId),
    ]);
    return rows.map(toRecord);
  }
}

/** End times of completed / archived experiments (cooldown starts there). */
export class ExperimentEndStore {
  constructor(private readonly db: Db) {}

  async record(experimentId: string, endedAtMs: number): Promise<void> {
    await this.db.query(
      `INSERT INTO decision.experiment_ends (experiment_id, ended_at) VALUES ($1, $2::timestamptz)
       ON CONFLICT (experiment_id) DO NOTHING`,
      [experimentId, new Date(endedAtMs).toISOString()],
    );
  }

  async all(): Promise<Map<string, number>> {
    const { rows } = await this.db.query<{ experiment_id: string; ended_ms: string | number }>(
      `SELECT experiment_id, (extract(epoch FROM ended_at) * 1000)::bigint AS ended_ms FROM decision.experiment_ends`,
    );
    return new Map(rows.map((r) => [r.experiment_id, Number(r.ended_ms)]));
  }
}
