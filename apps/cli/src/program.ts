import { Command, CommanderError } from "commander";
import { Code, ConnectError } from "@connectrpc/connect";
import { decideCommand } from "./commands/decide.js";
import { domainCommands } from "./commands/domains.js";
import { experimentCommands } from "./commands/experiments.js";
import { eventCommands } from "./commands/events.js";
import { flagCommands } from "./commands/flags.js";
import { autopilotCommand, guardrailCommands } from "./commands/guardrails.js";
import { metricCommands } from "./commands/metrics.js";
import { reportCommand } from "./commands/report.js";
import { keyCommands } from "./commands/keys.js";
import { tokenCommand } from "./commands/token.js";
import { createContext, type CliContext, type GlobalOptions } from "./context.js";
import { ExitCode, exitCodeFor, exitCodeHelp, UsageError } from "./exit-codes.js";

/** Builds the CLI; `run` parses argv, runs one command and returns its exit code. */
export function buildProgram(env: NodeJS.ProcessEnv = process.env): { program: Command; run(argv: string[]): Promise<number> } {
  const program = new Command("lotty")
    .description("Lotty: feature flags, experiments and progressive delivery")
    .option("--url <url>", "Lotty base URL (LOTTY_URL)", env.LOTTY_URL ?? "http://127.0.0.1:8080")
    .option("--json", "machine-readable JSON output")
    .option("--actor <who>", "name the caller for the audit log; only counts with LOTTY_AUTH=off (LOTTY_ACTOR)", env.LOTTY_ACTOR)
    .option("--token <jwt>", "bearer token, e.g. from `lotty token` (LOTTY_TOKEN)", env.LOTTY_TOKEN)
    .option("--timeout <ms>", "deadline per call in milliseconds", "10000")
    .addHelpText("after", `\n${exitCodeHelp}`)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  let ctx: CliContext | undefined;
  const context = () => (ctx ??= createContext(program.opts<GlobalOptions>(), env));
  flagCommands(program, context);
  experimentCommands(program, context);
  domainCommands(program, context);
  decideCommand(program, context);
  eventCommands(program, context);
  metricCommands(program, context);
  reportCommand(program, context);
  guardrailCommands(program, context);
  autopilotCommand(program.commands.find((c) => c.name() === "experiments")!, context);
  keyCommands(program, context);
  tokenCommand(program, context, env);

  return {
    program,
    async run(argv) {
      try {
        await program.parseAsync(argv, { from: "user" });
        return ExitCode.ok;
      } catch (err) {
        if (err instanceof CommanderError) {
          // --help and --version end through here too, with exit code 0.
          return err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
        }
        const code = exitCodeFor(err);
        const json = Boolean(program.opts<GlobalOptions>().json);
        const message = err instanceof ConnectError ? err.rawMessage : err instanceof UsageError ? err.message : String(err);
        const kind = err instanceof ConnectError ? Code[err.code] : err instanceof UsageError ? "usage" : "error";
        if (json) process.stdout.write(`${JSON.stringify({ error: { code: kind, exitCode: code, message } })}\n`);
        process.stderr.write(`lotty: ${message}\n`);
        return code;
      }
    },
  };
}
