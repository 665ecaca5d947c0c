/** One environment variable: how to parse it, its default, and its line in the README table. */
export interface EnvVar<T, Optional extends boolean = boolean> {
  readonly type: string;
  readonly doc: string;
  readonly default?: T;
  readonly optional: Optional;
  /** Values are masked in error messages (passwords, tokens). */
  readonly secret: boolean;
  /** Returns the value, or throws an Error whose message says why the text is not acceptable. */
  parse(raw: string): T;
  format(value: T): string;
}

export interface VarOptions<T> {
  doc: string;
  default?: T;
  /** Unset is allowed and reads as undefined (ignored when a default is given). */
  optional?: boolean;
  secret?: boolean;
}

/** Optional in the loaded config only when marked optional and given no default. */
type IsOptional<O> = O extends { default: unknown } ? false : O extends { optional: true } ? true : false;

type Parser<T> = { type: string; parse(raw: string): T; format?: (value: T) => string };

function define<T, O extends VarOptions<T>>(p: Parser<T>, opts: O): EnvVar<T, IsOptional<O>> {
  return {
    type: p.type,
    doc: opts.doc,
    default: opts.default,
    optional: (opts.default === undefined && opts.optional === true) as IsOptional<O>,
    secret: opts.secret ?? false,
    parse: p.parse,
    format: p.format ?? String,
  };
}

function parseInteger(raw: string, min: number, max: number): number {
  if (!/^[+-]?\d+$/.test(raw)) throw new Error("must be an integer");
  const n = Number(raw);
  if (n < min || n > max) throw new Error(`must be between ${min} and ${max}`);
  return n;
}

const TRUE = new Set(["true", "1", "yes", "on"]);
const FALSE = new Set(["false", "0", "no", "off"]);

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function formatDuration(ms: number): string {
  for (const unit of ["h", "m", "s"]) if (ms > 0 && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  return `${ms}ms`;
}

const UNIT_BYTES: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };

function formatBytes(n: number): string {
  for (const unit of ["GiB", "MiB", "KiB"]) if (n > 0 && n % UNIT_BYTES[unit] === 0) return `${n / UNIT_BYTES[unit]}${unit}`;
  return `${n}B`;
}

export const env = {
  string: <O extends VarOptions<string>>(opts: O) => define({ type: "string", parse: (raw) => raw }, opts),

  int: <O extends VarOptions<number> & { min?: number; max?: number }>(opts: O) => {
    const min = opts.min ?? Number.MIN_SAFE_INTEGER;
    const max = opts.max ?? Number.MAX_SAFE_INTEGER;
    const range = opts.min !== undefined || opts.max !== undefined ? ` (${opts.min ?? ""}..${opts.max ?? ""})` : "";
    return define({ type: `int${range}`, parse: (raw) => parseInteger(raw, min, max) }, opts);
  },

  /** 0 is allowed: it asks the OS for a free port (tests, sidecars). */
  port: <O extends VarOptions<number>>(opts: O) =>
    define({ type: "port", parse: (raw) => parseInteger(raw, 0, 65535) }, opts),

  bool: <O extends VarOptions<boolean>>(opts: O) =>
    define(
      {
        type: "bool",
        parse(raw) {
          const v = raw.toLowerCase();
          if (TRUE.has(v)) return true;
          if (FALSE.has(v)) return false;
          throw new Error("must be one of true/false, 1/0, yes/no, on/off");
        },
      },
      opts,
    ),

  /** Kept as text (connection strings go straight to their client); `protocols` like ["redis:"]. */
  url: <O extends VarOptions<string> & { protocols?: readonly string[] }>(opts: O) =>
    define(
      {
        type: opts.protocols ? `url (${opts.protocols.join(" ")})` : "url",
        parse(raw) {
          let url: URL;
          try {
            url = new URL(raw);
          } catch {
            throw new Error("must be an absolute URL");
          }
          if (opts.protocols && !opts.protocols.includes(url.protocol)) {
            throw new Error(`must use ${opts.protocols.join(" or ")}`);
          }
          return raw;
        },
      },
      opts,
    ),

  oneOf: <const V extends readonly string[], O extends VarOptions<V[number]>>(values: V, opts: O) =>
    define(
      {
        type: values.map((v) => `\`${v}\``).join(" \\| "),
        parse(raw) {
          const found = values.find((v) => v === raw);
          if (found === undefined) throw new Error(`must be one of ${values.join(", ")}`);
          return found as V[number];
        },
      },
      opts,
    ),

  /** Milliseconds; accepts "250ms", "5s", "1.5m", "1h" or plain milliseconds. */
  durationMs: <O extends VarOptions<number>>(opts: O) =>
    define(
      {
        type: "duration",
        parse(raw) {
          const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw);
          if (!m) throw new Error('must be a duration like "250ms", "5s", "1m" or plain milliseconds');
          return Math.round(Number(m[1]) * UNIT_MS[m[2] ?? "ms"]);
        },
        format: formatDuration,
      },
      opts,
    ),

  /** Bytes; accepts "512KiB", "4MiB", "1GiB" or plain bytes (binary units only, so 1MiB is never read as 10^6). */
  bytes: <O extends VarOptions<number> & { min?: number; max?: number }>(opts: O) => {
    const min = opts.min ?? 0;
    const max = opts.max ?? Number.MAX_SAFE_INTEGER;
    const range = opts.min !== undefined || opts.max !== undefined ? ` (${opts.min === undefined ? "" : formatBytes(min)}..${opts.max === undefined ? "" : formatBytes(max)})` : "";
    return define(
      {
        type: `size${range}`,
        parse(raw) {
          const m = /^(\d+)\s*(B|KiB|MiB|GiB)?$/.exec(raw);
          if (!m) throw new Error('must be a size like "512KiB", "4MiB", "1GiB" or plain bytes');
          const n = Number(m[1]) * UNIT_BYTES[m[2] ?? "B"];
          if (n < min || n > max) throw new Error(`must be between ${formatBytes(min)} and ${formatBytes(max)}`);
          return n;
        },
        format: formatBytes,
      },
      opts,
    );
  },
};
