// Sweep: every running experiment's guardrails, then its autopilot. Safe to run concurrently
// with itself and with people: every action carries the experiment version it was judged on.
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { ExperimentStatus, type Experiment } from "@lotty/proto/experiment";
import { SweepResponseSchema, type AutopilotDecision, type SweepRequest, type SweepResponse, type Trigger } from "@lotty/proto/guardrail";
import { activeGuardrails } from "../store/guardrails.js";
import { getStates } from "../store/autopilot.js";
import type { Ctx } from "./context.js";
import { autopilotApplies, autopilotQueries, runAutopilot, stepStartOf } from "./autopilot-run.js";
import { checkGuardrails, guardrailQueries } from "./guardrail-check.js";
import { fetchMetricValues, metricInfoCache, type MetricQuery } from "./metric-values.js";

/** Experiments per page: one guardrail query, one metrics batch (or a few) per page. */
export const PAGE_SIZE = 500;

/** Running experiments, page by page: all of them, or the requested ones that are running. */
async function* runningExperiments(ctx: Ctx, ids: readonly string[]): AsyncGenerator<Experiment[]> {
  if (ids.length > 0) {
    const found = await Promise.all(ids.map((id) => ctx.experiment.getExperiment({ id })));
    yield found.map((r) => r.experiment!).filter((e) => e.status === ExperimentStatus.RUNNING);
    return;
  }
  let pageToken = "";
  do {
    const res = await ctx.experiment.listExperiments({ statuses: [ExperimentStatus.RUNNING], pageSize: PAGE_SIZE, pageToken });
    yield res.experiments;
    pageToken = res.nextPageToken;
  } while (pageToken);
}

export async function sweep(ctx: Ctx, req: SweepRequest): Promise<SweepResponse> {
  const started = ctx.clock();
  const run = { id: randomUUID(), now: started, dryRun: req.dryRun };
  const defsOf = metricInfoCache(ctx);
  const triggers: Trigger[] = [];
  const decisions: AutopilotDecision[] = [];
  const failures: string[] = [];
  let experimentsChecked = 0;
  let guardrailsChecked = 0;

  for await (const page of runningExperiments(ctx, req.experimentIds)) {
    const ids = page.map((e) => e.id);
    const [guardrails, states] = await Promise.all([activeGuardrails(ctx.db, ids), getStates(ctx.db, ids)]);
    const queries: MetricQuery[] = [];
    for (const e of page) {
      const gs = guardrails.get(e.id) ?? [];
      for (const g of gs) queries.push(...guardrailQueries(g, run.now));
      const state = states.get(e.id);
      if (autopilotApplies(e, state)) queries.push(...autopilotQueries(e, stepStartOf(e, state, run.now), run.now, gs[0]?.metricKey));
    }
    const [values, defs] = await Promise.all([fetchMetricValues(ctx, queries), defsOf(queries.map((q) => q.metricKey))]);

    for (const e of page) {
      experimentsChecked++;
      const gs = guardrails.get(e.id) ?? [];
      guardrailsChecked += gs.length;
      try {
        const outcome = await checkGuardrails(ctx, e, gs, values, defs, run);
        triggers.push(...outcome.triggers);
        const state = states.get(e.id);
        if (outcome.acted || !autopilotApplies(e, state)) continue;
        const d = await runAutopilot(ctx, {
          e,
          state,
          values,
          defs,
          guardrailFired: outcome.fired,
          fallbackMetric: gs[0]?.metricKey,
          now: run.now,
          dryRun: run.dryRun,
        });
        if (d) decisions.push(d);
      } catch (err) {
        // One experiment's failure must not stop the others from being checked.
        ctx.logger.error({ err, experimentId: e.id, sweepId: run.id }, "sweep failed for an experiment");
        failures.push(`${e.id}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  if (failures.length > 0) {
    // Everything else was checked and recorded; the caller (the CronJob) must still see a failure.
    throw new ConnectError(`sweep ${run.id} could not check ${failures.length} experiment(s): ${failures.join("; ")}`, Code.Internal);
  }
  return create(SweepResponseSchema, {
    experimentsChecked,
    guardrailsChecked,
    triggers,
    autopilotDecisions: decisions,
    took: durationFromMs(ctx.clock().getTime() - started.getTime()),
  });
}
