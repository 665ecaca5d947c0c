import { readFileSync } from "node:fs";
import { create, fromJson, type JsonValue } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { MetricDirection, MetricSchema, MetricsService, MetricType, type Metric } from "@lotty/proto/metrics";
import type { Command } from "commander";
import { parse as parseYaml } from "yaml";
import type { CliContext } from "../context.js";
import { UsageError } from "../exit-codes.js";
import { enumLabel, type Column } from "../output.js";

const type = (m: Metric) => enumLabel(MetricType[m.type], "");
const direction = (m: Metric) => enumLabel(MetricDirection[m.direction], "").replaceAll("_", " ");

const columns: Column<Metric>[] = [
  { header: "key", value: (m) => m.key },
  { header: "type", value: type },
  { header: "event", value: (m) => m.eventType + (m.denominatorEventType ? ` / ${m.denominatorEventType}` : "") },
  { header: "direction", value: direction },
  { header: "archived", value: (m) => (m.archived ? "yes" : "") },
  { header: "name", value: (m) => m.name },
];

function describe(m: Metric): string {
  const lines = [
    `metric ${m.key} (v${m.version})${m.archived ? " [archived]" : ""}`,
    `  name:        ${m.name}`,
    `  type:        ${type(m)}`,
    `  event:       ${m.eventType}`,
    `  direction:   ${direction(m)}`,
  ];
  if (m.denominatorEventType) lines.push(`  denominator: ${m.denominatorEventType}`);
  if (m.conversionWindow) lines.push(`  window:      ${Number(m.conversionWindow.seconds) / 3600} h after exposure`);
  if (m.percentile) lines.push(`  percentile:  p${m.percentile}`);
  if (m.capPercentile) lines.push(`  capped at:   p${m.capPercentile} of subjects`);
  if (m.capValue) lines.push(`  capped at:   ${m.capValue}`);
  if (m.description) lines.push(`  about:       ${m.description}`);
  return lines.join("\n");
}

/** "conversion" → MetricType.CONVERSION; "higher"/"lower" → direction. */
function enumFlag<E extends Record<string, string | number>>(e: E, prefix: string, flag: string, value: string): E[keyof E] {
  const key = value.toUpperCase().replaceAll("-", "_");
  const hit = Object.entries(e).find(([k, v]) => typeof v === "number" && (k === key || k === `${key}${prefix}`) && v !== 0);
  if (!hit) {
    const names = Object.keys(e).filter((k) => Number.isNaN(Number(k)) && k !== "UNSPECIFIED").map((k) => k.replace(prefix, "").toLowerCase());
    throw new UsageError(`${flag} ${value}: expected one of ${names.join(", ")}`);
  }
  return hit[1] as E[keyof E];
}

/** A metric spec: YAML or JSON, fields as in the Metric message (camelCase or snake_case). */
function readMetricFile(path: string): Metric {
  let data: unknown;
  try {
    const text = readFileSync(path, "utf8");
    data = path.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    return fromJson(MetricSchema, data as JsonValue);
  } catch (err) {
    throw new UsageError(`${path}: ${(err as Error).message}`);
  }
}

interface CreateFlags {
  file?: string;
  name?: string;
  type?: string;
  event?: string;
  denominator?: string;
  direction: string;
  description: string;
  windowHours?: string;
  percentile?: string;
  capPercentile?: string;
  capValue?: string;
}

function metricFromFlags(key: string | undefined, o: CreateFlags): Metric {
  if (o.file) {
    const m = readMetricFile(o.file);
    if (key) m.key = key;
    return m;
  }
  if (!key || !o.type || !o.event) throw new UsageError("give KEY with --type and --event, or -f FILE");
  const num = (flag: string, v: string | undefined) => {
    if (v === undefined) return 0;
    const x = Number(v);
    if (!Number.isFinite(x)) throw new UsageError(`${flag} ${v}: expected a number`);
    return x;
  };
  return create(MetricSchema, {
    key,
    name: o.name ?? key,
    description: o.description,
    type: enumFlag(MetricType, "", "--type", o.type),
    eventType: o.event,
    denominatorEventType: o.denominator ?? "",
    direction: enumFlag(MetricDirection, "_IS_BETTER", "--direction", o.direction),
    conversionWindow: o.windowHours !== undefined ? durationFromMs(num("--window-hours", o.windowHours) * 3_600_000) : undefined,
    percentile: num("--percentile", o.percentile),
    capPercentile: num("--cap-percentile", o.capPercentile),
    capValue: num("--cap-value", o.capValue),
  });
}

export function metricCommands(program: Command, ctx: () => CliContext): void {
  const metrics = program.command("metrics").description("metric definitions");
  const client = () => ctx().client(MetricsService);

  metrics
    .command("list")
    .description("list metrics")
    .option("--all", "include archived metrics")
    .action(async (o: { all?: boolean }) => {
      const all: Metric[] = [];
      let pageToken = "";
      do {
        const res = await client().listMetrics({ includeArchived: Boolean(o.all), pageSize: 500, pageToken });
        all.push(...res.metrics);
        pageToken = res.nextPageToken;
      } while (pageToken);
      ctx().out.list(MetricSchema, all, columns);
    });

  metrics
    .command("show <key>")
    .description("show a metric")
    .action(async (key: string) => {
      const { metric } = await client().getMetric({ key });
      ctx().out.message(MetricSchema, metric!, describe);
    });

  metrics
    .command("create [key]")
    .description("create a metric from flags, or from a YAML/JSON file (-f)")
    .option("-f, --file <path>", "metric spec (fields as in the Metric message)")
    .option("--name <text>", "display name (default: the key)")
    .option("--type <type>", "conversion | count | sum | mean | ratio | percentile")
    .option("--event <type>", "the event type counted or summed")
    .option("--denominator <type>", "ratio: the denominator's event type")
    .option("--direction <dir>", "higher | lower (is better)", "higher")
    .option("--description <text>", "what it measures", "")
    .option("--window-hours <h>", "conversion: count only events within h hours of exposure")
    .option("--percentile <p>", "percentile: which one, e.g. 95")
    .option("--cap-percentile <p>", "winsorize per-subject values at this percentile")
    .option("--cap-value <x>", "cap per-subject values at x")
    .action(async (key: string | undefined, o: CreateFlags) => {
      const { metric } = await client().createMetric({ metric: metricFromFlags(key, o) });
      ctx().out.message(MetricSchema, metric!, describe);
    });
}
