// Accounting of a fault run's events: what the client was told is stored, against what the metrics
// service stored and what its report counts, per phase (one event type per phase). Attribution may
// lag a confirmation: an event whose type needs an exposure waits in metrics.pending_events until
// the exposure arrives (from the decision service, in batches over NATS). So the counts are read
// once they settle, and a gap is explained event by event, telling a lost event (confirmed, not
// stored) from a late one (stored, still waiting) and from one the report leaves out.
import type pg from "pg";

/** One query on the metrics service's database. */
export type MetricsQuery = <R extends pg.QueryResultRow>(sql: string, params: unknown[]) => Promise<R[]>;

export interface ConfirmedEvents {
  phase: string;
  eventType: string;
  /** Event ids the service confirmed. */
  confirmed: readonly string[];
}

export interface PhaseCount {
  phase: string;
  confirmed: number;
  /** Confirmed events present in metrics.events. */
  found: number;
  /** Events of the phase's type in metrics.events, confirmed or not. */
  stored: number;
  /** Of those, waiting in metrics.pending_events for their exposure. */
  pending: number;
  /** Events the report counts for the phase's count metric. */
  reported: number;
}

const balanced = (c: PhaseCount) => c.found === c.confirmed && c.pending === 0 && c.stored === c.reported;

export interface SettleOptions {
  phases: readonly ConfirmedEvents[];
  query: MetricsQuery;
  /** The report's count per phase, in the order of `phases`. */
  reported(): Promise<number[]>;
  /** Give up waiting after this long (the counts are then returned as they are). */
  deadlineMs: number;
  pollMs?: number;
  /** Unbalanced counts are final once this many reads in a row, with nothing pending, found them unchanged. */
  stableReads?: number;
}

/**
 * Reads the counts until every phase balances, or nothing is pending and the counts stopped
 * changing, or the deadline passed. A run without a gap costs one read.
 */
export async function settleEventCounts(opts: SettleOptions): Promise<{ counts: PhaseCount[]; waitedMs: number }> {
  const { pollMs = 250, stableReads = 3 } = opts;
  const started = Date.now();
  const types = opts.phases.map((p) => p.eventType);
  const confirmed = opts.phases.flatMap((p) => p.confirmed);
  let previous = "";
  let unchanged = 0;
  for (;;) {
    const [rows, reported] = await Promise.all([
      opts.query<{ type: string; stored: number; found: number; pending: number }>(
        `SELECT e.type, count(*)::int AS stored, count(*) FILTER (WHERE e.event_id = ANY($2))::int AS found, count(p.event_id)::int AS pending
           FROM metrics.events e LEFT JOIN metrics.pending_events p USING (event_id)
          WHERE e.type = ANY($1) GROUP BY e.type`,
        [types, confirmed],
      ),
      opts.reported(),
    ]);
    const byType = new Map(rows.map((r) => [r.type, r]));
    const counts = opts.phases.map((p, i): PhaseCount => {
      const r = byType.get(p.eventType);
      return { phase: p.phase, confirmed: p.confirmed.length, found: r?.found ?? 0, stored: r?.stored ?? 0, pending: r?.pending ?? 0, reported: reported[i] };
    });
    const key = JSON.stringify(counts);
    unchanged = key === previous ? unchanged + 1 : 0;
    previous = key;
    const waitedMs = Date.now() - started;
    const final = unchanged + 1 >= stableReads && counts.every((c) => c.pending === 0);
    if (counts.every(balanced) || final || waitedMs >= opts.deadlineMs) return { counts, waitedMs };
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/**
 * Why the counts do not balance, for the failure message: confirmed events missing from the store
 * (lost), stored events still waiting for an exposure (late), and subjects whose other stored events
 * the experiment's rollups do not hold, with what attribution needs (the exposure, the decision).
 */
export async function explainEventGap(query: MetricsQuery, phases: readonly ConfirmedEvents[], experimentId: string): Promise<string> {
  const types = phases.map((p) => p.eventType);
  const lines: string[] = [];
  const present = await query<{ event_id: string }>("SELECT event_id FROM metrics.events WHERE event_id = ANY($1)", [phases.flatMap((p) => p.confirmed)]);
  const stored = new Set(present.map((r) => r.event_id));
  for (const p of phases) {
    const missing = p.confirmed.filter((id) => !stored.has(id));
    if (missing.length > 0) lines.push(`${p.phase}: ${missing.length} confirmed events not stored (lost): ${missing.slice(0, 10).join(", ")}`);
  }
  const pending = await query<{ type: string; event_id: string; subject_id: string; decision_id: string; received_at: Date; decision_known: boolean; exposed: boolean }>(
    `SELECT e.type, p.event_id, p.subject_id, p.decision_id, p.received_at,
            EXISTS (SELECT 1 FROM metrics.decisions d WHERE d.decision_id = p.decision_id) AS decision_known,
            EXISTS (SELECT 1 FROM metrics.exposures x WHERE x.experiment_id = $2 AND x.subject_id = p.subject_id) AS exposed
       FROM metrics.pending_events p JOIN metrics.events e USING (event_id)
      WHERE e.type = ANY($1) ORDER BY p.received_at LIMIT 20`,
    [types, experimentId],
  );
  for (const r of pending) {
    lines.push(
      `${r.type}: ${r.event_id} still waiting for its exposure (late) since ${new Date(r.received_at).toISOString()}: subject ${r.subject_id}, decision ${r.decision_id || "(none)"} ${r.decision_known ? "known" : "not seen"}, subject ${r.exposed ? "exposed" : "not exposed"}`,
    );
  }
  const unattributed = await query<{ type: string; subject_id: string; stored: number; rolled_up: number; exposed_at: Date | null; first_event: Date; decided_for: string[] }>(
    `WITH s AS (
       SELECT e.type, e.subject_id, count(*)::int AS stored, min(e.occur_time) AS first_event,
              array_agg(DISTINCT coalesce(d.experiment_id, 'unseen decision')) AS decided_for
         FROM metrics.events e LEFT JOIN metrics.decisions d USING (decision_id)
        WHERE e.type = ANY($1) AND NOT EXISTS (SELECT 1 FROM metrics.pending_events p WHERE p.event_id = e.event_id)
        GROUP BY 1, 2
     ), r AS (
       SELECT event_type AS type, subject_id, sum(count)::int AS rolled_up FROM metrics.subject_rollups
        WHERE experiment_id = $2 AND event_type = ANY($1) GROUP BY 1, 2
     )
     SELECT s.*, coalesce(r.rolled_up, 0) AS rolled_up, x.first_at AS exposed_at
       FROM s LEFT JOIN r USING (type, subject_id)
       LEFT JOIN metrics.exposures x ON x.experiment_id = $2 AND x.subject_id = s.subject_id
      WHERE s.stored <> coalesce(r.rolled_up, 0) ORDER BY 1, 2 LIMIT 20`,
    [types, experimentId],
  );
  for (const r of unattributed) {
    const exposure = r.exposed_at ? `exposed at ${new Date(r.exposed_at).toISOString()}` : "not exposed";
    lines.push(
      `${r.type}: subject ${r.subject_id} has ${r.stored} stored, ${r.rolled_up} in the rollups (${exposure}, first event at ${new Date(r.first_event).toISOString()}, decisions for ${r.decided_for.join(", ")})`,
    );
  }
  return lines.length > 0 ? lines.join("\n") : "every stored event is in the experiment's rollups and none is pending: the report's per-variant statistics disagree with the rollups";
}
