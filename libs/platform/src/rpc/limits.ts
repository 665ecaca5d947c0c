import { isReflectMessage, reflect, type ReflectMessage } from "@bufbuild/protobuf/reflect";
import { ConnectError, type Interceptor } from "@connectrpc/connect";
import { invalidArgument, truncateText, type FieldViolation } from "./errors.js";

/**
 * Input bounds shared by every Lotty server. The message size is enforced by the RPC server
 * itself (connect-node refuses a larger request with RESOURCE_EXHAUSTED before decoding it);
 * the per-field bounds are checked by each service's validation and refused with
 * INVALID_ARGUMENT naming the field. Services keep their own constants where their contract
 * says so (e.g. decision's 64 attributes); these are the platform-wide defaults they build on.
 */

/** Largest request message a server decodes, in bytes (after decompression). */
export const DEFAULT_READ_MAX_BYTES = 4 * 1024 * 1024;

export const INPUT_LIMITS = {
  /** Keys of flags, metrics, guardrails, channels, attributes, event names. */
  keyLength: 128,
  /** Display names, owners, labels. */
  nameLength: 200,
  /** Free text: descriptions, hypotheses, message templates. */
  textLength: 10_000,
  /** A targeting rule in the targeting DSL. */
  ruleLength: 4096,
  /** Attributes of one subject (Decide, DecideBatch, OFREP context). */
  attributes: 64,
  /** Flags in one DecideBatch. */
  decideBatchFlags: 200,
  /** Events in one TrackEvents. */
  trackEvents: 1000,
  /** Page size of every List RPC (larger asks are clamped, never an error). */
  pageSize: 1000,
} as const;

export interface RpcLimits {
  /** Largest request message in bytes; DEFAULT_READ_MAX_BYTES when unset. */
  readMaxBytes?: number;
}

/** Options for connectNodeAdapter, with defaults filled in and nonsense refused at start. */
export function adapterLimits(limits: RpcLimits = {}): { readMaxBytes: number } {
  const readMaxBytes = limits.readMaxBytes ?? DEFAULT_READ_MAX_BYTES;
  if (!Number.isSafeInteger(readMaxBytes) || readMaxBytes < 1024) {
    throw new Error(`readMaxBytes must be an integer of at least 1024, got ${readMaxBytes}`);
  }
  return { readMaxBytes };
}

/** Longest error message a server sends; errors often echo the input they refuse. */
export const MAX_ERROR_MESSAGE_CHARS = 1024;

// Headers the protocols own: a peer's error carrying them (its own response headers) would
// produce a second content-type or grpc-status in our trailers, which HTTP/2 clients reject.
const PROTOCOL_HEADER = /^(:|grpc-|connect-|content-|accept-|transfer-encoding$|te$|trailer$|connection$|keep-alive$|upgrade$|date$|vary$)/i;

/**
 * Keeps every error a server sends within bounds: the message truncated (a 1 MB key echoed in
 * "not found" would exceed the client's header limit and kill the whole HTTP/2 connection) and
 * protocol headers that a peer's error brought along removed.
 */
export function boundedErrorsInterceptor(): Interceptor {
  return (next) => async (req) => {
    try {
      return await next(req);
    } catch (err) {
      if (!(err instanceof ConnectError)) throw err;
      const metadata = new Headers();
      err.metadata.forEach((value, key) => {
        if (!PROTOCOL_HEADER.test(key)) metadata.append(key, value);
      });
      const bounded = new ConnectError(truncateText(err.rawMessage, MAX_ERROR_MESSAGE_CHARS), err.code, metadata, undefined, err.cause);
      bounded.details.push(...err.details);
      throw bounded;
    }
  };
}

/**
 * The path of the first string in `message` holding U+0000, e.g. `experiment.variants[1].name`.
 * Postgres text and jsonb cannot store it, so every service would fail on it deep in a query.
 */
export function findNulString(message: ReflectMessage, prefix = ""): string | undefined {
  for (const field of message.fields) {
    if (!message.isSet(field)) continue;
    const path = `${prefix}${field.name}`;
    switch (field.fieldKind) {
      case "scalar":
        if (hasNul(message.get(field))) return path;
        break;
      case "message": {
        const found = findNulString(message.get(field), `${path}.`);
        if (found) return found;
        break;
      }
      case "list": {
        let i = 0;
        for (const item of message.get(field)) {
          const found = isReflectMessage(item) ? findNulString(item, `${path}[${i}].`) : hasNul(item) ? `${path}[${i}]` : undefined;
          if (found) return found;
          i++;
        }
        break;
      }
      case "map":
        for (const [key, value] of message.get(field)) {
          const at = `${path}[${JSON.stringify(String(key))}]`;
          const found = hasNul(key) ? at : isReflectMessage(value) ? findNulString(value, `${at}.`) : hasNul(value) ? at : undefined;
          if (found) return found;
        }
        break;
    }
  }
  return undefined;
}

const hasNul = (v: unknown) => typeof v === "string" && v.includes("\u0000");

/** Refuses requests with a NUL character in any string with INVALID_ARGUMENT naming the field. */
export function nulFreeStringsInterceptor(): Interceptor {
  return (next) => (req) => {
    if (!req.stream) {
      const field = findNulString(reflect(req.method.input, req.message));
      if (field) throw invalidArgument(field, "must not contain NUL (U+0000) characters");
    }
    return next(req);
  };
}

/** The violations of length bounds, as `[field, value, max]` triples (empty = all within). */
export function lengthViolations(checks: ReadonlyArray<readonly [field: string, value: string, max: number]>): FieldViolation[] {
  return checks.filter(([, value, max]) => value.length > max).map(([field, value, max]) => ({ field, description: `must be at most ${max} characters, got ${value.length}` }));
}
