import { Code, ConnectError } from "@connectrpc/connect";
import { dropDatabase, ensureDatabase, openPostgres, type Db } from "@lotty/platform/db";
import { ExperimentStatus as S } from "@lotty/proto/experiment";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { as, boolFlag, runningExperiment, startHarness, type Harness } from "./harness.js";

const ADMIN = process.env.LOTTY_TEST_PG_ADMIN_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const NAME = `lotty_experiment_it_${randomBytes(4).toString("hex")}`;

let db: Db;
let h: Harness;
beforeAll(async () => {
  await ensureDatabase(ADMIN, NAME);
  db = openPostgres(ADMIN.replace(/\/[^/]*$/, `/${NAME}`));
  h = await startHarness(db);
});
afterAll(async () => {
  await h?.close();
  await db?.close();
  await dropDatabase(ADMIN, NAME);
});

describe("optimistic concurrency on real Postgres", () => {
  it("lets exactly one of two concurrent pauses with the same expected version win", async () => {
    await boolFlag(h.client, "conc.flag");
    const e = await runningExperiment(h.client, "conc.flag");
    const results = await Promise.allSettled([
      h.client.pauseExperiment({ id: e.id, expectedVersion: e.version, reason: "sweep" }, as("service:guardrail")),
      h.client.pauseExperiment({ id: e.id, expectedVersion: e.version, reason: "person" }, as("alice")),
    ]);
    const ok = results.filter((r) => r.status === "fulfilled");
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(ok).toHaveLength(1);
    expect(failed).toHaveLength(1);
    expect(ConnectError.from(failed[0].reason).code).toBe(Code.Aborted);
    const now = (await h.client.getExperiment({ id: e.id })).experiment!;
    expect(now.status).toBe(S.PAUSED);
    expect(now.version).toBe(e.version + 1n);
    const pauses = (await h.client.listAuditEvents({ experimentId: e.id, actions: ["status_changed"] })).events.filter((x) => x.toStatus === "paused");
    expect(pauses).toHaveLength(1);
  });

  it("lets one of two concurrent starts on the same flag win", async () => {
    await boolFlag(h.client, "conc.start");
    const approved = [];
    for (let i = 0; i < 2; i++) {
      let e = (await h.client.createExperiment({ experiment: { name: `s${i}`, owner: "alice", flagKey: "conc.start", variants: [{ name: "a", control: true, weight: 1, value: { kind: { case: "boolValue", value: false } } }, { name: "b", weight: 1, value: { kind: { case: "boolValue", value: true } } }] } }, as("alice"))).experiment!;
      e = (await h.client.submitExperiment({ id: e.id, expectedVersion: e.version }, as("alice"))).experiment!;
      approved.push((await h.client.approveExperiment({ id: e.id, expectedVersion: e.version }, as("bob"))).experiment!);
    }
    const results = await Promise.allSettled(approved.map((e) => h.client.startExperiment({ id: e.id, expectedVersion: e.version }, as("alice"))));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected")!;
    expect(ConnectError.from(failed.reason).code).toBe(Code.FailedPrecondition);
  });
});
