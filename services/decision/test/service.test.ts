import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { createMemoryBus, type Bus } from "@lotty/platform/bus";
import { createMemoryCache, type Cache } from "@lotty/platform/cache";
import { openPglite, type Db } from "@lotty/platform/db";
import { Subjects } from "@lotty/platform/events";
import { DecisionReason, RulesetSource } from "@lotty/proto/decision";
import { ExperimentStatusChangedSchema, ExposureBatchSchema, FlagChangedSchema, type Exposure } from "@lotty/proto/events";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { breakableBus, breakableCache, breakableDb, FakeExperimentService, startDecision, type Harness, type Outage } from "./harness.js";
import { ruleset, subjects } from "./fixtures.js";
import { KnownAssignments } from "../src/store/history.js";

let db: Db;
let bus: Bus;
const started: Harness[] = [];

beforeAll(async () => {
  db = await openPglite();
  bus = createMemoryBus();
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((h) => h.close()));
});
afterAll(async () => {
  await bus.close();
  await db.close();
});

const baseRuleset = (version = 1n) =>
  ruleset({
    version,
    flags: ["checkout", "banner", "plain"],
    experiments: [
      { id: "exp-checkout", flag: "checkout", targeting: 'country == "US"', maxConcurrent: 1, cooldownSeconds: 3600 },
      { id: "exp-banner", flag: "banner", maxConcurrent: 1, cooldownSeconds: 3600 },
    ],
  });

async function start(opts: { cache?: Cache; db?: Db; bus?: Bus; experiment?: FakeExperimentService; config?: Parameters<typeof startDecision>[0]["config"] } = {}) {
  const experiment = opts.experiment ?? new FakeExperimentService(baseRuleset());
  const h = await startDecision({ db: opts.db ?? db, bus: opts.bus ?? bus, cache: opts.cache ?? createMemoryCache(), experiment, config: opts.config });
  started.push(h);
  return { ...h, experiment };
}

const us = { country: { kind: { case: "stringValue" as const, value: "US" } } };
let subjectSeq = 0;
const freshSubject = () => `subject-${process.pid}-${subjectSeq++}`;

describe("decide through the module", () => {
  it("assigns, stores the assignment durably before answering, and stays sticky", async () => {
    const { client } = await start();
    const subjectId = freshSubject();
    const first = await client.decide({ subjectId, flagKey: "checkout", attributes: us });
    expect(first.reason).toBe(DecisionReason.EXPERIMENT_ASSIGNED);
    expect(first.rulesetVersion).toBe(1n);
    const { rows } = await db.query<{ variant: string }>("SELECT variant FROM decision.assignments WHERE subject_id = $1", [subjectId]);
    expect(rows).toEqual([{ variant: first.variant }]);
    const again = await client.decide({ subjectId, flagKey: "checkout", attributes: us });
    expect(again.variant).toBe(first.variant);
    expect(again.decisionId).not.toBe(first.decisionId);
    const assignments = await client.getAssignments({ subjectId });
    expect(assignments.assignments.map((a) => [a.experimentId, a.variant])).toEqual([["exp-checkout", first.variant]]);
  });

  it("keeps a stored assignment when Redis lost it (Postgres is the record)", async () => {
    const cacheA = createMemoryCache();
    const a = await start({ cache: cacheA });
    const subjectId = freshSubject();
    const first = await a.client.decide({ subjectId, flagKey: "checkout", attributes: us });
    // A second replica with an empty cache and weights flipped so fresh bucketing would differ.
    const flipped = baseRuleset(2n);
    const other = first.variant === "control" ? "treatment" : "control";
    for (const v of flipped.experiments[0].variants) v.weight = v.name === other ? 1 : 0;
    const b = await start({ experiment: new FakeExperimentService(flipped) });
    const second = await b.client.decide({ subjectId, flagKey: "checkout", attributes: us });
    expect(second.rulesetVersion).toBe(2n);
    expect(second.variant).toBe(first.variant);
  });

  it("applies the participation limit across flags in one batch, in request order", async () => {
    const { client } = await start();
    const subjectId = freshSubject();
    const res = await client.decideBatch({ subjectId, attributes: us, flagKeys: ["plain", "checkout", "banner", "missing"] });
    expect(res.decisions.map((d) => [d.flagKey, d.reason])).toEqual([
      ["plain", DecisionReason.NO_ACTIVE_EXPERIMENT],
      ["checkout", DecisionReason.EXPERIMENT_ASSIGNED],
      ["banner", DecisionReason.PARTICIPATION_LIMIT],
      ["missing", DecisionReason.FLAG_NOT_FOUND],
    ]);
    const all = await client.decideBatch({ subjectId, attributes: us, flagKeys: [] });
    expect(all.decisions.map((d) => d.flagKey).sort()).toEqual(["banner", "checkout", "plain"]);
  });

  it("records experiment ends from status events and applies the cooldown", async () => {
    const { client } = await start();
    const subjectId = freshSubject();
    await client.decide({ subjectId, flagKey: "checkout", attributes: us });
    const event = create(ExperimentStatusChangedSchema, {
      experimentId: "exp-checkout",
      fromStatus: "running",
      toStatus: "completed",
      occurTime: timestampFromMs(Date.now()),
    });
    await bus.publish(Subjects.experimentStatusChanged, toBinary(ExperimentStatusChangedSchema, event));
    await vi.waitFor(async () => {
      const { rows } = await db.query("SELECT 1 FROM decision.experiment_ends WHERE experiment_id = 'exp-checkout'");
      expect(rows).toHaveLength(1);
    });
    // Still inside the one-hour cooldown of exp-checkout: banner is refused.
    expect((await client.decide({ subjectId, flagKey: "banner" })).reason).toBe(DecisionReason.PARTICIPATION_LIMIT);
    const assignments = await client.getAssignments({ subjectId });
    expect(assignments.assignments[0].endTime).toBeDefined();
    await db.query("DELETE FROM decision.experiment_ends");
  });

  it("rejects invalid input naming the field", async () => {
    const { client } = await start();
    const code = async (p: Promise<unknown>) => {
      const err = await p.then(() => undefined, (e: unknown) => ConnectError.from(e));
      return [err?.code, err?.rawMessage];
    };
    expect(await code(client.decide({ subjectId: "", flagKey: "f" }))).toEqual([Code.InvalidArgument, expect.stringContaining("subject_id")]);
    expect(await code(client.decide({ subjectId: "x".repeat(257), flagKey: "f" }))).toEqual([Code.InvalidArgument, expect.stringContaining("subject_id")]);
    expect(await code(client.decide({ subjectId: "s", flagKey: "" }))).toEqual([Code.InvalidArgument, expect.stringContaining("flag_key")]);
    const attributes = Object.fromEntries(subjects(65, "a").map((k) => [k, { kind: { case: "boolValue" as const, value: true } }]));
    expect(await code(client.decide({ subjectId: "s", flagKey: "f", attributes }))).toEqual([Code.InvalidArgument, expect.stringContaining("attributes")]);
    expect(await code(client.decideBatch({ subjectId: "s", flagKeys: subjects(201, "f") }))).toEqual([Code.InvalidArgument, expect.stringContaining("flag_keys")]);
  });
});

describe("ruleset", () => {
  it("refreshes on a change event", async () => {
    const { client, experiment } = await start();
    expect((await client.getRulesetStatus({})).source).toBe(RulesetSource.LIVE);
    expect((await client.decide({ subjectId: "s", flagKey: "new-flag" })).reason).toBe(DecisionReason.FLAG_NOT_FOUND);
    experiment.ruleset = ruleset({ version: 2n, flags: ["new-flag"] });
    await bus.publish(Subjects.flagChanged, toBinary(FlagChangedSchema, create(FlagChangedSchema, {})));
    await vi.waitFor(async () => expect((await client.getRulesetStatus({})).version).toBe(2n));
    expect((await client.decide({ subjectId: "s", flagKey: "new-flag" })).reason).toBe(DecisionReason.NO_ACTIVE_EXPERIMENT);
  });

  it("coalesces concurrent refreshes", async () => {
    const { module, experiment } = await start();
    const before = experiment.calls;
    await Promise.all(Array.from({ length: 10 }, () => module.refreshRuleset()));
    // One in flight plus at most one follow-up for the calls that arrived meanwhile.
    expect(experiment.calls - before).toBeLessThanOrEqual(2);
  });

  it("starts from the snapshot when the experiment service is down", async () => {
    const cache = createMemoryCache();
    const live = await start({ cache });
    expect((await live.client.getRulesetStatus({})).source).toBe(RulesetSource.LIVE);
    await vi.waitFor(async () => expect(await cache.get("lotty:decision:ruleset")).not.toBeNull());
    const down = new FakeExperimentService(baseRuleset());
    down.down = true;
    const fallback = await start({ cache, experiment: down });
    const status = await fallback.client.getRulesetStatus({});
    expect([status.source, status.version, status.flagCount, status.experimentCount]).toEqual([RulesetSource.SNAPSHOT, 1n, 3, 2]);
    expect((await fallback.client.decide({ subjectId: freshSubject(), flagKey: "checkout", attributes: us })).reason).toBe(DecisionReason.EXPERIMENT_ASSIGNED);
    // When the service returns, the next refresh goes live.
    down.down = false;
    await fallback.module.refreshRuleset();
    expect((await fallback.client.getRulesetStatus({})).source).toBe(RulesetSource.LIVE);
  });

  it("reports an empty ruleset when neither source is available, and still answers", async () => {
    const down = new FakeExperimentService(baseRuleset());
    down.down = true;
    const { client } = await start({ experiment: down });
    expect((await client.getRulesetStatus({})).source).toBe(RulesetSource.EMPTY);
    expect((await client.decide({ subjectId: "s", flagKey: "checkout" })).reason).toBe(DecisionReason.FLAG_NOT_FOUND);
  });
});

describe("degraded mode", () => {
  it("answers from Postgres when Redis fails, and with the default or a known assignment when both fail", async () => {
    const redis: Outage = { down: false };
    const postgres: Outage = { down: false };
    const cache = breakableCache(createMemoryCache(), redis);
    const a = await start({ cache, db: breakableDb(db, postgres) });
    // A second replica over the same stores, which has not met the subject yet.
    const { client } = await start({ cache, db: breakableDb(db, postgres) });
    const known = freshSubject();
    const first = await a.client.decide({ subjectId: known, flagKey: "checkout", attributes: us });

    redis.down = true;
    const viaPostgres = await client.decide({ subjectId: known, flagKey: "checkout", attributes: us });
    expect([viaPostgres.reason, viaPostgres.variant]).toEqual([DecisionReason.EXPERIMENT_ASSIGNED, first.variant]);

    postgres.down = true;
    // Its stored assignment, now known to this replica, answers without either store...
    const sticky = await client.decide({ subjectId: known, flagKey: "checkout", attributes: us });
    expect([sticky.reason, sticky.variant]).toEqual([DecisionReason.EXPERIMENT_ASSIGNED, first.variant]);
    // ...but a flag that needs the history (banner: the participation limit) makes the answers
    // that depend on it degraded, still keeping the known variant.
    const both = await client.decideBatch({ subjectId: known, flagKeys: ["checkout", "banner"], attributes: us });
    expect(both.decisions.map((d) => [d.reason, d.variant])).toEqual([
      [DecisionReason.DEGRADED, first.variant],
      [DecisionReason.DEGRADED, ""],
    ]);
    expect(both.decisions[0].detail).toMatch(/postgres/);
    const stranger = await client.decide({ subjectId: freshSubject(), flagKey: "checkout", attributes: us });
    expect([stranger.reason, stranger.variant, stranger.value?.kind.value]).toEqual([DecisionReason.DEGRADED, "", "default"]);
    expect(stranger.detail).toMatch(/redis down/);
    // Answers that need no history are unaffected.
    expect((await client.decide({ subjectId: "s", flagKey: "checkout" })).reason).toBe(DecisionReason.TARGETING_MISMATCH);
  });

  it("does not report a new assignment it could not store", async () => {
    const postgres: Outage = { down: false };
    const { client } = await start({ db: breakableDb(db, postgres) });
    postgres.down = true;
    const d = await client.decide({ subjectId: freshSubject(), flagKey: "checkout", attributes: us });
    expect(d.reason).toBe(DecisionReason.DEGRADED);
    expect(d.detail).toMatch(/postgres/);
  });

  it("assigns new subjects again soon after Postgres returns: the open circuit retries after circuitHalfOpenMs", async () => {
    const postgres: Outage = { down: false };
    const { client } = await start({ db: breakableDb(db, postgres), config: { circuitHalfOpenMs: 50 } });
    postgres.down = true;
    // Enough failures to open the circuit: from then on Postgres is not even tried.
    for (let i = 0; i < 6; i++) expect((await client.decide({ subjectId: freshSubject(), flagKey: "checkout", attributes: us })).reason).toBe(DecisionReason.DEGRADED);
    expect((await client.decide({ subjectId: freshSubject(), flagKey: "checkout", attributes: us })).detail).toMatch(/circuit open/);
    postgres.down = false;
    await vi.waitFor(async () => {
      expect((await client.decide({ subjectId: freshSubject(), flagKey: "checkout", attributes: us })).reason).toBe(DecisionReason.EXPERIMENT_ASSIGNED);
    });
  });

  it("async write mode answers first and stores in the background", async () => {
    const { client } = await start({ config: { assignmentWrite: "async" } });
    const subjectId = freshSubject();
    const d = await client.decide({ subjectId, flagKey: "checkout", attributes: us });
    expect(d.reason).toBe(DecisionReason.EXPERIMENT_ASSIGNED);
    await vi.waitFor(async () => {
      const { rows } = await db.query<{ variant: string }>("SELECT variant FROM decision.assignments WHERE subject_id = $1", [subjectId]);
      expect(rows).toEqual([{ variant: d.variant }]);
    });
  });
});

describe("exposures", () => {
  async function collect(target: Bus): Promise<{ events: Exposure[]; close(): Promise<void> }> {
    const events: Exposure[] = [];
    const sub = await target.subscribe({
      subjects: [Subjects.exposureBatches],
      handler: async (m) => void events.push(...fromBinary(ExposureBatchSchema, m.data).exposures),
    });
    return { events, close: () => sub.close() };
  }

  it("publishes every decision with its decision id", async () => {
    const localBus = createMemoryBus();
    const sink = await collect(localBus);
    const { client, module } = await start({ bus: localBus });
    const subjectId = freshSubject();
    const res = await client.decideBatch({ subjectId, attributes: us, flagKeys: ["checkout", "plain", "nope"] });
    await vi.waitFor(() => expect(sink.events).toHaveLength(3));
    expect(sink.events.map((e) => e.decisionId).sort()).toEqual(res.decisions.map((d) => d.decisionId).sort());
    const assigned = sink.events.find((e) => e.flagKey === "checkout")!;
    expect([assigned.reason, assigned.firstAssignment, assigned.eventId, assigned.subjectId]).toEqual(["experiment_assigned", true, assigned.decisionId, subjectId]);
    expect(module.exposureStats()).toEqual({ published: 3, buffered: 0, dropped: 0 });
    await sink.close();
    await localBus.close();
  });

  it("buffers while the bus is down, drains when it returns, and counts overflow", async () => {
    const nats: Outage = { down: true };
    const inner = createMemoryBus();
    const sink = await collect(inner);
    const { client, module } = await start({ bus: breakableBus(inner, nats), config: { exposureBufferSize: 3 } });
    for (let i = 0; i < 5; i++) await client.decide({ subjectId: `s${i}`, flagKey: "plain" });
    await vi.waitFor(() => expect(module.exposureStats()).toEqual({ published: 0, buffered: 3, dropped: 2 }));
    nats.down = false;
    await vi.waitFor(() => expect(sink.events).toHaveLength(3));
    expect(module.exposureStats()).toEqual({ published: 3, buffered: 0, dropped: 2 });
    await sink.close();
    await inner.close();
  });
});

// The fast lane of returning subjects (Decider.decideFromKnown): what it answers from memory must
// be what the stores hold, and everything else must still go to them.

const stickyRuleset = (version: bigint, weights: Record<string, number>) =>
  ruleset({
    version,
    flags: ["checkout", "banner"],
    experiments: [
      { id: "exp-checkout", flag: "checkout", weights, maxConcurrent: 1, cooldownSeconds: 3600 },
      { id: "exp-banner", flag: "banner", maxConcurrent: 1, cooldownSeconds: 3600 },
    ],
  });
const ALL_CONTROL = { control: 1, treatment: 0 };
const ALL_TREATMENT = { control: 0, treatment: 1 };

/** A cache that counts the history reads (HGETALL) and can answer the first ones from a stale view. */
function observedCache(inner: Cache = createMemoryCache()) {
  const seen = { reads: 0, stale: 0 };
  // The memory cache is an object of closures, so its methods can be taken over as they are.
  const cache: Cache = {
    ...inner,
    async hgetall(key) {
      seen.reads++;
      if (seen.stale > 0) {
        seen.stale--;
        // What a read just before another replica's write sees: a complete hash without it.
        return { "~hydrated": "1" };
      }
      return inner.hgetall(key);
    },
  };
  return { cache, seen };
}

function startWith({ weights = ALL_CONTROL, ...opts }: { cache: Cache; weights?: Record<string, number>; db?: Db; config?: Parameters<typeof startDecision>[0]["config"] }) {
  return start({ ...opts, experiment: new FakeExperimentService(stickyRuleset(1n, weights)) });
}

const stored = async (subjectId: string) =>
  (await db.query<{ experiment_id: string; variant: string }>("SELECT experiment_id, variant FROM decision.assignments WHERE subject_id = $1 ORDER BY 1", [subjectId])).rows;

describe("returning subjects answered from this replica's memory", () => {
  it("serves the stored assignment without a Redis read, also after the weights changed", async () => {
    const { cache, seen } = observedCache();
    const { client, module, experiment } = await startWith({ cache });
    const subjectId = freshSubject();
    const first = await client.decide({ subjectId, flagKey: "checkout" });
    expect([first.reason, first.variant]).toEqual([DecisionReason.EXPERIMENT_ASSIGNED, "control"]);
    expect(seen.reads).toBe(1);

    experiment.ruleset = stickyRuleset(2n, ALL_TREATMENT);
    await module.refreshRuleset();
    for (let i = 0; i < 3; i++) {
      const again = await client.decide({ subjectId, flagKey: "checkout" });
      expect([again.reason, again.variant, again.rulesetVersion]).toEqual([DecisionReason.EXPERIMENT_ASSIGNED, "control", 2n]);
    }
    expect(seen.reads).toBe(1);
    expect(await stored(subjectId)).toEqual([{ experiment_id: "exp-checkout", variant: "control" }]);
  });

  it("remembers what it read: a subject assigned by another replica is read once, then served from memory", async () => {
    const shared = createMemoryCache();
    const a = await startWith({ cache: shared });
    const b = observedCache(shared);
    const replicaB = await startWith({ cache: b.cache, weights: ALL_TREATMENT });
    const subjectId = freshSubject();
    expect((await a.client.decide({ subjectId, flagKey: "checkout" })).variant).toBe("control");
    for (let i = 0; i < 3; i++) expect((await replicaB.client.decide({ subjectId, flagKey: "checkout" })).variant).toBe("control");
    expect(b.seen.reads).toBe(1);
  });

  it("keeps the winner of a lost first-assignment race, never its own proposal (sync: the Postgres read-back)", async () => {
    const subjectId = freshSubject();
    const a = await startWith({ cache: createMemoryCache() });
    expect((await a.client.decide({ subjectId, flagKey: "checkout" })).variant).toBe("control");
    // Replica B read the history just before A's write landed, and would bucket into treatment.
    const b = observedCache();
    b.seen.stale = 1;
    const replicaB = await startWith({ cache: b.cache, weights: ALL_TREATMENT });
    const raced = await replicaB.client.decide({ subjectId, flagKey: "checkout" });
    expect([raced.reason, raced.variant]).toEqual([DecisionReason.EXPERIMENT_ASSIGNED, "control"]);
    const reads = b.seen.reads;
    expect((await replicaB.client.decide({ subjectId, flagKey: "checkout" })).variant).toBe("control");
    expect(b.seen.reads).toBe(reads);
    expect(await stored(subjectId)).toEqual([{ experiment_id: "exp-checkout", variant: "control" }]);
  });

  it("keeps the winner of a lost first-assignment race (async: HSETNX lost, then read back)", async () => {
    const shared = createMemoryCache();
    const subjectId = freshSubject();
    const a = await startWith({ cache: shared, config: { assignmentWrite: "async" } });
    expect((await a.client.decide({ subjectId, flagKey: "checkout" })).variant).toBe("control");
    const b = observedCache(shared);
    b.seen.stale = 1;
    const replicaB = await startWith({ cache: b.cache, weights: ALL_TREATMENT, config: { assignmentWrite: "async" } });
    const raced = await replicaB.client.decide({ subjectId, flagKey: "checkout" });
    expect([raced.reason, raced.variant]).toEqual([DecisionReason.EXPERIMENT_ASSIGNED, "control"]);
    const reads = b.seen.reads;
    expect((await replicaB.client.decide({ subjectId, flagKey: "checkout" })).variant).toBe("control");
    expect(b.seen.reads).toBe(reads);
    await vi.waitFor(async () => expect(await stored(subjectId)).toEqual([{ experiment_id: "exp-checkout", variant: "control" }]));
  });

  it("still reads the history for an experiment the subject is not assigned to (participation limit, cooldown)", async () => {
    const { cache, seen } = observedCache();
    const { client } = await startWith({ cache });
    const subjectId = freshSubject();
    await client.decide({ subjectId, flagKey: "checkout" });
    seen.reads = 0;
    // exp-checkout holds the subject's only slot.
    expect((await client.decide({ subjectId, flagKey: "banner" })).reason).toBe(DecisionReason.PARTICIPATION_LIMIT);
    expect(seen.reads).toBe(1);
    const both = await client.decideBatch({ subjectId, flagKeys: ["checkout", "banner"] });
    expect(both.decisions.map((d) => d.reason)).toEqual([DecisionReason.EXPERIMENT_ASSIGNED, DecisionReason.PARTICIPATION_LIMIT]);
    expect(seen.reads).toBe(2);

    // exp-checkout ended two hours ago: the one-hour cooldown is over, banner may take the subject.
    const ended = create(ExperimentStatusChangedSchema, {
      experimentId: "exp-checkout",
      fromStatus: "running",
      toStatus: "completed",
      occurTime: timestampFromMs(Date.now() - 2 * 3600_000),
    });
    await bus.publish(Subjects.experimentStatusChanged, toBinary(ExperimentStatusChangedSchema, ended));
    await vi.waitFor(async () => expect((await client.decide({ subjectId, flagKey: "banner" })).reason).toBe(DecisionReason.EXPERIMENT_ASSIGNED));
    expect(seen.reads).toBeGreaterThan(2);
    // Both assignments known now: no read at all.
    const reads = seen.reads;
    const again = await client.decideBatch({ subjectId, flagKeys: ["checkout", "banner"] });
    expect(again.decisions.map((d) => d.reason)).toEqual([DecisionReason.EXPERIMENT_ASSIGNED, DecisionReason.EXPERIMENT_ASSIGNED]);
    expect(seen.reads).toBe(reads);
    await db.query("DELETE FROM decision.experiment_ends");
  });

  it("does not remember an assignment it could not store", async () => {
    const postgres: Outage = { down: false };
    const { cache, seen } = observedCache();
    const { client } = await startWith({ cache, db: breakableDb(db, postgres) });
    const subjectId = freshSubject();
    // The history reads fine from Redis (a complete, empty hash); the durable write fails.
    await cache.hset(`lotty:decision:asg:${subjectId}`, { "~hydrated": "1" });
    postgres.down = true;
    const refused = await client.decide({ subjectId, flagKey: "checkout" });
    expect([refused.reason, refused.detail]).toEqual([DecisionReason.DEGRADED, expect.stringMatching(/not stored/)]);
    postgres.down = false;
    const reads = seen.reads;
    const next = await client.decide({ subjectId, flagKey: "checkout" });
    expect([next.reason, next.variant]).toEqual([DecisionReason.EXPERIMENT_ASSIGNED, "control"]);
    expect(seen.reads).toBe(reads + 1);
  });
});

describe("KnownAssignments", () => {
  const record = (experimentId: string, variant: string) => ({ experimentId, variant, assignedAtMs: 1 });

  it("merges a subject's assignments and evicts the least recently used subject beyond capacity", () => {
    const known = new KnownAssignments(2);
    known.remember("a", [record("e1", "x")]);
    known.remember("a", [record("e2", "y")]);
    known.remember("b", [record("e1", "z")]);
    expect([...known.of("a")!.values()].map((r) => r.variant)).toEqual(["x", "y"]);
    known.remember("c", [record("e1", "w")]);
    expect([known.of("a")?.size, known.of("b"), known.of("c")?.size]).toEqual([2, undefined, 1]);
    // Nothing to remember: no entry.
    known.remember("d", []);
    expect(known.of("d")).toBeUndefined();
  });
});
