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
  decideSticky,
  type AssignmentRecord,
  type Decision,
  type FirstPhase,
} from "./domain/index.js";
import type { ExposurePublisher } from "./exposures/publisher.js";
import type { RulesetHolder } from "./ruleset/holder.js";
import type { AssignmentStore } from "./store/assignments.js";
import type { ExperimentEnds } from "./store/experiment-ends.js";
import { HistoryUnavailableError, type AssignmentHistory, type KnownAssignments } from "./store/history.js";

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
  known: KnownAssignments;
  exposures: ExposurePublisher | undefined;
  writeMode: AssignmentWriteMode;
  logger: Logger;
  registry: Registry;
}

type Pending = Extract<FirstPhase, { kind: "needs-history" }>;
/** A flag whose answer depends on the subject's history, at its index in the request. */
interface PendingAt {
  index: number;
  phase: Pending;
}
/** A new assignment made by phase two, still to be stored. */
interface Fresh extends PendingAt {
  record: AssignmentRecord;
}

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

/** The decision with its id. Spelled out: on Node 20, `{ ...d, decisionId }` costs ~1 µs per added property. */
function withId(d: Decision, decisionId: string, rulesetVersion: bigint): DecisionResult {
  return {
    flagKey: d.flagKey,
    reason: d.reason,
    value: d.value,
    experimentId: d.experimentId,
    variant: d.variant,
    newAssignment: d.newAssignment,
    detail: d.detail,
    decisionId,
    rulesetVersion,
  };
}

/**
 * The decide path: phase one from memory; when some flag needs the subject's history, the
 * assignments this replica knows to be stored, or else one history read (Redis), phase two, and
 * the durable write of new assignments.
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
    const started = performance.now();
    const compiled = this.deps.holder.current();
    const decisions: Decision[] = new Array(flagKeys.length);
    const pending: PendingAt[] = [];
    for (let i = 0; i < flagKeys.length; i++) {
      const f = decideFirst(compiled, { subjectId, flagKey: flagKeys[i], attributes });
      if (f.kind === "done") decisions[i] = f.decision;
      else pending.push({ index: i, phase: f });
    }
    if (pending.length > 0 && !this.decideFromKnown(subjectId, pending, decisions)) {
      await this.decideWithHistory(subjectId, pending, decisions);
    }

    const now = Date.now();
    const results: DecisionResult[] = new Array(decisions.length);
    for (let i = 0; i < decisions.length; i++) {
      const d = decisions[i];
      const result = withId(d, this.nextId(), compiled.version);
      results[i] = result;
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
    }
    this.latency.observe((performance.now() - started) / 1e3);
    return results;
  }

  private nextId(): string {
    return `${this.idPrefix}${(this.counter++).toString(36)}`;
  }

  /**
   * The fast lane of returning subjects: when this replica knows the stored assignment of every
   * experiment still open, phase two needs nothing else (an existing assignment wins before the
   * participation limit and cooldown are looked at), so no Redis round trip. False: go to history.
   */
  private decideFromKnown(subjectId: string, pending: readonly PendingAt[], decisions: Decision[]): boolean {
    const known = this.deps.known.of(subjectId);
    if (!known) return false;
    for (const { phase } of pending) if (!known.has(phase.experiment.id)) return false;
    for (const { index, phase } of pending) decisions[index] = decideSticky(phase, known.get(phase.experiment.id)!);
    return true;
  }

  private async decideWithHistory(subjectId: string, pending: readonly PendingAt[], decisions: Decision[]): Promise<void> {
    let records: AssignmentRecord[];
    try {
      records = await traced("decision.history.read", () => this.deps.history.read(subjectId));
    } catch (err) {
      const detail = err instanceof HistoryUnavailableError ? err.detail : `assignments unavailable: ${message(err)}`;
      const known = this.deps.known.of(subjectId);
      for (const { index, phase } of pending) decisions[index] = degraded(phase, known?.get(phase.experiment.id), detail);
      return;
    }
    const assignments = new Map(records.map((a) => [a.experimentId, a]));
    const nowMs = Date.now();
    const history = { assignments, endedAtMs: this.deps.ends.current(), nowMs };
    const fresh: Fresh[] = [];
    for (const { index, phase } of pending) {
      const d = decideSecond(phase, history);
      decisions[index] = d;
      if (d.newAssignment) {
        // Counts towards the participation limit of the next flags in this batch.
        const record = { experimentId: phase.experiment.id, variant: d.variant, assignedAtMs: nowMs };
        assignments.set(record.experimentId, record);
        fresh.push({ index, phase, record });
      }
    }
    // Only what a store returned is remembered: a lost race's proposal or a failed write never is.
    const stored = fresh.length > 0 ? await traced("decision.assignments.persist", () => this.persist(subjectId, fresh, decisions)) : [];
    this.deps.known.remember(subjectId, stored.length > 0 ? [...records, ...stored] : records);
  }

  /** Stores new assignments as the write mode says; returns the stored winners it learnt. */
  private async persist(subjectId: string, fresh: readonly Fresh[], decisions: Decision[]): Promise<AssignmentRecord[]> {
    const { history, store, dbGuard, writeMode, logger } = this.deps;
    const stored: AssignmentRecord[] = [];
    if (writeMode === "sync") {
      let winners: Map<string, AssignmentRecord>;
      try {
        const rows = await dbGuard.execute(() => store.insertFirstWins(subjectId, fresh.map((f) => f.record)));
        winners = new Map(rows.map((a) => [a.experimentId, a]));
      } catch (err) {
        // Not durable, so not assigned: the subject gets the default and may be assigned next time.
        for (const { index, phase } of fresh) decisions[index] = degraded(phase, undefined, `assignment not stored: postgres (${message(err)})`);
        return stored;
      }
      await Promise.all(
        fresh.map(async ({ index, phase, record }) => {
          // The row read back after the insert: ours, or a concurrent decide's that got there first.
          const winner = winners.get(record.experimentId);
          decisions[index] = withWinner(phase, decisions[index], winner ?? record);
          if (!winner) return;
          stored.push(winner);
          // Best effort: Postgres has it, and a miss in Redis falls back to Postgres.
          await history.remember(subjectId, winner).catch(() => false);
        }),
      );
      return stored;
    }
    // async / off: Redis arbitrates the race (HSETNX), Postgres follows in the background.
    await Promise.all(
      fresh.map(async ({ index, phase, record }) => {
        try {
          if (await history.remember(subjectId, record)) {
            stored.push(record);
            return;
          }
          const winner = await history.readOne(subjectId, record.experimentId);
          if (winner) {
            decisions[index] = withWinner(phase, decisions[index], winner);
            stored.push(winner);
          }
        } catch (err) {
          logger.warn({ err, subjectId }, "could not cache a new assignment");
        }
      }),
    );
    if (writeMode === "async") {
      // The variants answered: a replica that lost the race in Redis must not write its own proposal.
      const answered = fresh.map(({ index, record }) => ({ ...record, variant: decisions[index].variant }));
      dbGuard.execute(() => store.insertFirstWins(subjectId, answered)).catch((err: unknown) => {
        logger.error({ err, subjectId }, "async assignment write to Postgres failed");
      });
    }
    return stored;
  }
}
