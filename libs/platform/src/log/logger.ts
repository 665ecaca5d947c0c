import { pino, type DestinationStream, type Logger } from "pino";

export type { Logger } from "pino";

export interface LoggerOptions {
  /** pino level; defaults to $LOG_LEVEL, then "info". */
  level?: string;
  /** Where JSON lines go; defaults to stdout. Tests pass an in-memory stream. */
  destination?: DestinationStream;
}

/** Key names whose values never reach a log line, whatever object they sit in. */
const SECRET_KEYS = [
  "authorization",
  "Authorization",
  "cookie",
  "set-cookie",
  "token",
  "accessToken",
  "access_token",
  "refreshToken",
  "refresh_token",
  "idToken",
  "secret",
  "clientSecret",
  "client_secret",
  "password",
  "passwd",
  "apiKey",
  "api_key",
  "apikey",
  "x-api-key",
];

/**
 * pino's redaction (fast-redact) has no recursive wildcard, so "anywhere" means every
 * nesting depth up to MAX_DEPTH; deeper secrets are unlikely in structured log fields.
 */
const MAX_DEPTH = 4;

export function redactPaths(keys: readonly string[] = SECRET_KEYS, maxDepth = MAX_DEPTH): string[] {
  const paths: string[] = [];
  for (const key of keys) {
    const leaf = /^[A-Za-z_$][\w$]*$/.test(key) ? key : `["${key}"]`;
    for (let depth = 0; depth <= maxDepth; depth++) {
      const prefix = "*.".repeat(depth);
      paths.push(leaf.startsWith("[") ? `${prefix.slice(0, -1)}${leaf}` : `${prefix}${leaf}`);
    }
  }
  return paths;
}

export function createLogger(service: string, opts: LoggerOptions = {}): Logger {
  return pino(
    {
      level: opts.level ?? process.env.LOG_LEVEL ?? "info",
      base: { service, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: redactPaths(), censor: "[redacted]" },
    },
    opts.destination,
  );
}
