import type { DescService } from "@bufbuild/protobuf";
import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createOutput, type Output } from "./output.js";

export interface GlobalOptions {
  url: string;
  json?: boolean;
  actor?: string;
  token?: string;
  timeout: string;
}

/** What every command gets: output and clients for the services it talks to. */
export interface CliContext {
  out: Output;
  client<T extends DescService>(service: T): Client<T>;
}

/**
 * One base URL reaches every service of the embedded default; against separate services,
 * LOTTY_<CONTEXT>_URL (e.g. LOTTY_GUARDRAIL_URL) points one context elsewhere.
 */
export function createContext(opts: GlobalOptions, env: NodeJS.ProcessEnv = process.env): CliContext {
  const headers: Interceptor = (next) => (req) => {
    if (opts.actor) req.header.set("x-lotty-actor", opts.actor);
    if (opts.token) req.header.set("authorization", `Bearer ${opts.token}`);
    return next(req);
  };
  const timeoutMs = Number.parseInt(opts.timeout, 10);
  return {
    out: createOutput(Boolean(opts.json)),
    client(service) {
      const context = service.typeName.split(".")[1]?.toUpperCase();
      const baseUrl = env[`LOTTY_${context}_URL`] ?? opts.url;
      return createClient(service, createGrpcTransport({ baseUrl, interceptors: [headers], defaultTimeoutMs: timeoutMs }));
    },
  };
}
