/** A dependency is down or too slow; callers catch this to degrade (stale data, defaults). */
export class DependencyUnavailableError extends Error {
  constructor(
    readonly dependency: string,
    readonly reason: "circuit-open" | "timeout",
    options?: { cause?: unknown },
  ) {
    super(
      reason === "timeout"
        ? `${dependency}: call timed out`
        : `${dependency}: circuit open after repeated failures, failing fast`,
      options,
    );
    this.name = "DependencyUnavailableError";
  }
}
