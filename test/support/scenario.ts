// Steps shared by the end-to-end scenarios: the review lifecycle, simulated traffic through Decide
// and TrackEvents, and polling for what arrives asynchronously (exposures over NATS).
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Client } from "@connectrpc/connect";
import type { DecideResponse, DecisionService } from "@lotty/proto/decision";
import type { Experiment, ExperimentService } from "@lotty/proto/experiment";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { EventSchema, MetricsService, MetricValue } from "@lotty/proto/metrics";

/** Polls fn until it returns a value (not undefined); the last seen state goes into the error. */
export async function pollUntil<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 15_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** draft → in_review (owner) → approved (another person) → running (owner). */
export async function submitApproveStart(owner: Client<typeof ExperimentService>, approver: Client<typeof ExperimentService>, e: Experiment): Promise<Experiment> {
  const submitted = (await owner.submitExperiment({ id: e.id, expectedVersion: e.version, reason: "ready" })).experiment!;
  const approved = (await approver.approveExperiment({ id: e.id, expectedVersion: submitted.version, comment: "lgtm" })).experiment!;
  return (await owner.startExperiment({ id: e.id, expectedVersion: approved.version, reason: "go" })).experiment!;
}

/** Decides the flag for every subject, a few calls in flight at a time (within the decision service's Postgres pool, so no DEGRADED answers on a busy machine). */
export async function decideAll(decision: Client<typeof DecisionService>, flagKey: string, subjects: readonly string[], concurrency = 8): Promise<DecideResponse[]> {
  const out: DecideResponse[] = new Array(subjects.length);
  let next = 0;
  const worker = async () => {
    while (next < subjects.length) {
      const i = next++;
      out[i] = await decision.decide({ subjectId: subjects[i], flagKey });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, subjects.length) }, worker));
  return out;
}

export type EventInit = MessageInitShape<typeof EventSchema>;

/** An event attributed to a decision (its subject, now). */
export function eventFor(d: DecideResponse, subjectId: string, type: string, id: string, value?: number): EventInit {
  return { eventId: id, type, decisionId: d.decisionId, subjectId, timestamp: timestampFromDate(new Date()), value };
}

/** TrackEvents in batches of the maximum size; every event must be accepted. */
export async function trackAll(metrics: Client<typeof MetricsService>, events: readonly EventInit[]): Promise<void> {
  for (let i = 0; i < events.length; i += 1000) {
    const res = await metrics.trackEvents({ events: events.slice(i, i + 1000) });
    if (res.rejected > 0) throw new Error(`TrackEvents rejected ${res.rejected}: ${JSON.stringify(res.rejections.slice(0, 3).map((r) => r.message))}`);
  }
}

/** Exposures per variant that the metrics service knows for an experiment since `since`. */
export async function exposuresOf(metrics: Client<typeof MetricsService>, experimentId: string, metricKey: string, since: Date): Promise<MetricValue> {
  const { value } = await metrics.getMetricValue({ experimentId, metricKey, window: { start: timestampFromDate(since) } });
  return value!;
}

/** Waits until the metrics service has counted at least `want[variant]` exposures per variant. */
export function waitForExposures(
  metrics: Client<typeof MetricsService>,
  experimentId: string,
  metricKey: string,
  since: Date,
  want: Readonly<Record<string, number>>,
  timeoutMs = 20_000,
): Promise<MetricValue> {
  return pollUntil(
    `exposures ${JSON.stringify(want)} of ${experimentId}`,
    async () => {
      const v = await exposuresOf(metrics, experimentId, metricKey, since);
      return Object.entries(want).every(([variant, n]) => Number(v.exposures[variant] ?? 0n) >= n) ? v : undefined;
    },
    timeoutMs,
  );
}
