import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { ValueSchema, type Value } from "@bufbuild/protobuf/wkt";
import { DecideResponseSchema, DecisionReason, DecisionService } from "@lotty/proto/decision";
import type { Command } from "commander";
import type { CliContext } from "../context.js";
import { UsageError } from "../exit-codes.js";
import { enumLabel } from "../output.js";
import { formatValue } from "../values.js";

/** `country=US` → "US"; `age=31` → 31; `beta=true` → true (JSON when it parses, else a string). */
function parseAttributes(pairs: string[]): Record<string, Value> {
  const out: Record<string, Value> = {};
  for (const pair of pairs) {
    const i = pair.indexOf("=");
    if (i <= 0) throw new UsageError(`--attr takes name=value (got "${pair}")`);
    const raw = pair.slice(i + 1);
    let json: JsonValue = raw;
    try {
      json = JSON.parse(raw) as JsonValue;
    } catch {
      // not JSON: keep the text
    }
    out[pair.slice(0, i)] = fromJson(ValueSchema, json);
  }
  return out;
}

export function decideCommand(program: Command, ctx: () => CliContext): void {
  program
    .command("decide <flag>")
    .description("ask the decision service which value a subject gets")
    .requiredOption("-s, --subject <id>", "subject (user id, device id...)")
    .option("-a, --attr <name=value...>", "targeting attributes", [])
    .action(async (flagKey: string, o: { subject: string; attr: string[] }) => {
      const res = await ctx().client(DecisionService).decide({ subjectId: o.subject, flagKey, attributes: parseAttributes(o.attr) });
      ctx().out.message(DecideResponseSchema, res, (r) =>
        [
          `${r.flagKey} = ${formatValue(r.value)}`,
          `  reason:     ${enumLabel(DecisionReason[r.reason], "")}${r.detail ? ` (${r.detail})` : ""}`,
          ...(r.experimentId ? [`  experiment: ${r.experimentId}`, `  variant:    ${r.variant}`] : []),
          `  decision:   ${r.decisionId}`,
        ].join("\n"),
      );
    });
}
