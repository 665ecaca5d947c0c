import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { BadRequestSchema } from "@lotty/proto/google-rpc";

export interface FieldViolation {
  field: string;
  description: string;
}

// The message names each field and why for people reading logs; the google.rpc.BadRequest
// detail carries the same for standard clients (grpc-status-details-bin / Connect details).
function describe(violations: readonly FieldViolation[]): string {
  return violations.map((v) => `field "${v.field}": ${v.description}`).join("; ");
}

export function invalidArgument(field: string, why: string): ConnectError {
  return invalidArguments([{ field, description: why }]);
}

// Violations often quote the input; these bounds keep the error (sent in HTTP/2 trailers) small.
const MAX_VIOLATIONS = 20;
const MAX_VIOLATION_CHARS = 300;
const cut = (s: string) => truncateText(s, MAX_VIOLATION_CHARS);

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * `text` cut to `max` characters, saying how long it was, and without lone surrogates: cutting
 * inside a pair leaves one, and the gRPC trailer encoder (encodeURIComponent) throws on it, so
 * the call would never finish.
 */
export function truncateText(text: string, max: number): string {
  const cutText = text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`;
  return cutText.replace(LONE_SURROGATE, "\uFFFD");
}

export function invalidArguments(violations: readonly FieldViolation[]): ConnectError {
  const shown = violations.slice(0, MAX_VIOLATIONS).map((v) => ({ field: cut(v.field), description: cut(v.description) }));
  const more = violations.length - shown.length;
  const detail = create(BadRequestSchema, { fieldViolations: shown });
  const message = describe(shown) + (more > 0 ? `; and ${more} more` : "");
  return new ConnectError(message, Code.InvalidArgument, undefined, [{ desc: BadRequestSchema, value: detail }]);
}

/** The field violations a BadRequest detail carries, e.g. on an error a client received. */
export function fieldViolationsOf(err: unknown): FieldViolation[] {
  return ConnectError.from(err)
    .findDetails(BadRequestSchema)
    .flatMap((d) => d.fieldViolations.map((v) => ({ field: v.field, description: v.description })));
}

export function notFound(what: string, id: string): ConnectError {
  return new ConnectError(`${what} "${id}" not found`, Code.NotFound);
}

export function alreadyExists(what: string, id: string): ConnectError {
  return new ConnectError(`${what} "${id}" already exists`, Code.AlreadyExists);
}

export function failedPrecondition(msg: string): ConnectError {
  return new ConnectError(msg, Code.FailedPrecondition);
}

export function aborted(msg: string): ConnectError {
  return new ConnectError(msg, Code.Aborted);
}
