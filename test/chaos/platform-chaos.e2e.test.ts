// Issue 8 "Chaos and fault tests": the five services as separate processes on a private Postgres
// (a database per service), Redis and NATS, under Decide and TrackEvents traffic, while in turn a
// second replica of the decision, metrics and guardrail services joins, each dependency is
// killed and restarted, Postgres is slowed, and each service is SIGKILLed and restarted. Asserts
// that Decide kept answering, no confirmed event was lost or counted twice, no assignment changed,
// and a guardrail swept twice at once during a fault acted once. CHAOS_PHASE_SECONDS (default 2)
// sets how long each dependency stays down (recovery windows last half of it); the default keeps
// the run under 120 s.
import { durationFromMs, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ValueType } from "@lotty/proto/common";
import { DecisionReason, DecisionService } from "@lotty/proto/decision";
import { ExperimentService, ExperimentStatus, type Experiment } from "@lotty/proto/experiment";
import { GuardrailAction, GuardrailService } from "@lotty/proto/guardrail";
import { MetricDirection, MetricsService, MetricType } from "@lotty/proto/metrics";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBalancer, type Balancer } from "../support/balancer.js";
import { explainEventGap, settleEventCounts } from "../support/event-ledger.js";
import { startEventLoad, type EventLoad } from "../support/event-load.js";
import { assignmentChanges, markdownTable, startDecideLoad, summarize, type DecideLoad } from "../support/load.js";
import { startPrivateStack, type PrivateStack } from "../support/private-stack.js";
import { decideAll, eventFor, pollUntil, submitApproveStart, trackAll } from "../support/scenario.js";

const PHASE_MS = Number(process.env.CHAOS_PHASE_SECONDS ?? "2") * 1000;
const DECIDE_TIMEOUT_MS = 3_000;
const P99_BOUND_MS = 1_500;
const FLAG = "chaos.checkout";
const GUARD_FLAG = "chaos.guard";
const RETURNING = 100;
const GUARD_SUBJECTS = 60;
const PG_DELAY_MS = 30;

const t0 = Date.now();
/** Progress on stderr, so a slow or stuck phase is visible while the test runs. */
const progress = (what: string) => process.stderr.write(`[chaos +${((Date.now() - t0) / 1000).toFixed(1)}s] ${what}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const bool = (b: boolean) => ({ kind: { case: "boolValue" as const, value: b } });
/** Auth is off in this stack: the header names the caller. */
const actor =
  (name: string): Interceptor =>
  (next) =>
  (req) => {
    req.header.set("x-lotty-actor", name);
    return next(req);
  };

/** One step of the run: a fault (or change) under load, then its healing, each a labelled phase. */
interface Step {
  name: string;
  fault(): Promise<unknown>;
  /** Omitted: the fault heals itself (a restarted process). */
  heal?(): Promise<unknown>;
}

const STEPS = [
  "scale out: 2nd decision, metrics, guardrail",
  "postgres killed",
  "redis killed",
  "nats killed",
  `postgres +${PG_DELAY_MS} ms each way, 2 concurrent sweeps`,
  "experiment killed",
  "decision#1 killed",
  "metrics#1 killed",
  "guardrail#1 killed",
  "notification killed",
] as const;
const PHASES = ["baseline", ...STEPS.flatMap((s) => [`${s}: during`, `${s}: after`])];
/** Each phase's events get their own type and count metric, so the report counts them per phase. */
const eventTypeOf = (phase: string) => `chaos_p${PHASES.indexOf(phase)}`;

describe("the platform under faults: five services, two replicas, dependencies and processes killed in turn", () => {
  let stack: PrivateStack;
  let decideBalancer: Balancer;
  let metricsBalancer: Balancer;
  let owner: Client<typeof ExperimentService>;
  let approver: Client<typeof ExperimentService>;
  let decisions: Client<typeof DecisionService>;
  let metrics: Client<typeof MetricsService>;
  let decideLoad: DecideLoad | undefined;
  let eventLoad: EventLoad | undefined;
  let passed = false;
  const since = new Date(Date.now() - 60_000);

  const guardrailAt = (url: string) => createClient(GuardrailService, createGrpcTransport({ baseUrl: url, interceptors: [actor("alice")] }));

  beforeAll(async () => {
    stack = await startPrivateStack();
    progress("private postgres, redis, nats and the five services up");
    const experimentTransport = (who: string) => createGrpcTransport({ baseUrl: stack.primary("experiment").url, interceptors: [actor(who)] });
    owner = createClient(ExperimentService, experimentTransport("alice"));
    approver = createClient(ExperimentService, experimentTransport("bob"));
    decideBalancer = createBalancer();
    decideBalancer.add(stack.primary("decision").url);
    decisions = createClient(DecisionService, decideBalancer.transport);
    metricsBalancer = createBalancer({ interceptors: [actor("alice")] });
    metricsBalancer.add(stack.primary("metrics").url);
    metrics = createClient(MetricsService, metricsBalancer.transport);
  }, 90_000);

  afterAll(async () => {
    await decideLoad?.stop().catch(() => undefined);
    await eventLoad?.stop(1_000).catch(() => undefined);
    if (stack) {
      // The processes' own account of a failed run, for its post-mortem.
      if (!passed) {
        const logFile = join(tmpdir(), `lotty-platform-chaos-${process.pid}.log`);
        writeFileSync(logFile, stack.logs());
        progress(`service logs: ${logFile}`);
      }
      await stack.close();
    }
  }, 60_000);

  /** A running 50/50 experiment (created by alice, approved by bob) on a new boolean flag. */
  async function runningExperiment(flagKey: string, control: string, treatment: string): Promise<Experiment> {
    await owner.createFlag({ key: flagKey, valueType: ValueType.BOOL, defaultValue: bool(false) });
    const { experiment } = await owner.createExperiment({
      experiment: {
        name: flagKey,
        owner: "alice",
        flagKey,
        hypothesis: "treatment is no worse",
        trafficAllocation: 100,
        primaryMetricKey: "chaos_error_rate",
        variants: [
          { name: control, control: true, weight: 50, value: bool(false) },
          { name: treatment, weight: 50, value: bool(true) },
        ],
      },
    });
    const started = await submitApproveStart(owner, approver, experiment!);
    await pollUntil(`${flagKey} served`, async () => {
      const d = await decisions.decide({ subjectId: `${flagKey}-probe`, flagKey });
      return d.reason === DecisionReason.EXPERIMENT_ASSIGNED ? d : undefined;
    });
    return started;
  }

  /** One query on the metrics service's database, on a connection of its own (Postgres is killed in between). */
  async function metricsQuery<R extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<R[]> {
    const c = new pg.Client({ connectionString: stack.databaseUrl("metrics") });
    await c.connect();
    try {
      return (await c.query<R>(sql, params)).rows;
    } finally {
      await c.end();
    }
  }

  /** Waits until the metrics service recorded an exposure for each of these subjects. */
  const exposed = (experimentId: string, subjects: readonly string[]) =>
    pollUntil(`exposures of ${subjects.length} subjects`, async () => {
      const rows = await metricsQuery<{ n: number }>("SELECT count(*)::int AS n FROM metrics.exposures WHERE experiment_id = $1 AND subject_id = ANY($2)", [experimentId, subjects]);
      return rows[0].n === subjects.length ? true : undefined;
    });

  it("Decide answers, events are kept exactly once, assignments hold, a guardrail acts once", async () => {
    // Catalog: one event type and count metric per phase, and the guardrail's error metric.
    for (const phase of PHASES) {
      const key = eventTypeOf(phase);
      await metrics.createEventType({ eventType: { key, description: phase } });
      await metrics.createMetric({ metric: { key, name: phase, type: MetricType.COUNT, eventType: key, direction: MetricDirection.HIGHER_IS_BETTER } });
    }
    await metrics.createEventType({ eventType: { key: "chaos_error", description: "a request failed" } });
    await metrics.createMetric({
      metric: { key: "chaos_error_rate", name: "Error rate", type: MetricType.CONVERSION, eventType: "chaos_error", direction: MetricDirection.LOWER_IS_BETTER },
    });

    const main = await runningExperiment(FLAG, "off", "on");
    const guarded = await runningExperiment(GUARD_FLAG, "control", "treatment");

    // Returning subjects: assigned and exposed before any fault; events are attributed to them.
    const returning = Array.from({ length: RETURNING }, (_, i) => `returning-${i}`);
    const initial = await decideAll(decisions, FLAG, returning, 4);
    expect(initial.filter((d) => d.reason !== DecisionReason.EXPERIMENT_ASSIGNED).map((d) => d.detail)).toEqual([]);
    const variantOf = new Map(returning.map((s, i) => [s, initial[i].variant]));

    // The guarded experiment's treatment fails for everyone: a clear breach of a 20 % threshold.
    const guardSubjects = Array.from({ length: GUARD_SUBJECTS }, (_, i) => `guarded-${i}`);
    const guardDecided = await decideAll(decisions, GUARD_FLAG, guardSubjects, 4);
    await Promise.all([exposed(main.id, returning), exposed(guarded.id, guardSubjects)]);
    await trackAll(
      metrics,
      guardDecided.flatMap((d, i) => (d.variant === "treatment" ? [eventFor(d, guardSubjects[i], "chaos_error", `guard-err-${i}`)] : [])),
    );
    const guardrail = (
      await guardrailAt(stack.primary("guardrail").url).createGuardrail({
        guardrail: {
          experimentId: guarded.id,
          metricKey: "chaos_error_rate",
          window: durationFromMs(3_600_000),
          action: GuardrailAction.PAUSE,
          active: true,
          rule: { case: "threshold", value: { threshold: 0.2 } },
        },
      })
    ).guardrail!;
    progress("experiments running, returning subjects exposed, guardrail set");

    decideLoad = startDecideLoad({
      client: decisions,
      flagKey: FLAG,
      attributes: {},
      concurrency: 4,
      returningSubjects: returning,
      timeoutMs: DECIDE_TIMEOUT_MS,
      pauseMs: 5,
      phase: "baseline",
    });
    const load = decideLoad;
    eventLoad = startEventLoad({
      client: metrics,
      decisions: () =>
        load
          .samples()
          .slice(-200)
          .filter((s) => s.returning && s.decisionId)
          .map((s) => ({ subjectId: s.subjectId, decisionId: s.decisionId! })),
      eventType: eventTypeOf,
      concurrency: 2,
      batchSize: 10,
      pauseMs: 40,
      timeoutMs: 5_000,
      phase: "baseline",
    });
    const events = eventLoad;
    const setPhase = (p: string) => {
      load.setPhase(p);
      events.setPhase(p);
    };

    let probes = 0;
    let lastProbe = "";
    const direct = new Map<string, Client<typeof DecisionService>>();
    /** One replica, not the balancer: recovery means every replica assigns again. */
    const decisionAt = (url: string) => direct.get(url) ?? direct.set(url, createClient(DecisionService, createGrpcTransport({ baseUrl: url }))).get(url)!;
    /** Recovered: new subjects are assigned again on every replica, and no event batch is being retried. */
    const recovered = () =>
      pollUntil(
        "recovery",
        async () => {
          const answers = await Promise.all(
            stack.replicas("decision").map((r) =>
              decisionAt(r.url)
                .decide({ subjectId: `probe-${probes++}`, flagKey: FLAG }, { timeoutMs: 1_000 })
                .then((a) => `${DecisionReason[a.reason]} ${a.detail}`)
                .catch((err: unknown) => String(err)),
            ),
          );
          const retrying = events.retrying();
          const lastError = [...events.byPhase().values()].at(-1)?.lastError;
          lastProbe = `decide: ${answers.join("; ")}; event batches retrying: ${retrying} (${lastError})`;
          return answers.every((a) => a.startsWith("EXPERIMENT_ASSIGNED")) && retrying === 0 ? true : undefined;
        },
        30_000,
        100,
      ).catch((err: Error) => {
        throw new Error(`${err.message}; last probe: ${lastProbe}`);
      });

    const recovery = new Map<string, number>();
    async function run(step: Step) {
      progress(`${step.name}: during`);
      setPhase(`${step.name}: during`);
      await step.fault();
      if (step.heal) {
        await sleep(PHASE_MS);
        await step.heal();
      }
      const healed = Date.now();
      setPhase(`${step.name}: after`);
      await recovered();
      recovery.set(step.name, Date.now() - healed);
      progress(`${step.name}: recovered`);
      await sleep(PHASE_MS / 2);
    }
    /** SIGKILL, then the same process configuration again at once. */
    const killAndRestart = (name: (typeof STEPS)[number], replica: () => { kill(): Promise<void>; restart(): Promise<void> }): Step => ({
      name,
      async fault() {
        await replica().kill();
        await replica().restart();
      },
    });

    let sweeps: Awaited<ReturnType<Client<typeof GuardrailService>["sweep"]>>[] = [];
    await sleep(PHASE_MS);
    const steps: Step[] = [
      {
        name: STEPS[0],
        async fault() {
          const [decision2, metrics2] = await Promise.all([stack.addReplica("decision"), stack.addReplica("metrics"), stack.addReplica("guardrail")]);
          decideBalancer.add(decision2.url);
          metricsBalancer.add(metrics2.url);
        },
      },
      { name: STEPS[1], fault: () => stack.postgres.kill(), heal: () => stack.postgres.start() },
      { name: STEPS[2], fault: () => stack.redis.kill(), heal: () => stack.redis.start() },
      { name: STEPS[3], fault: () => stack.nats.kill(), heal: () => stack.nats.start() },
      {
        name: STEPS[4],
        async fault() {
          stack.postgresProxy.setMode({ kind: "delay", ms: PG_DELAY_MS });
          // The CronJob fires twice at once (two replicas): both see the breach, one may act.
          sweeps = await Promise.all(stack.replicas("guardrail").map((g) => guardrailAt(g.url).sweep({ experimentIds: [guarded.id] })));
        },
        heal: async () => stack.postgresProxy.setMode({ kind: "pass" }),
      },
      killAndRestart(STEPS[5], () => stack.primary("experiment")),
      killAndRestart(STEPS[6], () => stack.primary("decision")),
      killAndRestart(STEPS[7], () => stack.primary("metrics")),
      killAndRestart(STEPS[8], () => stack.primary("guardrail")),
      killAndRestart(STEPS[9], () => stack.primary("notification")),
    ];
    for (const step of steps) await run(step);

    await load.stop();
    await events.stop(30_000);
    progress("load stopped; counting");

    // What the metrics service stored and reports, per phase, against what the client was confirmed,
    // read once attribution has settled (an event may wait for its exposure, which comes over NATS).
    const ledger = PHASES.map((phase) => ({ phase, eventType: eventTypeOf(phase), confirmed: events.byPhase().get(phase)?.confirmed ?? [] }));
    const { counts, waitedMs } = await settleEventCounts({
      phases: ledger,
      query: metricsQuery,
      async reported() {
        const { values } = await metrics.batchGetMetricValues({
          requests: PHASES.map((p) => ({ experimentId: main.id, metricKey: eventTypeOf(p), window: { start: timestampFromDate(since) } })),
        });
        return values.map((v) => v.variants.reduce((n, x) => n + Math.round(Number(x.n) * x.mean), 0));
      },
      deadlineMs: 20_000,
    });
    // Lost: confirmed but not stored, or stored and left out of the report without waiting for an exposure.
    const eventRows = counts.map((c) => ({ ...c, lost: c.confirmed - c.found + Math.max(0, c.stored - c.pending - c.reported), double: Math.max(0, c.reported - c.stored) }));

    const samples = load.samples();
    const decideRows = new Map(summarize(samples).map((r) => [r.phase, r]));
    const table = markdownTable(
      ["phase", "decide calls", "availability", "p99 ms", "degraded", "events confirmed", "lost events", "double-counted"],
      PHASES.map((phase, i) => {
        const d = decideRows.get(phase);
        const e = eventRows[i];
        return [
          phase,
          String(d?.calls ?? 0),
          d ? `${(d.availability * 100).toFixed(2)} %` : "-",
          d ? d.p99Ms.toFixed(1) : "-",
          d ? `${(d.degradedShare * 100).toFixed(1)} %` : "-",
          String(e.confirmed),
          String(e.lost),
          String(e.double),
        ];
      }),
    );
    const ds = decideBalancer.stats();
    const ms = metricsBalancer.stats();
    console.log(
      [
        `\nPlatform chaos (phase ${PHASE_MS / 1000} s; ${samples.length} Decide calls in 4 loops, ${eventRows.reduce((n, r) => n + r.confirmed, 0)} events in 2 loops)`,
        table,
        `recovered after the heal in: ${[...recovery].map(([n, ms]) => `${n}: ${ms} ms`).join(", ")}`,
        `event counts read after ${waitedMs} ms (${eventRows.reduce((n, r) => n + r.pending, 0)} events still waiting for an exposure)`,
        `Decide answered per replica: ${JSON.stringify(ds.answered)}; retried on another replica: ${JSON.stringify(ds.retried)}`,
        `TrackEvents answered per replica: ${JSON.stringify(ms.answered)}; retried on another replica: ${JSON.stringify(ms.retried)}`,
        `sweeps: ${sweeps.map((s) => JSON.stringify(s.triggers.map((t) => ({ applied: t.applied, action: GuardrailAction[t.action] })))).join(" and ")}\n`,
      ].join("\n"),
    );

    // Decide: every call for the known flag answered in every phase, within bounds, with the
    // experiment's assignment or a degraded answer; returning subjects kept their variants.
    for (const phase of PHASES) expect(decideRows.get(phase)?.calls ?? 0, phase).toBeGreaterThan(0);
    const failed = samples.filter((s) => s.error !== undefined);
    expect(failed.slice(0, 5).map((s) => `${s.phase}: ${s.error}`), `${failed.length} Decide calls failed`).toEqual([]);
    for (const r of decideRows.values()) expect(r.p99Ms, `p99 of ${r.phase}`).toBeLessThan(P99_BOUND_MS);
    const allowed = new Set([DecisionReason.EXPERIMENT_ASSIGNED, DecisionReason.DEGRADED]);
    expect(samples.filter((s) => !allowed.has(s.reason!)).slice(0, 5)).toEqual([]);
    expect(assignmentChanges(samples)).toEqual([]);
    const moved = samples.filter((s) => s.returning && s.variant !== undefined && s.variant !== variantOf.get(s.subjectId));
    expect(moved.slice(0, 5).map((s) => `${s.subjectId}: ${variantOf.get(s.subjectId)} → ${s.variant} (${s.phase})`)).toEqual([]);
    // The load spread over both replicas of each.
    for (const answered of [ds.answered, ms.answered]) {
      expect(Object.keys(answered)).toHaveLength(2);
      for (const n of Object.values(answered)) expect(n).toBeGreaterThan(0);
    }

    // Events: each confirmed one stored and reported exactly once, none rejected.
    for (const phase of PHASES) expect(events.byPhase().get(phase)?.rejected ?? [], phase).toEqual([]);
    const gaps = eventRows.filter((r) => r.lost !== 0 || r.double !== 0 || r.pending !== 0);
    expect(gaps, gaps.length > 0 ? await explainEventGap(metricsQuery, ledger, main.id) : undefined).toEqual([]);
    // Ingestion resumed after every fault (while the metrics database is down, no new batch starts:
    // the loops are retrying the ones they hold).
    for (const r of eventRows.filter((e) => e.phase === "baseline" || e.phase.endsWith(": after"))) expect(r.confirmed, r.phase).toBeGreaterThan(0);

    // Guardrail: two sweeps at once during a fault, one applied trigger, one pause.
    const applied = sweeps.flatMap((s) => s.triggers).filter((t) => t.applied);
    expect(applied).toHaveLength(1);
    expect(applied[0]).toMatchObject({ guardrailId: guardrail.id, action: GuardrailAction.PAUSE });
    const { triggers } = await guardrailAt(stack.primary("guardrail").url).listTriggers({ experimentId: guarded.id });
    expect(triggers.filter((t) => t.applied)).toHaveLength(1);
    const { experiment: after } = await owner.getExperiment({ id: guarded.id });
    expect(after!.status).toBe(ExperimentStatus.PAUSED);
    const { events: audit } = await owner.listAuditEvents({ experimentId: guarded.id, actions: ["status_changed"] });
    expect(audit.filter((a) => a.toStatus.toLowerCase().includes("paused"))).toHaveLength(1);
    passed = true;
  }, 240_000);
});
