import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createGuard, DependencyUnavailableError, type GuardState } from "../../src/resilience/index.js";

const fail = (): Promise<never> => Promise.reject(new Error("ECONNREFUSED"));
const ok = (): Promise<string> => Promise.resolve("ok");

async function failTimes(guard: ReturnType<typeof createGuard>, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await expect(guard.execute(fail)).rejects.toThrow("ECONNREFUSED");
}

describe("createGuard", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("passes results and caller errors through while closed", async () => {
    const guard = createGuard("pg", { timeoutMs: 100, failureThreshold: 3 });
    await expect(guard.execute(ok)).resolves.toBe("ok");
    await failTimes(guard, 2);
    await expect(guard.execute(ok)).resolves.toBe("ok");
    // The success reset the count: two more failures still leave it closed.
    await failTimes(guard, 2);
    expect(guard.state()).toBe("closed");
  });

  it("opens after N consecutive failures and then fails fast without calling fn", async () => {
    const guard = createGuard("redis", { timeoutMs: 100, failureThreshold: 3 });
    const seen: GuardState[] = [];
    guard.onStateChange((s) => seen.push(s));
    await failTimes(guard, 3);
    expect(guard.state()).toBe("open");
    expect(seen).toEqual(["open"]);

    const fn = vi.fn(ok);
    const err = await guard.execute(fn).catch((e: unknown) => e);
    expect(fn).not.toHaveBeenCalled();
    expect(err).toBeInstanceOf(DependencyUnavailableError);
    expect(err).toMatchObject({ dependency: "redis", reason: "circuit-open" });
  });

  it("half-opens after the wait: a good trial call closes it, a bad one reopens it", async () => {
    const guard = createGuard("nats", { timeoutMs: 1000, failureThreshold: 1, halfOpenAfterMs: 5000 });
    const seen: GuardState[] = [];
    const unsubscribe = guard.onStateChange((s) => seen.push(s));
    await failTimes(guard, 1);
    vi.advanceTimersByTime(4999);
    await expect(guard.execute(ok)).rejects.toBeInstanceOf(DependencyUnavailableError);

    vi.advanceTimersByTime(1);
    await failTimes(guard, 1);
    expect(guard.state()).toBe("open");

    vi.advanceTimersByTime(5000);
    let release!: (v: string) => void;
    const trial = guard.execute(() => new Promise<string>((r) => (release = r)));
    expect(guard.state()).toBe("half-open");
    // Only one trial at a time: a concurrent call waits for its outcome (at most timeoutMs).
    const waiting = vi.fn(ok);
    const queued = guard.execute(waiting);
    await vi.advanceTimersByTimeAsync(0);
    expect(waiting).not.toHaveBeenCalled();
    release("recovered");
    await expect(trial).resolves.toBe("recovered");
    await expect(queued).resolves.toBe("ok");
    expect(guard.state()).toBe("closed");
    expect(seen).toEqual(["open", "half-open", "open", "half-open", "closed"]);

    unsubscribe();
    await failTimes(guard, 1);
    expect(seen).toHaveLength(5);
  });

  it("times out aggressively, aborts the signal and counts the timeout as a failure", async () => {
    const guard = createGuard("peer", { timeoutMs: 200, failureThreshold: 2 });
    let signal!: AbortSignal;
    // fn ignores its signal and never settles: the caller must still be released.
    const hung = guard.execute((s) => {
      signal = s;
      return new Promise<never>(() => {});
    });
    const outcome = hung.catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(199);
    expect(signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await outcome).toMatchObject({ name: "DependencyUnavailableError", dependency: "peer", reason: "timeout" });
    expect(signal.aborted).toBe(true);

    const second = guard.execute(() => new Promise<never>(() => {})).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(200);
    expect(await second).toBeInstanceOf(DependencyUnavailableError);
    expect(guard.state()).toBe("open");
  });

  it("does not count errors that isFailure rejects", async () => {
    const notFound = new Error("not found");
    const guard = createGuard("pg", { timeoutMs: 100, failureThreshold: 1, isFailure: (e) => e !== notFound });
    await expect(guard.execute(() => Promise.reject(notFound))).rejects.toBe(notFound);
    expect(guard.state()).toBe("closed");
  });

  it("retries only when asked, with backoff, and not into an open circuit", async () => {
    const noRetry = createGuard("a", { timeoutMs: 100 });
    const once = vi.fn(fail);
    await expect(noRetry.execute(once)).rejects.toThrow("ECONNREFUSED");
    expect(once).toHaveBeenCalledTimes(1);

    const flaky = vi.fn().mockRejectedValueOnce(new Error("blip")).mockRejectedValueOnce(new Error("blip")).mockResolvedValue("ok");
    const retrying = createGuard("b", { timeoutMs: 100, retries: 2 });
    const result = retrying.execute(flaky);
    await vi.runAllTimersAsync();
    await expect(result).resolves.toBe("ok");
    expect(flaky).toHaveBeenCalledTimes(3);

    const broken = createGuard("c", { timeoutMs: 100, retries: 5, failureThreshold: 2 });
    const down = vi.fn(fail);
    const out = broken.execute(down).catch((e: unknown) => e);
    await vi.runAllTimersAsync();
    expect(await out).toMatchObject({ reason: "circuit-open" });
    expect(down).toHaveBeenCalledTimes(2);
  });
});
