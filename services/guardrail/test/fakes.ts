// In-memory peers for module tests: an experiment service with real optimistic concurrency
// (ABORTED on a stale version, FAILED_PRECONDITION on a wrong status) and a metrics service
// answering from a function of the query.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, createRouterTransport, type ServiceImpl } from "@connectrpc/connect";
import {
  ExperimentSchema,
  ExperimentService,
  ExperimentStatus,
  OutcomeKind,
  OutcomeSchema,
  type Experiment,
} from "@lotty/proto/experiment";
import {
  MetricDirection,
  MetricsService,
  MetricType,
  MetricValueSchema,
  type GetMetricValueRequest,
  type MetricValue,
} from "@lotty/proto/metrics";

export interface LifecycleCall {
  rpc: "pause" | "complete" | "setRampStep";
  id: string;
  expectedVersion: bigint;
  outcome?: OutcomeKind;
  winningVariant?: string;
  step?: number;
}

export function fakeExperimentService(now: () => Date) {
  const experiments = new Map<string, Experiment>();
  const calls: LifecycleCall[] = [];
  /** Runs before a lifecycle RPC applies; lets a test simulate a person acting at the same moment. */
  let beforeAct: ((id: string) => void) | undefined;

  function mutate(id: string, expected: bigint, allowed: ExperimentStatus[], change: (e: Experiment) => void): { experiment: Experiment } {
    beforeAct?.(id);
    const e = experiments.get(id);
    if (!e) throw new ConnectError(`experiment ${id} not found`, Code.NotFound);
    if (e.version !== expected) throw new ConnectError(`experiment ${id} is at version ${e.version}, not ${expected}`, Code.Aborted);
    if (!allowed.includes(e.status)) throw new ConnectError(`experiment ${id} is ${ExperimentStatus[e.status]}`, Code.FailedPrecondition);
    change(e);
    e.version += 1n;
    e.updateTime = timestampFromDate(now());
    return { experiment: create(ExperimentSchema, e) };
  }

  const impl: Partial<ServiceImpl<typeof ExperimentService>> = {
    getExperiment: ({ id }) => {
      const e = experiments.get(id);
      if (!e) throw new ConnectError(`experiment ${id} not found`, Code.NotFound);
      return { experiment: create(ExperimentSchema, e) };
    },
    listExperiments: ({ statuses, pageSize, pageToken }) => {
      // Keyset pagination (the token is the last id), as the real service pages: experiments that
      // leave the filter while a caller pages (a sweep pausing them) must not shift later pages.
      const all = [...experiments.values()]
        .filter((e) => (statuses.length === 0 || statuses.includes(e.status)) && (!pageToken || e.id > pageToken))
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      const page = all.slice(0, pageSize || 100);
      const next = page.length < all.length ? page[page.length - 1].id : "";
      return { experiments: page.map((e) => create(ExperimentSchema, e)), nextPageToken: next };
    },
    pauseExperiment: ({ id, expectedVersion }) => {
      calls.push({ rpc: "pause", id, expectedVersion });
      return mutate(id, expectedVersion, [ExperimentStatus.RUNNING], (e) => (e.status = ExperimentStatus.PAUSED));
    },
    completeExperiment: ({ id, expectedVersion, outcome, winningVariant }) => {
      calls.push({ rpc: "complete", id, expectedVersion, outcome, winningVariant });
      return mutate(id, expectedVersion, [ExperimentStatus.RUNNING, ExperimentStatus.PAUSED], (e) => {
        e.status = ExperimentStatus.COMPLETED;
        e.outcome = create(OutcomeSchema, { kind: outcome, winningVariant });
      });
    },
    setRampStep: ({ id, expectedVersion, step }) => {
      calls.push({ rpc: "setRampStep", id, expectedVersion, step });
      return mutate(id, expectedVersion, [ExperimentStatus.RUNNING], (e) => {
        if (!e.rampPlan || step < 0 || step >= e.rampPlan.steps.length) throw new ConnectError(`no ramp step ${step}`, Code.InvalidArgument);
        e.currentRampStep = step;
      });
    },
  };

  return {
    impl,
    calls,
    client: createClient(ExperimentService, createRouterTransport((r) => r.service(ExperimentService, impl))),
    put(init: MessageInitShape<typeof ExperimentSchema>): Experiment {
      const e = create(ExperimentSchema, { status: ExperimentStatus.RUNNING, version: 1n, currentRampStep: -1, ...init });
      experiments.set(e.id, e);
      return e;
    },
    get: (id: string) => experiments.get(id)!,
    onBeforeAct(fn: ((id: string) => void) | undefined) {
      beforeAct = fn;
    },
  };
}

export type ValueFn = (q: GetMetricValueRequest) => MessageInitShape<typeof MetricValueSchema> | undefined;

export function fakeMetricsService() {
  const counts = { batch: 0, single: 0, report: 0, requests: 0 };
  const directions = new Map<string, MetricDirection>();
  let valueFn: ValueFn = () => undefined;
  let srm = { mismatch: false, pValue: 0.5 };

  const toValue = (q: GetMetricValueRequest): MetricValue =>
    create(MetricValueSchema, { experimentId: q.experimentId, metricKey: q.metricKey, ...(valueFn(q) ?? {}) });

  const impl: Partial<ServiceImpl<typeof MetricsService>> = {
    batchGetMetricValues: ({ requests }) => {
      counts.batch++;
      counts.requests += requests.length;
      return { values: requests.map(toValue) };
    },
    getMetricValue: (q) => {
      counts.single++;
      return { value: toValue(q) };
    },
    getMetric: ({ key }) => {
      const direction = directions.get(key);
      if (direction === undefined) throw new ConnectError(`metric ${key} not found`, Code.NotFound);
      return { metric: { key, direction, type: MetricType.MEAN } };
    },
    getReport: ({ experimentId }) => {
      counts.report++;
      return { report: { experimentId, srm: { mismatch: srm.mismatch, pValue: srm.pValue } } };
    },
  };

  return {
    impl,
    counts,
    client: createClient(MetricsService, createRouterTransport((r) => r.service(MetricsService, impl))),
    metric(key: string, direction: MetricDirection) {
      directions.set(key, direction);
    },
    values(fn: ValueFn) {
      valueFn = fn;
    },
    setSrm(s: { mismatch: boolean; pValue: number }) {
      srm = s;
    },
  };
}

/** A metric value with per-variant means (n subjects each) and optional comparisons. */
export function metricValue(
  means: Record<string, number>,
  opts: { n?: bigint; control?: string; comparisons?: { variant: string; relativeLift: number; lower: number; upper: number; p?: number }[]; exposures?: bigint } = {},
): MessageInitShape<typeof MetricValueSchema> {
  const n = opts.n ?? 1000n;
  return {
    controlVariant: opts.control ?? "control",
    variants: Object.entries(means).map(([variant, mean]) => ({ variant, n, mean })),
    comparisons: (opts.comparisons ?? []).map((c) => ({
      variant: c.variant,
      relativeLift: c.relativeLift,
      sequentialRelativeCi: { lower: c.lower, upper: c.upper },
      sequentialPValue: c.p ?? 0.001,
    })),
    exposures: Object.fromEntries(Object.keys(means).map((v) => [v, opts.exposures ?? n])),
  };
}
