import type { EnvVar } from "./vars.js";

export type ConfigSpec = Record<string, EnvVar<unknown>>;

export type Config<S extends ConfigSpec> = {
  readonly [K in keyof S]: S[K] extends EnvVar<infer T, infer O> ? (O extends true ? T | undefined : T) : never;
};

export interface ConfigIssue {
  name: string;
  reason: string;
  /** The offending text (masked for secret variables); undefined when the variable is missing. */
  value?: string;
}

export class ConfigError extends Error {
  constructor(readonly issues: readonly ConfigIssue[]) {
    super(
      `invalid configuration:\n${issues
        .map((i) => `  ${i.name}: ${i.reason}${i.value === undefined ? "" : ` (got "${i.value}")`}`)
        .join("\n")}`,
    );
    this.name = "ConfigError";
  }
}

/**
 * Reads every variable of spec from source (usually process.env). An empty value counts as unset,
 * as `FOO=` in an env file usually means "not configured". All problems are reported at once.
 */
export function loadConfig<S extends ConfigSpec>(
  spec: S,
  source: Readonly<Record<string, string | undefined>>,
): Config<S> {
  const out: Record<string, unknown> = {};
  const issues: ConfigIssue[] = [];
  for (const [name, v] of Object.entries(spec)) {
    const raw = source[name]?.trim();
    if (raw === undefined || raw === "") {
      if (v.default === undefined && !v.optional) issues.push({ name, reason: "is required but not set" });
      out[name] = v.default;
      continue;
    }
    try {
      out[name] = v.parse(raw);
    } catch (err) {
      issues.push({ name, reason: (err as Error).message, value: v.secret ? "***" : raw });
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return out as Config<S>;
}

/** Markdown table of the spec for a service README. */
export function configTable(spec: ConfigSpec): string {
  const cell = (s: string): string => s.replaceAll("|", "\\|").replaceAll("\n", " ");
  const rows = Object.entries(spec).map(([name, v]) => {
    const dflt = v.default !== undefined ? `\`${cell(v.format(v.default))}\`` : v.optional ? "" : "*required*";
    // The type column may already hold escaped pipes (oneOf), so it is not escaped again.
    return `| \`${name}\` | ${v.type} | ${dflt} | ${cell(v.doc)} |`;
  });
  return ["| Variable | Type | Default | Description |", "| --- | --- | --- | --- |", ...rows].join("\n");
}
