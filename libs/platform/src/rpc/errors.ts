import { Code, ConnectError } from "@connectrpc/connect";

export interface FieldViolation {
  field: string;
  description: string;
}

// Until a BadRequest detail type exists, the message itself names each field and why,
// so callers (and people reading logs) see what to fix.
function describe(violations: readonly FieldViolation[]): string {
  return violations.map((v) => `field "${v.field}": ${v.description}`).join("; ");
}

export function invalidArgument(field: string, why: string): ConnectError {
  return invalidArguments([{ field, description: why }]);
}

export function invalidArguments(violations: readonly FieldViolation[]): ConnectError {
  return new ConnectError(describe(violations), Code.InvalidArgument);
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
