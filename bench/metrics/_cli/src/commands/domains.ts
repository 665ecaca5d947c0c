import { ConflictDomainSchema, ConflictPolicy, ExperimentService, type ConflictDomain } from "@lotty/proto/experiment";
import type { Command } from "commander";
import type { CliContext } from "../context.js";
import { UsageError } from "../exit-codes.js";
import { enumLabel, type Column } from "../output.js";

const POLICIES: Record<string, ConflictPolicy> = {
  mutual_exclusion: ConflictPolicy.MUTUAL_EXCLUSION,
  priority: ConflictPolicy.PRIORITY,
};

const columns: Column<ConflictDomain>[] = [
  { header: "key", value: (d) => d.key },
  { header: "policy", value: (d) => enumLabel(ConflictPolicy[d.policy], "") },
  { header: "max concurrent", value: (d) => String(d.maxConcurrent) },
  { header: "description", value: (d) => d.description },
];

const describe = (d: ConflictDomain) =>
  `domain ${d.key} (v${d.version}): ${enumLabel(ConflictPolicy[d.policy], "")}, max ${d.maxConcurrent} per subject\n  ${d.description}`;

export function domainCommands(program: Command, ctx: () => CliContext): void {
  const domains = program.command("domains").description("conflict domains (mutual-exclusion layers)");
  const client = () => ctx().client(ExperimentService);

  domains
    .command("create <key>")
    .description("create a conflict domain")
    .option("--policy <policy>", "mutual_exclusion | priority", "mutual_exclusion")
    .option("--max-concurrent <n>", "experiments of this domain one subject may be in", "1")
    .option("--description <text>", "what the domain separates", "")
    .action(async (key: string, o: { policy: string; maxConcurrent: string; description: string }) => {
      const policy = POLICIES[o.policy];
      if (policy === undefined) throw new UsageError(`--policy must be one of ${Object.keys(POLICIES).join(", ")}`);
      const maxConcurrent = Number.parseInt(o.maxConcurrent, 10);
      const { domain } = await client().createConflictDomain({ domain: { key, policy, maxConcurrent, description: o.description } });
      ctx().out.message(ConflictDomainSchema, domain!, describe);
    });

  domains
    .command("show <key>")
    .description("show a conflict domain")
    .action(async (key: string) => {
      const res = await client().getConflictDomain({ key });
      ctx().out.message(ConflictDomainSchema, res.domain!, (d) => `${describe(d)}\n  members: ${res.experimentIds.join(", ") || "(none)"}`);
    });

  domains
    .command("list")
    .description("list conflict domains")
    .action(async () => {
      const all: ConflictDomain[] = [];
      let pageToken = "";
      do {
        const res = await client().listConflictDomains({ pageSize: 500, pageToken });
        all.push(...res.domains);
        pageToken = res.nextPageToken;
      } while (pageToken);
      ctx().out.list(ConflictDomainSchema, all, columns);
    });
}
