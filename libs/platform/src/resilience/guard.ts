import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  TaskCancelledError,
  TimeoutStrategy,
  circuitBreaker,
  handleWhen,
  retry,
  timeout,
  wrap,
  type IPolicy,
} from "cockatiel";
import { DependencyUnavailableError } from "./errors.js";

export type GuardState = "closed" | "open" | "half-open";

export interface GuardOptions {
  /** Per attempt. The call's AbortSignal fires then, and the caller gets the error at once. */
  timeoutMs: number;
  /** Consecutive failures that open the circuit (default 5). */
  failureThreshold?: number;
  /** How long the circuit stays open before one trial call is let through (default 10 s).
   *  Calls arriving during the trial wait for its outcome, which timeoutMs bounds. */
  halfOpenAfterMs?: number;
  /** Extra attempts with exponential backoff and jitter. Only for idempotent calls (default 0). */
  retries?: number;
  /** Which errors count against the dependency (default: all). A "not found" or a constraint
   *  violation is an answer, not an outage, and should not open the circuit. */
  isFailure?: (err: unknown) => boolean;
}

export interface Guard {
  readonly name: string;
  execute<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T>;
  state(): GuardState;
  /** Returns a function that unsubscribes. */
  onStateChange(cb: (state: GuardState) => void): () => void;
}

const STATES: Record<CircuitState, GuardState> = {
  [CircuitState.Closed]: "closed",
  [CircuitState.Open]: "open",
  [CircuitState.HalfOpen]: "half-open",
  [CircuitState.Isolated]: "open",
};

/** Timeout + consecutive-failure circuit breaker (+ optional retry) around calls to one dependency. */
export function createGuard(name: string, opts: GuardOptions): Guard {
  // A timeout always counts: a dependency that stops answering is the outage we guard against.
  const counts = (err: unknown): boolean => err instanceof TaskCancelledError || (opts.isFailure?.(err) ?? true);
  const breaker = circuitBreaker(handleWhen(counts), {
    halfOpenAfter: opts.halfOpenAfterMs ?? 10_000,
    breaker: new ConsecutiveBreaker(opts.failureThreshold ?? 5),
  });
  // Aggressive: the caller is released at the deadline even if fn ignores its signal.
  const perAttempt = wrap(breaker, timeout(opts.timeoutMs, TimeoutStrategy.Aggressive));
  const retries = opts.retries ?? 0;
  const policy: IPolicy =
    retries > 0
      ? wrap(
          // Retrying into an open circuit only adds load; give up at once instead.
          retry(handleWhen((err) => !(err instanceof BrokenCircuitError) && counts(err)), {
            maxAttempts: retries,
            backoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: Math.max(50, opts.timeoutMs) }),
          }),
          perAttempt,
        )
      : perAttempt;

  return {
    name,
    async execute<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
      try {
        return await policy.execute(({ signal }) => fn(signal));
      } catch (err) {
        if (err instanceof BrokenCircuitError) throw new DependencyUnavailableError(name, "circuit-open", { cause: err });
        if (err instanceof TaskCancelledError) throw new DependencyUnavailableError(name, "timeout", { cause: err });
        throw err;
      }
    },
    state: () => STATES[breaker.state],
    onStateChange(cb) {
      const sub = breaker.onStateChange((s) => cb(STATES[s]));
      return () => sub.dispose();
    },
  };
}
