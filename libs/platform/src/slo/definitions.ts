/** What a finished call looked like, as the SLO interceptor saw it. */
export interface CallOutcome {
  /** Connect code name, "ok" for success (as in lotty_rpc_requests_total). */
  code: string;
  durationMs: number;
}

export interface SloDefinition {
  /** Label value and SloBurn.slo, e.g. "decide_availability". */
  name: string;
  /** Target share of good events, e.g. 0.9995. */
  objective: number;
  /** "package.Service/Method" names whose calls are the SLO's events. */
  methods: readonly string[];
  /** Good (true), bad (false), or not an event of this SLO (undefined). */
  classify(call: CallOutcome): boolean | undefined;
}

const DECIDE_METHODS = ["lotty.decision.v1.DecisionService/Decide", "lotty.decision.v1.DecisionService/DecideBatch"];

/**
 * Codes that are the service's fault. Shedding (resource_exhausted) counts: callers went
 * without an answer, and the budget should show it. The caller's own mistakes (invalid_argument,
 * unauthenticated, ...) do not. deploy/prometheus/slo-rules.yml uses the same list.
 */
export const SERVER_FAULT_CODES: ReadonlySet<string> = new Set([
  "unknown",
  "internal",
  "unavailable",
  "deadline_exceeded",
  "data_loss",
  "resource_exhausted",
  "unimplemented",
]);

/** Decide latency target inside the service (the histogram has a bucket boundary here). */
export const DECIDE_LATENCY_TARGET_MS = 10;

/** The platform's own SLOs: decide availability 99.95 %, decide p99 latency under 10 ms. */
export const DECIDE_SLOS: readonly SloDefinition[] = [
  {
    name: "decide_availability",
    objective: 0.9995,
    methods: DECIDE_METHODS,
    classify: ({ code }) => !SERVER_FAULT_CODES.has(code),
  },
  {
    name: "decide_latency",
    objective: 0.99,
    methods: DECIDE_METHODS,
    // Latency of answers only; failures are the availability SLO's.
    classify: ({ code, durationMs }) => (code === "ok" ? durationMs <= DECIDE_LATENCY_TARGET_MS : undefined),
  },
];

/** The SLOs whose methods a server with these services serves. */
export function sloFor(slos: readonly SloDefinition[], services: readonly string[]): SloDefinition[] {
  return slos.filter((s) => s.methods.some((m) => services.includes(m.split("/", 1)[0])));
}
