import type { Value } from "@bufbuild/protobuf/wkt";
import { ConnectError, type Client } from "@connectrpc/connect";
import { DecisionReason, type DecisionService } from "@lotty/proto/decision";

/** One Decide call as the load driver saw it. */
export interface DecideSample {
  phase: string;
  subjectId: string;
  returning: boolean;
  ms: number;
  /** Unset when the call failed. */
  reason?: DecisionReason;
  variant?: string;
  detail?: string;
  /** The answer's decision id, for events that refer to it. */
  decisionId?: string;
  error?: string;
}

export interface DecideLoadOptions {
  client: Client<typeof DecisionService>;
  flagKey: string;
  attributes: Record<string, Value>;
  /** Concurrent call loops. */
  concurrency: number;
  /** Subjects decided again and again; every other call is for a brand-new subject. */
  returningSubjects: readonly string[];
  /** Client deadline per call: a hung service shows up as an error, not a stuck test. */
  timeoutMs: number;
  /** Pause between calls of one loop, to keep the load steady rather than saturating. */
  pauseMs: number;
  /** Label of the first calls' samples. */
  phase: string;
}

export interface DecideLoad {
  /** Labels the samples of the calls started from now on. */
  setPhase(phase: string): void;
  samples(): readonly DecideSample[];
  /** Stops the loops after their current call. */
  stop(): Promise<void>;
}

/** Drives Decide from `concurrency` loops until stopped, alternating returning and new subjects. */
export function startDecideLoad(opts: DecideLoadOptions): DecideLoad {
  let phase = opts.phase;
  let stopped = false;
  let next = 0;
  const samples: DecideSample[] = [];

  async function loop(id: number): Promise<void> {
    for (let i = 0; !stopped; i++) {
      const returning = i % 2 === 0;
      const subjectId = returning
        ? opts.returningSubjects[(i * 7 + id) % opts.returningSubjects.length]
        : `new-${process.pid}-${id}-${next++}`;
      const sample: DecideSample = { phase, subjectId, returning, ms: 0 };
      const started = performance.now();
      try {
        const r = await opts.client.decide({ subjectId, flagKey: opts.flagKey, attributes: opts.attributes }, { timeoutMs: opts.timeoutMs });
        sample.reason = r.reason;
        sample.variant = r.variant;
        sample.detail = r.detail;
        sample.decisionId = r.decisionId;
      } catch (err) {
        sample.error = ConnectError.from(err).message;
      }
      sample.ms = performance.now() - started;
      samples.push(sample);
      await new Promise((r) => setTimeout(r, opts.pauseMs));
    }
  }

  const loops = Array.from({ length: opts.concurrency }, (_, id) => loop(id));
  return {
    setPhase: (p) => void (phase = p),
    samples: () => samples,
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

export interface PhaseSummary {
  phase: string;
  calls: number;
  errors: number;
  availability: number;
  p99Ms: number;
  maxMs: number;
  degradedShare: number;
}

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** Per phase, in the order the phases ran. */
export function summarize(samples: readonly DecideSample[]): PhaseSummary[] {
  const byPhase = new Map<string, DecideSample[]>();
  for (const s of samples) {
    const list = byPhase.get(s.phase);
    if (list) list.push(s);
    else byPhase.set(s.phase, [s]);
  }
  return [...byPhase].map(([phase, list]) => {
    const ms = list.map((s) => s.ms).sort((a, b) => a - b);
    const errors = list.filter((s) => s.error !== undefined).length;
    const degraded = list.filter((s) => s.reason === DecisionReason.DEGRADED).length;
    return {
      phase,
      calls: list.length,
      errors,
      availability: (list.length - errors) / list.length,
      p99Ms: percentile(ms, 0.99),
      maxMs: ms[ms.length - 1] ?? 0,
      degradedShare: degraded / list.length,
    };
  });
}

export function formatTable(rows: readonly PhaseSummary[]): string {
  const header = ["phase", "calls", "availability", "p99 ms", "max ms", "degraded"];
  const body = rows.map((r) => [
    r.phase,
    String(r.calls),
    `${(r.availability * 100).toFixed(2)} %`,
    r.p99Ms.toFixed(1),
    r.maxMs.toFixed(1),
    `${(r.degradedShare * 100).toFixed(1)} %`,
  ]);
  return markdownTable(header, body);
}

/** A Markdown table with padded columns (reads well on a terminal and in RESULTS.md). */
export function markdownTable(header: readonly string[], body: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...body.map(line)].join("\n");
}

/**
 * Subjects that were served two different variants. Every variant a call reports (a fresh
 * assignment, a sticky one, or a degraded answer from the service's memory) must be the same.
 */
export function assignmentChanges(samples: readonly DecideSample[]): string[] {
  const first = new Map<string, DecideSample>();
  const changed: string[] = [];
  for (const s of samples) {
    if (!s.variant) continue;
    const seen = first.get(s.subjectId);
    if (!seen) first.set(s.subjectId, s);
    else if (seen.variant !== s.variant)
      changed.push(`${s.subjectId}: ${seen.variant} (${seen.phase}) then ${s.variant} (${s.phase}, ${DecisionReason[s.reason!]})`);
  }
  return changed;
}
