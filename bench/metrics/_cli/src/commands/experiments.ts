import { readFileSync } from "node:fs";
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import {
  AuditEventSchema,
  ExperimentSchema,
  ExperimentService,
  ExperimentStatus,
  OutcomeKind,
  type AuditEvent,
  type Experiment,
} from "@lotty/proto/experiment";
import type { Client } from "@connectrpc/connect";
import type { Command } from "commander";
import { parse as parseYaml } from "yaml";
import type { CliContext } from "../context.js";
import { UsageError } from "../exit-codes.js";
import { enumLabel, table, type Column } from "../output.js";
import { formatValue } from "../values.js";

type Experiments = Client<typeof ExperimentService>;

const status = (e: Experiment) => enumLabel(ExperimentStatus[e.status], "");

const columns: Column<Experiment>[] = [
  { header: "id", value: (e) => e.id },
  { header: "name", value: (e) => e.name },
  { header: "flag", value: (e) => e.flagKey },
  { header: "status", value: status },
  { header: "traffic", value: (e) => `${e.effectiveTrafficAllocation || e.trafficAllocation}%` },
  { header: "owner", value: (e) => e.owner },
  { header: "version", value: (e) => String(e.version) },
];

export function describeExperiment(e: Experiment): string {
  const lines = [
    `experiment ${e.name} (${e.id}) v${e.version}`,
    `  status:     ${status(e)}`,
    `  flag:       ${e.flagKey}`,
    `  owner:      ${e.owner}`,
    `  traffic:    ${e.effectiveTrafficAllocation || e.trafficAllocation}% (configured ${e.trafficAllocation}%)`,
    `  targeting:  ${e.targeting || "(everyone)"}`,
    `  seed:       ${e.bucketingSeed}`,
  ];
  if (e.hypothesis) lines.push(`  hypothesis: ${e.hypothesis}`);
  if (e.primaryMetricKey) lines.push(`  metrics:    ${[e.primaryMetricKey, ...e.secondaryMetricKeys].join(", ")}`);
  if (e.approvals.length) lines.push(`  approvals:  ${e.approvals.map((a) => a.approver).join(", ")}`);
  if (e.rampPlan?.steps.length) {
    lines.push(`  ramp:       ${e.rampPlan.steps.map((s, i) => `${i === e.currentRampStep ? "[" : ""}${s.trafficAllocation}%${i === e.currentRampStep ? "]" : ""}`).join(" → ")}`);
  }
  if (e.outcome) lines.push(`  outcome:    ${enumLabel(OutcomeKind[e.outcome.kind], "")}${e.outcome.winningVariant ? ` (${e.outcome.winningVariant})` : ""}: ${e.outcome.rationale}`);
  lines.push("", table(e.variants, [
    { header: "variant", value: (v) => v.name + (v.control ? " (control)" : "") },
    { header: "weight", value: (v) => String(v.weight) },
    { header: "value", value: (v) => formatValue(v.value) },
  ]).replace(/^/gm, "  "));
  return lines.join("\n");
}

/** Reads an experiment spec: YAML or JSON, fields as in the Experiment message (camelCase or snake_case). */
export function readExperimentFile(path: string): Experiment {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as Error).message}`);
  }
  let data: unknown;
  try {
    data = path.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new UsageError(`${path} is not valid ${path.endsWith(".json") ? "JSON" : "YAML"}: ${(err as Error).message}`);
  }
  try {
    return fromJson(ExperimentSchema, data as JsonValue);
  } catch (err) {
    throw new UsageError(`${path}: ${(err as Error).message}`);
  }
}

async function currentVersion(client: Experiments, id: string, given?: string): Promise<bigint> {
  if (given !== undefined) return BigInt(given);
  return (await client.getExperiment({ id })).experiment!.version;
}

/** Lifecycle commands: each takes the id, an optional expected version, and a reason/comment. */
const transitions: {
  name: string;
  about: string;
  run(c: Experiments, id: string, expectedVersion: bigint, text: string): Promise<{ experiment?: Experiment }>;
}[] = [
  { name: "submit", about: "draft → in_review", run: (c, id, v, reason) => c.submitExperiment({ id, expectedVersion: v, reason }) },
  { name: "approve", about: "approve an experiment in review", run: (c, id, v, comment) => c.approveExperiment({ id, expectedVersion: v, comment }) },
  { name: "request-changes", about: "in_review → draft", run: (c, id, v, comment) => c.requestChanges({ id, expectedVersion: v, comment }) },
  { name: "reject", about: "in_review → rejected", run: (c, id, v, reason) => c.rejectExperiment({ id, expectedVersion: v, reason }) },
  { name: "reopen", about: "rejected → draft", run: (c, id, v, reason) => c.reopenExperiment({ id, expectedVersion: v, reason }) },
  { name: "start", about: "approved → running", run: (c, id, v, reason) => c.startExperiment({ id, expectedVersion: v, reason }) },
  { name: "pause", about: "running → paused", run: (c, id, v, reason) => c.pauseExperiment({ id, expectedVersion: v, reason }) },
  { name: "resume", about: "paused → running", run: (c, id, v, reason) => c.resumeExperiment({ id, expectedVersion: v, reason }) },
  { name: "archive", about: "→ archived", run: (c, id, v, reason) => c.archiveExperiment({ id, expectedVersion: v, reason }) },
];

const OUTCOMES: Record<string, OutcomeKind> = {
  rollout_winner: OutcomeKind.ROLLOUT_WINNER,
  rollback: OutcomeKind.ROLLBACK,
  no_effect: OutcomeKind.NO_EFFECT,
};

const auditColumns: Column<AuditEvent>[] = [
  { header: "time", value: (a) => (a.occurTime ? timestampDate(a.occurTime).toISOString() : "") },
  { header: "action", value: (a) => a.action },
  { header: "actor", value: (a) => a.actor?.id ?? "" },
  { header: "from", value: (a) => a.fromStatus },
  { header: "to", value: (a) => a.toStatus },
  { header: "version", value: (a) => String(a.experimentVersion) },
];

export function experimentCommands(program: Command, ctx: () => CliContext): void {
  const exp = program.command("experiments").alias("exp").description("experiments and their lifecycle");
  const client = () => ctx().client(ExperimentService);
  const show = (e: Experiment | undefined) => ctx().out.message(ExperimentSchema, e!, describeExperiment);

  exp
    .command("create")
    .description("create an experiment (draft) from a YAML or JSON file")
    .requiredOption("-f, --file <path>", "experiment spec")
    .action(async (o: { file: string }) => show((await client().createExperiment({ experiment: readExperimentFile(o.file) })).experiment));

  exp
    .command("show <id>")
    .description("show an experiment")
    .action(async (id: string) => show((await client().getExperiment({ id })).experiment));

  exp
    .command("list")
    .description("list experiments")
    .option("--status <status...>", "only these statuses (draft, in_review, running, ...)")
    .option("--flag <key>", "only experiments on this flag", "")
    .option("--owner <owner>", "only this owner's", "")
    .action(async (o: { status?: string[]; flag: string; owner: string }) => {
      const statuses = (o.status ?? []).map((s) => {
        const v = ExperimentStatus[s.toUpperCase() as keyof typeof ExperimentStatus];
        if (typeof v !== "number") throw new UsageError(`unknown status "${s}"`);
        return v;
      });
      const all: Experiment[] = [];
      let pageToken = "";
      do {
        const res = await client().listExperiments({ statuses, flagKey: o.flag, owner: o.owner, pageSize: 200, pageToken });
        all.push(...res.experiments);
        pageToken = res.nextPageToken;
      } while (pageToken);
      ctx().out.list(ExperimentSchema, all, columns);
    });

  for (const t of transitions) {
    exp
      .command(`${t.name} <id>`)
      .description(t.about)
      .option("--expected-version <n>", "fail with a conflict if the experiment moved past this version (default: current)")
      .option("-m, --message <text>", "reason or comment for the audit log", "")
      .action(async (id: string, o: { expectedVersion?: string; message: string }) => {
        const c = client();
        show((await t.run(c, id, await currentVersion(c, id, o.expectedVersion), o.message)).experiment);
      });
  }

  exp
    .command("complete <id>")
    .description("running|paused → completed, with an outcome")
    .requiredOption("--outcome <kind>", "rollout_winner | rollback | no_effect")
    .option("--winner <variant>", "the variant to roll out (with rollout_winner)", "")
    .requiredOption("--rationale <text>", "why this outcome")
    .option("--expected-version <n>", "fail with a conflict if the experiment moved past this version")
    .action(async (id: string, o: { outcome: string; winner: string; rationale: string; expectedVersion?: string }) => {
      const outcome = OUTCOMES[o.outcome];
      if (outcome === undefined) throw new UsageError(`--outcome must be one of ${Object.keys(OUTCOMES).join(", ")}`);
      const c = client();
      const expectedVersion = await currentVersion(c, id, o.expectedVersion);
      show((await c.completeExperiment({ id, expectedVersion, outcome, winningVariant: o.winner, rationale: o.rationale })).experiment);
    });

  exp
    .command("log <id>")
    .description("the experiment's audit log")
    .action(async (id: string) => {
      const all: AuditEvent[] = [];
      let pageToken = "";
      do {
        const res = await client().listAuditEvents({ experimentId: id, pageSize: 500, pageToken });
        all.push(...res.events);
        pageToken = res.nextPageToken;
      } while (pageToken);
      ctx().out.list(AuditEventSchema, all, auditColumns);
    });
}
