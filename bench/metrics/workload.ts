/**
 * The metrics benchmarks' workload: one experiment (3 variants, 5 metrics) and, per subject, one
 * exposure and 9 events over a 9-day run. Deterministic for a given seed and clock, so two runs
 * (before and after a change) ingest the same events and must report the same numbers.
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { ExperimentSchema, VariantSchema } from "@lotty/proto/experiment";
import { EventFieldType, EventSchema, MetricRole, MetricType, type Event, type MetricsService } from "@lotty/proto/metrics";

export const EVENTS_PER_SUBJECT = 9;
export const SUBJECTS_PER_MESSAGE = 100; // 100 exposures + 900 events = one TrackedEvents of 1000
export const EXPERIMENT = "bench-checkout";
export const VARIANTS = ["control", "blue", "green"];
export const DAY = 86_400_000;

/** Deterministic pseudo-random numbers (mulberry32), so runs are comparable. */
export function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The run's first exposure time, for a run ending at `now`. */
export const runStart = (now: number) => now - 9 * DAY - 12 * 3_600_000;

/**
 * One subject's exposure and 9 events over a 9-day run ending now: pageviews (one of them in the
 * CUPED pre-period), purchases with a value (green converts a little more), a signup linked to
 * the decision (its type requires exposure).
 */
export function subjectEvents(i: number, subjects: number, now: number, rand: () => number): Event[] {
  const variant = VARIANTS[i % 3];
  const exposedAt = runStart(now) + Math.floor((i / subjects) * 9 * DAY);
  const ts = (t: number) => timestampFromDate(new Date(Math.min(t, now - 60_000)));
  const out: Event[] = [
    create(EventSchema, { eventId: `x${i}`, type: "exposure", subjectId: `u${i}`, decisionId: `d${i}`, experimentId: EXPERIMENT, variant, timestamp: ts(exposedAt) }),
  ];
  for (let j = 0; j < EVENTS_PER_SUBJECT; j++) {
    const r = rand();
    const buyRate = variant === "green" ? 0.27 : 0.25;
    const at = j === 0 ? exposedAt - (1 + Math.floor(rand() * 5)) * DAY : exposedAt + Math.floor(rand() * 12 * 3_600_000);
    const base = { eventId: `e${i}.${j}`, subjectId: `u${i}`, timestamp: ts(at) };
    if (j === 0 || r >= buyRate + 0.1) out.push(create(EventSchema, { ...base, type: "pageview" }));
    else if (r < buyRate) out.push(create(EventSchema, { ...base, type: "purchase", value: Math.round(Math.exp(3 + rand()) * 100) / 100 }));
    else out.push(create(EventSchema, { ...base, type: "signup", decisionId: `d${i}` }));
  }
  return out;
}

/** Batches of SUBJECTS_PER_MESSAGE subjects' events, in publish order. */
export function* eventBatches(subjects: number, now: number, seed = 42): Generator<Event[]> {
  const rand = rng(seed);
  for (let from = 0; from < subjects; from += SUBJECTS_PER_MESSAGE) {
    const events: Event[] = [];
    for (let i = from; i < Math.min(subjects, from + SUBJECTS_PER_MESSAGE); i++) events.push(...subjectEvents(i, subjects, now, rand));
    yield events;
  }
}

/** GetExperiment for the one benchmark experiment (equal weights, first variant is control). */
export function fakeExperimentService() {
  return {
    async getExperiment(req: { id: string }) {
      if (req.id !== EXPERIMENT) throw new ConnectError(`experiment ${req.id} not found`, Code.NotFound);
      return { experiment: create(ExperimentSchema, { id: EXPERIMENT, variants: VARIANTS.map((name, i) => create(VariantSchema, { name, weight: 1, control: i === 0 })) }) };
    },
  };
}

/** Event types and the 5 metrics attached to the experiment. */
export async function setUpCatalog(client: Client<typeof MetricsService>): Promise<void> {
  await client.createEventType({ eventType: { key: "pageview", requiresExposure: false } });
  await client.createEventType({ eventType: { key: "purchase", requiresExposure: false, fields: [{ name: "value", type: EventFieldType.NUMBER, required: true }] } });
  await client.createEventType({ eventType: { key: "signup", requiresExposure: true } });
  const metrics = [
    { key: "purchase_rate", type: MetricType.CONVERSION, eventType: "purchase", role: MetricRole.PRIMARY },
    { key: "revenue", type: MetricType.SUM, eventType: "purchase", role: MetricRole.SECONDARY },
    { key: "basket", type: MetricType.MEAN, eventType: "purchase", role: MetricRole.SECONDARY },
    { key: "pageviews", type: MetricType.COUNT, eventType: "pageview", role: MetricRole.SECONDARY },
    { key: "signup_rate", type: MetricType.CONVERSION, eventType: "signup", role: MetricRole.GUARDRAIL },
  ];
  for (const m of metrics) await client.createMetric({ metric: { key: m.key, name: m.key, type: m.type, eventType: m.eventType } });
  await client.setExperimentMetrics({ experimentId: EXPERIMENT, attachments: metrics.map((m) => ({ metricKey: m.key, role: m.role })) });
}
