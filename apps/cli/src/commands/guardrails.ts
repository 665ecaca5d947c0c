import { create } from "@bufbuild/protobuf";
import { durationFromMs, durationMs, timestampDate, type Duration, type Timestamp } from "@bufbuild/protobuf/wkt";
import {
  AutopilotAction,
  AutopilotSchema,
  GuardrailAction,
  GuardrailSchema,
  RelativeRuleSchema,
  SloRuleSchema,
  ThresholdRuleSchema,
  GuardrailService,
  SweepResponseSchema,
  TriggerSchema,
  type Autopilot,
  type AutopilotDecision,
  type Guardrail,
  type SweepResponse,
  type Trigger,
} from "@lotty/proto/guardrail";
import type { Command } from "commander";
import type { CliContext } from "../context.js";
import { UsageError } from "../exit-codes.js";
import { enumLabel, table, type Column } from "../output.js";

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "90s", "15m", "1h", "7d" → Duration. */
function parseDuration(text: string, option: string): Duration {
  const m = /^(\d+(?:\.\d+)?)([smhd])$/.exec(text.trim());
  if (!m) throw new UsageError(`${option} must look like 90s, 15m, 1h or 7d (got "${text}")`);
  return durationFromMs(Number(m[1]) * UNITS[m[2]]);
}

function formatDuration(d: Duration | undefined): string {
  if (!d) return "";
  const ms = durationMs(d);
  const unit = (["d", "h", "m", "s"] as const).find((u) => ms % UNITS[u] === 0 && ms >= UNITS[u]) ?? "s";
  return `${ms / UNITS[unit]}${unit}`;
}

function parseNumber(text: string, option: string): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n)) throw new UsageError(`${option} must be a number (got "${text}")`);
  return n;
}

const ACTIONS: Record<string, GuardrailAction> = {
  pause: GuardrailAction.PAUSE,
  rollback: GuardrailAction.ROLLBACK,
  step_back: GuardrailAction.STEP_BACK,
  alert_only: GuardrailAction.ALERT_ONLY,
};

const time = (t: Timestamp | undefined) => (t ? timestampDate(t).toISOString() : "");
const action = (a: GuardrailAction) => enumLabel(GuardrailAction[a], "");

function ruleText(g: Guardrail): string {
  switch (g.rule.case) {
    case "threshold":
      return `threshold ${g.rule.value.threshold}`;
    case "relative":
      return `relative ${g.rule.value.maxDegradation} (min ${g.rule.value.minSample})`;
    case "slo":
      return `slo ${g.rule.value.objective} burn>${g.rule.value.burnRate} (${formatDuration(g.rule.value.longWindow)}/${formatDuration(g.rule.value.shortWindow)})`;
    default:
      return "";
  }
}

const guardrailColumns: Column<Guardrail>[] = [
  { header: "id", value: (g) => g.id },
  { header: "experiment", value: (g) => g.experimentId },
  { header: "metric", value: (g) => g.metricKey },
  { header: "rule", value: ruleText },
  { header: "window", value: (g) => formatDuration(g.window) },
  { header: "action", value: (g) => action(g.action) },
  { header: "active", value: (g) => (g.active ? "yes" : "no") },
];

const triggerColumns: Column<Trigger>[] = [
  { header: "time", value: (t) => time(t.fireTime) },
  { header: "experiment", value: (t) => t.experimentId },
  { header: "metric", value: (t) => t.metricKey },
  { header: "variant", value: (t) => t.variant },
  { header: "observed", value: (t) => String(t.observedValue) },
  { header: "threshold", value: (t) => String(t.threshold) },
  { header: "action", value: (t) => action(t.action) },
  { header: "applied", value: (t) => (t.applied ? "yes" : "no") },
];

const decisionColumns: Column<AutopilotDecision>[] = [
  { header: "time", value: (d) => time(d.decideTime) },
  { header: "action", value: (d) => enumLabel(AutopilotAction[d.action], "") },
  { header: "step", value: (d) => (d.fromStep === d.toStep ? `${d.fromStep + 1}` : `${d.fromStep + 1}→${d.toStep + 1}`) },
  { header: "actor", value: (d) => d.actor },
  { header: "reason", value: (d) => d.reason },
];

function describeSweep(r: SweepResponse): string {
  const lines = [
    `checked ${r.experimentsChecked} experiment(s), ${r.guardrailsChecked} guardrail(s) in ${formatDuration(r.took) || "0s"}`,
    r.triggers.length === 0 ? "no guardrail fired" : `${r.triggers.length} guardrail firing(s):\n${table(r.triggers, [...triggerColumns.slice(1), { header: "detail", value: (t) => t.detail }])}`,
  ];
  if (r.autopilotDecisions.length > 0) {
    lines.push(`autopilot:\n${table(r.autopilotDecisions, [{ header: "experiment", value: (d) => d.experimentId }, ...decisionColumns.slice(1)])}`);
  }
  return lines.join("\n");
}

function describeAutopilot(a: Autopilot): string {
  const state = a.done ? "done" : a.held ? "held" : "active";
  return [
    `autopilot of ${a.experimentId}: step ${a.currentStep + 1} since ${time(a.stepStartTime)} (${state})`,
    a.decisions.length === 0 ? "no decisions yet" : table(a.decisions, decisionColumns),
  ].join("\n");
}

export function guardrailCommands(program: Command, ctx: () => CliContext): void {
  const cmd = program.command("guardrails").description("guardrails, their sweep and the autopilot");
  const client = () => ctx().client(GuardrailService);

  cmd
    .command("sweep")
    .description("check every running experiment's guardrails and autopilot (what the CronJob runs); exit 0 when the sweep ran, even if guardrails fired")
    .option("--dry-run", "evaluate and report without acting")
    .option("--experiment <id...>", "only these experiments")
    .action(async (o: { dryRun?: boolean; experiment?: string[] }) => {
      const res = await client().sweep({ dryRun: Boolean(o.dryRun), experimentIds: o.experiment ?? [] });
      ctx().out.message(SweepResponseSchema, res, describeSweep);
    });

  cmd
    .command("list")
    .description("list guardrails")
    .option("--experiment <id>", "only this experiment's", "")
    .action(async (o: { experiment: string }) => {
      const all: Guardrail[] = [];
      let pageToken = "";
      do {
        const res = await client().listGuardrails({ experimentId: o.experiment, pageSize: 500, pageToken });
        all.push(...res.guardrails);
        pageToken = res.nextPageToken;
      } while (pageToken);
      ctx().out.list(GuardrailSchema, all, guardrailColumns);
    });

  cmd
    .command("create")
    .description("create a guardrail: one of --threshold, --relative or --slo")
    .requiredOption("--experiment <id>", "experiment id")
    .requiredOption("--metric <key>", "metric key")
    .option("--window <duration>", "observation window (e.g. 1h)", "1h")
    .requiredOption("--action <action>", "pause | rollback | step_back | alert_only")
    .option("--threshold <n>", "fire when the worst variant crosses this value")
    .option("--relative <degradation>", "fire when a variant is worse than control by more than this (0.05 = 5 %)")
    .option("--min-sample <n>", "relative: subjects per variant before it may fire", "0")
    .option("--alpha <a>", "relative: significance of the sequential test", "0")
    .option("--slo <objective>", "SLO success objective, e.g. 0.995")
    .option("--error-metric <key>", "SLO: metric giving the failure ratio (default --metric)", "")
    .option("--burn-rate <rate>", "SLO: burn rate both windows must exceed", "14.4")
    .option("--long-window <duration>", "SLO: long window", "1h")
    .option("--short-window <duration>", "SLO: short window", "5m")
    .option("--inactive", "create it inactive")
    .action(async (o: Record<string, string | boolean | undefined>) => {
      const chosen = ["threshold", "relative", "slo"].filter((k) => o[k] !== undefined);
      if (chosen.length !== 1) throw new UsageError("give exactly one of --threshold, --relative or --slo");
      const act = ACTIONS[String(o.action)];
      if (act === undefined) throw new UsageError(`--action must be one of ${Object.keys(ACTIONS).join(", ")}`);
      const str = (k: string) => String(o[k]);
      const rule: Guardrail["rule"] =
        o.threshold !== undefined ? { case: "threshold", value: create(ThresholdRuleSchema, { threshold: parseNumber(str("threshold"), "--threshold") }) }
        : o.relative !== undefined ? {
            case: "relative",
            value: create(RelativeRuleSchema, {
              maxDegradation: parseNumber(str("relative"), "--relative"),
              minSample: BigInt(Math.trunc(parseNumber(str("minSample"), "--min-sample"))),
              alpha: parseNumber(str("alpha"), "--alpha"),
            }),
          }
        : {
            case: "slo",
            value: create(SloRuleSchema, {
              objective: parseNumber(str("slo"), "--slo"),
              errorMetricKey: str("errorMetric"),
              burnRate: parseNumber(str("burnRate"), "--burn-rate"),
              longWindow: parseDuration(str("longWindow"), "--long-window"),
              shortWindow: parseDuration(str("shortWindow"), "--short-window"),
            }),
          };
      const { guardrail } = await client().createGuardrail({
        guardrail: { experimentId: str("experiment"), metricKey: str("metric"), window: parseDuration(str("window"), "--window"), action: act, active: !o.inactive, rule },
      });
      ctx().out.list(GuardrailSchema, [guardrail!], guardrailColumns);
    });

  cmd
    .command("triggers")
    .description("trigger history, newest first")
    .option("--experiment <id>", "only this experiment's", "")
    .option("--limit <n>", "at most this many", "100")
    .action(async (o: { experiment: string; limit: string }) => {
      const { triggers } = await client().listTriggers({ experimentId: o.experiment, pageSize: Math.trunc(parseNumber(o.limit, "--limit")) });
      ctx().out.list(TriggerSchema, triggers, triggerColumns);
    });

  autopilotCommand(cmd, ctx);
}

/** `autopilot <experiment>`, under `guardrails` and under `experiments`. */
export function autopilotCommand(parent: Command, ctx: () => CliContext): void {
  const client = () => ctx().client(GuardrailService);
  parent
    .command("autopilot <experiment>")
    .description("show an experiment's autopilot and its decisions; --hold, --resume or --skip control it (audited)")
    .option("--hold", "stop advancing (safety actions still apply)")
    .option("--resume", "resume a held autopilot")
    .option("--skip", "skip to the next ramp step now")
    .option("--reason <text>", "why (recorded)", "")
    .action(async (id: string, o: { hold?: boolean; resume?: boolean; skip?: boolean; reason: string }) => {
      if ([o.hold, o.resume, o.skip].filter(Boolean).length > 1) throw new UsageError("give at most one of --hold, --resume, --skip");
      const req = { experimentId: id, reason: o.reason };
      const { autopilot } = o.hold
        ? await client().holdAutopilot(req)
        : o.resume
          ? await client().resumeAutopilot(req)
          : o.skip
            ? await client().skipRampStep(req)
            : await client().getAutopilot({ experimentId: id });
      ctx().out.message(AutopilotSchema, autopilot!, describeAutopilot);
    });
}

