import { randomBytes } from "node:crypto";
import { SpanStatusCode, trace, type Span } from "@opentelemetry/api";
import type { Logger } from "@lotty/platform/log";
import type { Guard } from "@lotty/platform/resilience";
import type { Attributes } from "@lotty/targeting";
import { Counter, Histogram, type Registry } from "prom-client";
import type { AssignmentWriteMode } from "./config.js";
import {
  DecisionReason,
  decideFirst,
  decideSecond,
  type AssignmentRecord,
  type Decision,
  type FirstPhase,
} from "./domain/index.js";
import type { ExposurePublisher } from "./exposures/publisher.js";
import type { RulesetHolder } from "./ruleset/holder.js";
import type { AssignmentStore } from "./store/assignments.js";
import type { ExperimentEnds } from "./store/experiment-ends.js";
import { HistoryUnavailableError, type AssignmentHistory, type RecentAssignments } from "./store/history.js";

export interface DecisionResult extends Decision {
  decisionId: string;
  rulesetVersion: bigint;
}

export interface DeciderDeps {
  holder: RulesetHolder;
  history: AssignmentHistory;
  store: AssignmentStore;
  dbGuard: Guard;
  ends: ExperimentEnds;
  recent: RecentAssignments;
  exposures: ExposurePublisher | undefined;
  writeMode: AssignmentWriteMode;
  logger: Logger;
  registry: Registry;
}

type Pending = Extract<FirstPhase, { kind: "needs-history" }>;

const REASON_NAMES: Record<DecisionReason, string> = Object.fromEntries(
  Object.entries(DecisionReason)
    .filter(([, v]) => typeof v === "number")
    .map(([k, v]) => [v, k.toLowerCase()]),
) as Record<DecisionReason, string>;

export const reasonName = (r: DecisionReason): string => REASON_NAMES[r];

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

const tracer = trace.getTracer("lotty-decision");

/** A span around one I/O step of the decide path; the pure phases need none. */
function traced<T>(name: string, fn: () => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, async (span: Span) => {
    try {
      return await fn();
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: message(err) });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** Serves a known assignment, or the flag's default, as a degraded answer naming the failure. */
function degraded(p: Pending, known: AssignmentRecord | undefined, detail: string): Decision {
  return {
    flagKey: p.flag.key,
    reason: DecisionReason.DEGRADED,
    value: known ? (p.experiment.variantValues.get(known.variant) ?? p.flag.defaultValue) : p.flag.defaultValue,
    experimentId: known ? p.experiment.id : "",
    variant: known?.variant ?? "",
    newAssignment: false,
    detail,
  };
}

function withWinner(p: Pending, d: Decision, winner: AssignmentRecord): Decision {
  if (winner.variant === d.variant) return d;
  // A concurrent decide assigned first; its variant is the subject's.
  return { ...d, variant: winner.variant, value: p.experiment.variantValues.get(winner.variant) ?? p.flag.defaultValue, newAssignment: false };
}

/**
 * The decide path: phase one from memory; only when some flag needs the subject's history,
 * one history read (Redis), phase two, and the durable write of new assignments.
 */
export class Decider {
  private readonly idPrefix = randomBytes(6).toString("base64url");
  private counter = 0;
  private readonly reasons: Counter<"reason">;
  private readonly latency: Histogram;

  constructor(private readonly deps: DeciderDeps) {
    this.reasons = new Counter({
      name: "lotty_decision_decisions_total",
      help: "Decisions made, by reason",
      labelNames: ["reason"] as const,
      registers: [deps.registry],
    });
    this.latency = new Histogram({
      name: "lotty_decision_decide_seconds",
      help: "Time to decide one request (all its flags)",
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [deps.registry],
    });
  }

  /** One decision per flag key, in order. Never throws because a dependency failed. */
  async decide(subjectId: string, attributes: Attributes, flagKeys: readonly string[]): Promise<DecisionResult[]> {
    const started = process.hrtime.bigint();
    const compiled = this.deps.holder.current();
    const firsts = flagKeys.map((flagKey) => decideFirst(compiled, { subjectId, flagKey, attributes }));
    const decisions: Decision[] = new Array(firsts.length);
    const pending: number[] = [];
    firsts.forEach((f, i) => (f.kind === "done" ? (decisions[i] = f.decision) : pending.push(i)));
    if (pending.length > 0) await this.decideWithHistory(subjectId, firsts, pending, decisions);

    const now = Date.now();
    const results = decisions.map((d) => {
      const result: DecisionResult = { ...d, decisionId: this.nextId(), rulesetVersion: compiled.version };
      this.reasons.inc({ reason: reasonName(d.reason) });
      this.deps.exposures?.enqueue({
        decisionId: result.decisionId,
        occurMs: now,
        subjectId,
        flagKey: d.flagKey,
        experimentId: d.experimentId,
        variant: d.variant,
        reason: reasonName(d.reason),
        rulesetVersion: compiled.version,
        firstAssignment: d.newAssignment,
      });
      return result;
    });
    this.latency.observe(Number(process.hrtime.bigint() - started) / 1e9);
    return results;
  }

  private nextId(): string {
    return `${this.idPrefix}${(this.counter++).toString(36)}`;
  }

  private async decideWithHistory(subjectId: string, firsts: FirstPhase[], pending: number[], decisions: Decision[]): Promise<void> {
    let records: AssignmentRecord[];
    try {
      records = await traced("decision.history.read", () => this.deps.history.read(subjectId));
    } catch (err) {
      const detail = err instanceof HistoryUnavailableError ? err.detail : `assignments unavailable: ${message(err)}`;
      for (const i of pending) {
        const p = firsts[i] as Pending;
        decisions[i] = degraded(p, this.deps.recent.get(subjectId, p.experiment.id), detail);
      }
      return;
    }
    const assignments = new Map(records.map((a) => [a.experimentId, a]));
    const nowMs = Date.now();
    const history = { assignments, endedAtMs: this.deps.ends.current(), nowMs };
    const fresh: { index: number; record: AssignmentRecord }[] = [];
    for (const i of pending) {
      const p = firsts[i] as Pending;
      const d = decideSecond(p, history);
      decisions[i] = d;
      if (d.newAssignment) {
        // Counts towards the participation limit of the next flags in this batch.
        const record = { experimentId: p.experiment.id, variant: d.variant, assignedAtMs: nowMs };
        assignments.set(record.experimentId, record);
        fresh.push({ index: i, record });
      }
    }
    if (fresh.length > 0) {
      await traced("decision.assignments.persist", () => this.persist(subjectId, firsts, fresh, decisions));
      // Remember what was actually stored: a lost race changes the variant, a failed write drops it.
      for (const { index, record } of fresh) {
        const d = decisions[index];
        if (d.reason === DecisionReason.EXPERIMENT_ASSIGNED) assignments.set(record.experimentId, { ...record, variant: d.variant });
        else assignments.delete(record.experimentId);
      }
    }
    this.deps.recent.remember(subjectId, assignments.values());
  }

  private async persist(
    subjectId: string,
    firsts: FirstPhase[],
    fresh: { index: number; record: AssignmentRecord }[],
    decisions: Decision[],
  ): Promise<void> {
    const { history, store, dbGuard, writeMode, logger } = this.deps;
    const records = fresh.map((f) => f.record);
    if (writeMode === "sync") {
      let winners: Map<string, AssignmentRecord>;
      try {
        const stored = await dbGuard.execute(() => store.insertFirstWins(subjectId, records));
        winners = new Map(stored.map((a) => [a.experimentId, a]));
      } catch (err) {
        // Not durable, so not assigned: the subject gets the default and may be assigned next time.
        for (const { index } of fresh) decisions[index] = degraded(firsts[index] as Pending, undefined, `assignment not stored: postgres (${message(err)})`);
        return;
      }
      await Promise.all(
        fresh.map(async ({ index, record }) => {
          const winner = winners.get(record.experimentId) ?? record;
          decisions[index] = withWinner(firsts[index] as Pending, decisions[index], winner);
          // Best effort: Postgres has it, and a miss in Redis falls back to Postgres.
          await history.remember(subjectId, winner).catch(() => false);
        }),
      );
      return;
    }
    // async / off: Redis arbitrates the race (HSETNX), Postgres follows in the background.
    await Promise.all(
      fresh.map(async ({ index, record }) => {
        try {
          if (!(await history.remember(subjectId, record))) {
            const winner = await history.readOne(subjectId, record.experimentId);
            if (winner) decisions[index] = withWinner(firsts[index] as Pending, decisions[index], winner);
          }
        } catch (err) {
          logger.warn({ err, subjectId }, "could not cache a new assignment");
        }
      }),
    );
    if (writeMode === "async") {
      dbGuard.execute(() => store.insertFirstWins(subjectId, records)).catch((err: unknown) => {
        logger.error({ err, subjectId }, "async assignment write to Postgres failed");
      });
    }
  }
}
