import { toJson } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { ExperimentService, SdkKeySchema, type SdkKey } from "@lotty/proto/experiment";
import type { Command } from "commander";
import type { CliContext } from "../context.js";
import type { Column } from "../output.js";

const columns: Column<SdkKey>[] = [
  { header: "id", value: (k) => k.id },
  { header: "name", value: (k) => k.name },
  { header: "environment", value: (k) => k.environment },
  { header: "prefix", value: (k) => `${k.prefix}…` },
  { header: "created", value: (k) => (k.createTime ? timestampDate(k.createTime).toISOString() : "") },
  { header: "revoked", value: (k) => (k.revokeTime ? timestampDate(k.revokeTime).toISOString() : k.revoked ? "yes" : "") },
];

const describe = (k: SdkKey): string => `sdk key ${k.id} "${k.name}" (${k.environment}) ${k.prefix}…${k.revoked ? " [revoked]" : ""}`;

/** `lotty keys`: SDK keys for Decide, OFREP and TrackEvents (admin role). */
export function keyCommands(program: Command, ctx: () => CliContext): void {
  const keys = program.command("keys").description("SDK keys (for Decide, OFREP and TrackEvents)");
  const client = () => ctx().client(ExperimentService);

  keys
    .command("create")
    .description("create an SDK key; its secret is printed once and never again")
    .requiredOption("--name <name>", "what the key is for, e.g. checkout-backend")
    .requiredOption("--environment <env>", "e.g. production, staging")
    .action(async (o: { name: string; environment: string }) => {
      const { key, secret } = await client().createSdkKey({ name: o.name, environment: o.environment });
      const out = ctx().out;
      if (out.json) {
        process.stdout.write(`${JSON.stringify({ key: toJson(SdkKeySchema, key!), secret }, null, 2)}\n`);
        return;
      }
      process.stdout.write(`${describe(key!)}\n  secret (shown only now): ${secret}\n`);
    });

  keys
    .command("list")
    .description("list SDK keys (never their secrets)")
    .option("--all", "include revoked keys")
    .action(async (o: { all?: boolean }) => {
      const all: SdkKey[] = [];
      let pageToken = "";
      do {
        const res = await client().listSdkKeys({ includeRevoked: Boolean(o.all), pageSize: 500, pageToken });
        all.push(...res.keys);
        pageToken = res.nextPageToken;
      } while (pageToken);
      ctx().out.list(SdkKeySchema, all, columns);
    });

  keys
    .command("revoke <id>")
    .description("revoke an SDK key; the decision and metrics services refuse it once they hear of the change")
    .action(async (id: string) => {
      const { key } = await client().revokeSdkKey({ id });
      ctx().out.message(SdkKeySchema, key!, describe);
    });
}
