import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { bearerInterceptor } from "@lotty/platform/auth";
import type { EmbeddedLotty } from "@lotty/platform/host";
import { ExperimentService } from "@lotty/proto/experiment";

/**
 * First start of a data directory: creates an SDK key so SDKs work at once, and tells the user
 * (once: only the hash is stored) along with how to get an admin token. Goes to stderr, never
 * into the JSON logs.
 */
export async function announceFirstStart(lotty: EmbeddedLotty, url: string, dataDir: string): Promise<void> {
  if (!lotty.auth) return;
  const token = await lotty.auth.mintToken({ sub: "system:first-start", roles: ["admin"], ttlSeconds: 60 });
  const experiment = createClient(ExperimentService, createGrpcTransport({ baseUrl: url, interceptors: [bearerInterceptor(() => token)] }));
  const { key, secret } = await experiment.createSdkKey({ name: "default", environment: "development" });
  process.stderr.write(
    [
      "First start: authentication is on (LOTTY_AUTH=on).",
      `  SDK key "${key?.name}" (${key?.environment}), shown only this once:`,
      `    ${secret}`,
      "  SDKs send it as `authorization: Bearer <key>` to Decide, OFREP and TrackEvents.",
      `  Admin token for the CLI:  export LOTTY_TOKEN=$(npx lotty token --role admin --data-dir ${dataDir})`,
      "  More keys: `lotty keys create --name <name> --environment <env>`.",
      "",
    ].join("\n"),
  );
}
