import { ValueType } from "@lotty/proto/common";
import { ExperimentService, FlagSchema, type Flag } from "@lotty/proto/experiment";
import type { Command } from "commander";
import type { CliContext } from "../context.js";
import { enumLabel, type Column } from "../output.js";
import { formatValue, parseValue, parseValueType } from "../values.js";

const columns: Column<Flag>[] = [
  { header: "key", value: (f) => f.key },
  { header: "type", value: (f) => enumLabel(ValueType[f.valueType], "") },
  { header: "default", value: (f) => formatValue(f.defaultValue) },
  { header: "archived", value: (f) => (f.archived ? "yes" : "") },
  { header: "description", value: (f) => f.description },
];

function describe(f: Flag): string {
  return [
    `flag ${f.key} (v${f.version})${f.archived ? " [archived]" : ""}`,
    `  type:     ${enumLabel(ValueType[f.valueType], "")}`,
    `  default:  ${formatValue(f.defaultValue)}`,
    `  about:    ${f.description}`,
  ].join("\n");
}

export function flagCommands(program: Command, ctx: () => CliContext): void {
  const flags = program.command("flags").description("feature flags");
  const client = () => ctx().client(ExperimentService);

  flags
    .command("create <key>")
    .description("create a flag")
    .requiredOption("--type <type>", "bool | string | number | json")
    .requiredOption("--default <value>", "value served when no experiment applies")
    .option("--description <text>", "what the flag controls", "")
    .action(async (key: string, o: { type: string; default: string; description: string }) => {
      const valueType = parseValueType(o.type);
      const { flag } = await client().createFlag({ key, valueType, defaultValue: parseValue(o.default, valueType), description: o.description });
      ctx().out.message(FlagSchema, flag!, describe);
    });

  flags
    .command("get <key>")
    .description("show a flag")
    .action(async (key: string) => {
      const { flag } = await client().getFlag({ key });
      ctx().out.message(FlagSchema, flag!, describe);
    });

  flags
    .command("list")
    .description("list flags")
    .option("--query <text>", "substring of key or description", "")
    .option("--all", "include archived flags")
    .action(async (o: { query: string; all?: boolean }) => {
      const all: Flag[] = [];
      let pageToken = "";
      do {
        const res = await client().listFlags({ query: o.query, includeArchived: Boolean(o.all), pageSize: 500, pageToken });
        all.push(...res.flags);
        pageToken = res.nextPageToken;
      } while (pageToken);
      ctx().out.list(FlagSchema, all, columns);
    });

  flags
    .command("update <key>")
    .description("change a flag's default value and/or description")
    .option("--default <value>", "new default value")
    .option("--description <text>", "new description")
    .action(async (key: string, o: { default?: string; description?: string }) => {
      const current = (await client().getFlag({ key })).flag!;
      const paths = [...(o.default !== undefined ? ["default_value"] : []), ...(o.description !== undefined ? ["description"] : [])];
      const { flag } = await client().updateFlag({
        key,
        description: o.description ?? current.description,
        defaultValue: o.default !== undefined ? parseValue(o.default, current.valueType) : current.defaultValue,
        updateMask: { paths },
        expectedVersion: current.version,
      });
      ctx().out.message(FlagSchema, flag!, describe);
    });

  flags
    .command("archive <key>")
    .description("archive a flag")
    .action(async (key: string) => {
      const { flag } = await client().archiveFlag({ key });
      ctx().out.message(FlagSchema, flag!, describe);
    });
}
