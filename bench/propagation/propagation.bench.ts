// Change propagation (issue 4): two decision replicas (separate processes) and the experiment
// service on real Postgres/Redis/NATS. N flag default updates through UpdateFlag; per change, the
// time until Decide on EVERY replica returns the new value (each replica polled back to back).
//
//   node --import tsx bench/propagation/propagation.bench.ts     (PROPAGATION_CHANGES=200)
import os from "node:os";
import { connect } from "@nats-io/transport-node";
import { Subjects } from "@lotty/platform/events";
import { createFlag, value } from "../wire/seed.js";
import { startStack } from "../wire/stack.js";

const CHANGES = Number(process.env.PROPAGATION_CHANGES ?? 200);
const REPLICAS = 2;
const TIMEOUT_MS = 5_000;
const FLAG = "propagation.flag";

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

const stack = await startStack({ decisionReplicas: REPLICAS });
try {
  await createFlag(stack.experiment, FLAG, "v0");
  /** Decides back to back on one replica until it serves `expected`; ms from `since`. */
  const visible = async (replica: number, expected: string, since: number): Promise<number> => {
    const client = stack.decisions[replica];
    for (;;) {
      const r = await client.decide({ subjectId: "propagation-probe", flagKey: FLAG });
      if (r.value?.kind.case === "stringValue" && r.value.kind.value === expected) return performance.now() - since;
      if (performance.now() - since > TIMEOUT_MS) throw new Error(`replica ${replica} still serves ${JSON.stringify(r.value?.kind.value)} after ${TIMEOUT_MS} ms, expected ${expected}`);
    }
  };
  await Promise.all(stack.decisions.map((_, i) => visible(i, "v0", performance.now())));

  // The change event as the replicas see it on NATS: splits the time into event delivery and
  // the replica's refresh (GetRuleset from the experiment service, compile, swap).
  const nc = await connect({ servers: "127.0.0.1:4222" });
  let eventAt = 0;
  const sub = nc.subscribe(`${stack.namespace}.${Subjects.flagChanged}`, {
    callback: () => {
      eventAt ||= performance.now();
    },
  });
  await nc.flush();
  const toEvent: number[] = [];
  const fromCommit: number[] = [];
  const fromRequest: number[] = [];
  const perReplica: number[][] = Array.from({ length: REPLICAS }, () => []);
  const loadBefore = os.loadavg();
  for (let i = 1; i <= CHANGES; i++) {
    const expected = `v${i}`;
    eventAt = 0;
    const sent = performance.now();
    await stack.experiment.updateFlag({ key: FLAG, defaultValue: value(expected), updateMask: { paths: ["default_value"] } });
    const committed = performance.now();
    const times = await Promise.all(stack.decisions.map((_, r) => visible(r, expected, committed)));
    times.forEach((t, r) => perReplica[r].push(t));
    fromCommit.push(Math.max(...times));
    if (eventAt) toEvent.push(eventAt - sent);
    fromRequest.push(Math.max(...times) + (committed - sent));
  }
  const loadAfter = os.loadavg();
  // What one replica refresh costs at least: a full GetRuleset round trip to the experiment service.
  const getRuleset: number[] = [];
  for (let i = 0; i < 50; i++) {
    const t = performance.now();
    await stack.experiment.getRuleset({ ifNewerThan: 0n });
    getRuleset.push(performance.now() - t);
  }
  sub.unsubscribe();
  await nc.close();

  const line = (label: string, xs: number[]): string => {
    const s = [...xs].sort((a, b) => a - b);
    const f = (n: number) => n.toFixed(1);
    return `| ${label} | ${f(quantile(s, 0.5))} | ${f(quantile(s, 0.9))} | ${f(quantile(s, 0.99))} | ${f(s.at(-1)!)} |`;
  };
  console.log(
    [
      `Run ${new Date().toISOString()} — ${process.version}; ${CHANGES} UpdateFlag changes, ${REPLICAS} decision replicas; ` +
        `load average ${loadBefore[0].toFixed(1)} → ${loadAfter[0].toFixed(1)} (2 cores).`,
      "",
      "| ms until every replica serves the new value | p50 | p90 | p99 | max |",
      "| --- | ---: | ---: | ---: | ---: |",
      line("from the UpdateFlag response (commit)", fromCommit),
      line("from sending UpdateFlag", fromRequest),
      line("from sending UpdateFlag to the FlagChanged event on NATS", toEvent),
      ...perReplica.map((xs, r) => line(`replica ${r} alone, from the response`, xs)),
      line("reference: one GetRuleset round trip from the bench (after the changes)", getRuleset),
    ].join("\n"),
  );
} finally {
  await stack.close();
}
