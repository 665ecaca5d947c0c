import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { createMemoryBus, type Bus } from "@lotty/platform/bus";
import { createRedisCache, type Cache } from "@lotty/platform/cache";
import { dropDatabase, ensureDatabase, openPostgres, type Db } from "@lotty/platform/db";
import { DecisionReason } from "@lotty/proto/decision";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeExperimentService, startDecision, type Harness } from "./harness.js";
import { ruleset, subjects } from "./fixtures.js";

const pgAdmin = process.env.LOTTY_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const redisUrl = process.env.LOTTY_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const unique = `${process.pid}_${randomBytes(4).toString("hex")}`;
const database = `lotty_test_decision_${unique}`;
const keyPrefix = `lotty-test:decision:${unique}:`;

let db: Db;
let cache: Cache;
let bus: Bus;
const replicas: Harness[] = [];

beforeAll(async () => {
  await ensureDatabase(pgAdmin, database);
  const url = new URL(pgAdmin);
  url.pathname = `/${database}`;
  db = openPostgres(url.toString());
  cache = createRedisCache(redisUrl, { keyPrefix });
  bus = createMemoryBus();
  const experiment = () =>
    new FakeExperimentService(ruleset({ flags: ["f"], experiments: [{ id: "exp-f", flag: "f", weights: { a: 1, b: 1, c: 1 } }] }));
  // Two replicas over the same Redis and Postgres.
  for (let i = 0; i < 2; i++) replicas.push(await startDecision({ db, bus, cache, experiment: experiment() }));
});

afterAll(async () => {
  await Promise.all(replicas.map((r) => r.close()));
  await bus.close();
  await cache.close();
  await db.close();
  await dropDatabase(pgAdmin, database);
  const admin = new Redis(redisUrl);
  try {
    const keys = await admin.keys(`${keyPrefix}*`);
    if (keys.length > 0) await admin.del(...keys);
  } finally {
    await admin.quit();
  }
});

describe("decision service on real Redis and Postgres", () => {
  it("concurrent first decides on two replicas agree on one durable assignment", async () => {
    for (const subjectId of subjects(20, `int-${unique}-`)) {
      const answers = await Promise.all(replicas.flatMap((r) => [r, r].map((x) => x.client.decide({ subjectId, flagKey: "f" }))));
      expect(new Set(answers.map((a) => a.reason))).toEqual(new Set([DecisionReason.EXPERIMENT_ASSIGNED]));
      expect(new Set(answers.map((a) => a.variant)).size).toBe(1);
      const { rows } = await db.query<{ variant: string }>("SELECT variant FROM decision.assignments WHERE subject_id = $1", [subjectId]);
      expect(rows).toEqual([{ variant: answers[0].variant }]);
    }
  });

  it("serves the assignment from Redis (hydrated from Postgres) after the hash is deleted", async () => {
    const subjectId = `int-${unique}-hydrate`;
    const first = await replicas[0].client.decide({ subjectId, flagKey: "f" });
    await cache.del(`lotty:decision:asg:${subjectId}`);
    await db.query("UPDATE decision.assignments SET variant = 'c' WHERE subject_id = $1", [subjectId]);
    // Postgres is the record: the next decide re-reads it and refills Redis.
    expect((await replicas[1].client.decide({ subjectId, flagKey: "f" })).variant).toBe("c");
    expect(await cache.hgetall(`lotty:decision:asg:${subjectId}`)).toMatchObject({ "exp-f": expect.stringMatching(/:c$/) });
    expect(first.reason).toBe(DecisionReason.EXPERIMENT_ASSIGNED);
  });
});
