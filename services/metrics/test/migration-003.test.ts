import { loadMigrations, migrate, openPglite, type Db } from "@lotty/platform/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const all = loadMigrations(new URL("../src/store/migrations/", import.meta.url));
let db: Db;

beforeAll(async () => {
  db = await openPglite();
  await migrate(db, "metrics", all.filter((m) => m.id <= 2));
  // What ingest stored before migration 003: an exposure, two events, one pending, their rollups.
  await db.query(`
    INSERT INTO metrics.event_types (key, requires_exposure) VALUES ('buy', false), ('signup', true);
    INSERT INTO metrics.events (event_id, type, decision_id, subject_id, occur_time, value, requires_exposure, experiment_id, variant) VALUES
      ('x1', 'exposure', 'd1', 'u1', '2026-11-20T10:00:00Z', NULL, false, 'exp', 'a'),
      ('b1', 'buy', '', 'u1', '2026-11-20T12:00:00Z', 9.5, false, '', ''),
      ('s1', 'signup', 'd9', 'u1', '2026-11-20T13:00:00Z', NULL, true, '', '');
    INSERT INTO metrics.exposures (experiment_id, subject_id, variant, decision_id, first_at) VALUES ('exp', 'u1', 'a', 'd1', '2026-11-20T10:00:00Z');
    INSERT INTO metrics.decisions VALUES ('d1', 'exp', 'u1');
    INSERT INTO metrics.pending_events VALUES ('s1', 'u1', 'd9', now());
    INSERT INTO metrics.subject_daily VALUES ('u1', 'buy', '2026-11-20', 1, 9.5);
    INSERT INTO metrics.subject_rollups VALUES ('exp', 'a', 'u1', 'buy', '2026-11-20', 1, 9.5, 90.25, '2026-11-20T12:00:00Z');
    INSERT INTO metrics.subject_totals VALUES ('exp', 'buy', 'u1', 'a', '2026-11-20', 1, 9.5, 0, 0);
  `);
  await migrate(db, "metrics", all);
}, 30_000);

afterAll(async () => {
  await db.close();
});

describe("migration 003 (narrow ingest)", () => {
  it("keeps every stored event, exposure, decision, pending event and rollup", async () => {
    const events = await db.query("SELECT event_id, type, decision_id, subject_id, value, requires_exposure FROM metrics.events ORDER BY event_id");
    expect(events.rows).toEqual([
      { event_id: "b1", type: "buy", decision_id: "", subject_id: "u1", value: 9.5, requires_exposure: false },
      { event_id: "s1", type: "signup", decision_id: "d9", subject_id: "u1", value: null, requires_exposure: true },
      { event_id: "x1", type: "exposure", decision_id: "d1", subject_id: "u1", value: null, requires_exposure: false },
    ]);
    const counts = await db.query<{ t: string; n: number }>(
      `SELECT 'exposures' AS t, count(*)::int AS n FROM metrics.exposures UNION ALL SELECT 'decisions', count(*)::int FROM metrics.decisions
       UNION ALL SELECT 'pending', count(*)::int FROM metrics.pending_events UNION ALL SELECT 'rollups', count(*)::int FROM metrics.subject_rollups
       UNION ALL SELECT 'totals', count(*)::int FROM metrics.subject_totals`,
    );
    expect(Object.fromEntries(counts.rows.map((r) => [r.t, r.n]))).toEqual({ exposures: 1, decisions: 1, pending: 1, rollups: 1, totals: 1 });
  });

  it("compares keys bytewise and drops what ingest no longer writes", async () => {
    const { rows } = await db.query<{ table_name: string; column_name: string; collation_name: string | null }>(
      `SELECT table_name, column_name, collation_name FROM information_schema.columns
        WHERE table_schema = 'metrics' AND table_name IN ('events', 'exposures') ORDER BY table_name, column_name`,
    );
    const collation = Object.fromEntries(rows.map((r) => [`${r.table_name}.${r.column_name}`, r.collation_name]));
    expect(collation).toMatchObject({ "events.event_id": "C", "events.subject_id": "C", "exposures.subject_id": "C", "exposures.experiment_id": "C" });
    expect(collation).not.toHaveProperty("events.experiment_id");
    const gone = await db.query("SELECT 1 FROM information_schema.tables WHERE table_schema = 'metrics' AND table_name = 'subject_daily'");
    expect(gone.rowCount).toBe(0);
  });

  it("still refuses a second exposure row per subject and experiment, and pending events of unknown events", async () => {
    const again = await db.query(
      "INSERT INTO metrics.exposures (experiment_id, subject_id, variant, first_at) VALUES ('exp', 'u1', 'b', now()) ON CONFLICT (experiment_id, subject_id) DO NOTHING RETURNING 1",
    );
    expect(again.rowCount).toBe(0);
    await expect(db.query("INSERT INTO metrics.pending_events VALUES ('nope', 'u1', '', now())")).rejects.toThrow(/foreign key/);
  });
});
