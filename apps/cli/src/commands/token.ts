import { userInfo } from "node:os";
import { DEFAULT_AUDIENCE, DEFAULT_ISSUER, mintUserToken, readLocalSecrets, ROLES, type Role } from "@lotty/platform/auth";
import { env } from "@lotty/platform/config";
import type { Command } from "commander";
import type { CliContext } from "../context.js";
import { UsageError } from "../exit-codes.js";

const ttlVar = env.durationMs({ doc: "token lifetime" });

function parseRoles(values: string[]): Role[] {
  const roles = values.flatMap((v) => v.split(",")).map((r) => r.trim()).filter(Boolean);
  const unknown = roles.filter((r) => !(ROLES as readonly string[]).includes(r));
  if (unknown.length > 0) throw new UsageError(`unknown role ${unknown.join(", ")}; roles are ${ROLES.join(", ")}`);
  return roles as Role[];
}

function parseTtl(raw: string): number {
  let ms: number;
  try {
    ms = ttlVar.parse(raw);
  } catch (err) {
    throw new UsageError(`--ttl ${(err as Error).message}`);
  }
  if (ms < 1000) throw new UsageError("--ttl must be at least 1s");
  return Math.floor(ms / 1000);
}

/**
 * `lotty token`: mints a user token for the embedded default (or any install whose user tokens
 * are HS256 with LOTTY_JWT_SECRET). Offline: it needs the secret, not the server.
 */
export function tokenCommand(program: Command, ctx: () => CliContext, source: NodeJS.ProcessEnv): void {
  program
    .command("token")
    .description("mint a local user token (embedded default: signed with the secret in the data directory)")
    .option("--role <role...>", `roles: ${ROLES.join(", ")}`, ["admin"])
    .option("--sub <subject>", "who the token speaks for (audit log, approvals)", userInfo().username)
    .option("--ttl <duration>", "lifetime, e.g. 15m, 1h", "1h")
    .option("--data-dir <dir>", "data directory of the embedded default (LOTTY_DATA_DIR)", source.LOTTY_DATA_DIR ?? "./.lotty")
    .action(async (o: { role: string[]; sub: string; ttl: string; dataDir: string }) => {
      const roles = parseRoles(o.role);
      const ttlSeconds = parseTtl(o.ttl);
      if (o.sub.trim() === "" || o.sub.startsWith("service:")) throw new UsageError("--sub must name a person (service identities use service tokens)");
      const secret = source.LOTTY_JWT_SECRET || readLocalSecrets(o.dataDir)?.jwtSecret;
      if (!secret) throw new UsageError(`no token secret: set LOTTY_JWT_SECRET or point --data-dir at the data directory of a started embedded default (no ${o.dataDir}/auth.json)`);
      const token = await mintUserToken({
        secret,
        sub: o.sub,
        roles,
        ttlSeconds,
        issuer: source.LOTTY_JWT_ISSUER || DEFAULT_ISSUER,
        audience: source.LOTTY_JWT_AUDIENCE || DEFAULT_AUDIENCE,
      });
      const out = ctx().out;
      if (out.json) process.stdout.write(`${JSON.stringify({ token, sub: o.sub, roles, expiresAt: new Date(Date.now() + ttlSeconds * 1000).toISOString() })}\n`);
      else process.stdout.write(`${token}\n`);
    });
}
