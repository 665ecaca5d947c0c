// One place for the service's error vocabulary, so handlers and domain agree on codes and wording.
import { Code, ConnectError } from "@connectrpc/connect";
export {
  aborted,
  alreadyExists,
  failedPrecondition,
  invalidArgument,
  invalidArguments,
  notFound,
  type FieldViolation,
} from "@lotty/platform/rpc";
import { invalidArguments, type FieldViolation } from "@lotty/platform/rpc";

export function permissionDenied(msg: string): ConnectError {
  return new ConnectError(msg, Code.PermissionDenied);
}

/** Throws INVALID_ARGUMENT listing every violation, or returns when there is none. */
export function assertValid(violations: readonly FieldViolation[]): void {
  if (violations.length > 0) throw invalidArguments(violations);
}
