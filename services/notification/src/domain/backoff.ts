export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

/**
 * Delay before retry number `attempt` (1 = first retry): exponential, capped, with "equal jitter"
 * (half fixed, half random) so retries of many deliveries spread out yet never come back at once.
 */
export function backoffMs(attempt: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const exp = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}

/**
 * Retry-After header: delta-seconds or an HTTP date. Returns milliseconds from now, undefined when
 * absent or unreadable.
 */
export function parseRetryAfter(header: string | null | undefined, now: Date): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}

export type AttemptOutcome =
  | { kind: "delivered" }
  | { kind: "retry"; error: string; retryAfterMs?: number }
  | { kind: "permanent"; error: string };

export type NextStep =
  | { status: "delivered" }
  | { status: "pending"; delayMs: number; error: string }
  | { status: "dead_letter"; error: string };

/** What happens after attempt number `attempts` (counting this one) ended with `outcome`. */
export function nextStep(
  outcome: AttemptOutcome,
  attempts: number,
  opts: BackoffOptions & { maxAttempts: number; maxRetryAfterMs: number },
  random?: () => number,
): NextStep {
  if (outcome.kind === "delivered") return { status: "delivered" };
  if (outcome.kind === "permanent") return { status: "dead_letter", error: outcome.error };
  if (attempts >= opts.maxAttempts) return { status: "dead_letter", error: `${outcome.error} (gave up after ${attempts} attempts)` };
  const delayMs =
    outcome.retryAfterMs !== undefined ? Math.min(outcome.retryAfterMs, opts.maxRetryAfterMs) : backoffMs(attempts, opts, random);
  return { status: "pending", delayMs, error: outcome.error };
}
