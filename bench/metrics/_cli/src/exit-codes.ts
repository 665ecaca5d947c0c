import { Code, ConnectError } from "@connectrpc/connect";

/** Exit codes scripts can branch on (also listed by `lotty --help`). */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  notFound: 3,
  invalidArgument: 4,
  /** Version conflict, wrong lifecycle state, already exists. */
  conflict: 5,
  unavailable: 6,
  denied: 7,
} as const;

export const exitCodeHelp = `Exit codes:
  0 ok            3 not found          5 conflict (version moved, wrong state, exists)
  1 failure       4 invalid argument   6 service unavailable or timed out
  2 usage error                        7 unauthenticated or permission denied`;

export function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError) return ExitCode.usage;
  if (!(err instanceof ConnectError)) return ExitCode.failure;
  switch (err.code) {
    case Code.NotFound:
      return ExitCode.notFound;
    case Code.InvalidArgument:
    case Code.OutOfRange:
      return ExitCode.invalidArgument;
    case Code.Aborted:
    case Code.FailedPrecondition:
    case Code.AlreadyExists:
      return ExitCode.conflict;
    case Code.Unavailable:
    case Code.DeadlineExceeded:
    case Code.ResourceExhausted:
      return ExitCode.unavailable;
    case Code.Unauthenticated:
    case Code.PermissionDenied:
      return ExitCode.denied;
    default:
      return ExitCode.failure;
  }
}

/** A mistake in how the command was called (bad flag value, unreadable file). */
export class UsageError extends Error {
  override name = "UsageError";
}
