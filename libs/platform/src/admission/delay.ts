import { monitorEventLoopDelay } from "node:perf_hooks";

const RESOLUTION_MS = 10;

/**
 * Samples the event loop's standing queueing delay: every `intervalMs`, the smallest delay seen
 * during the interval (a callback ready to run had to wait at least that long the whole time),
 * or the sampler's own lateness when the loop was too busy to take any sample.
 */
export function startDelaySampler(intervalMs: number, onSample: (delayMs: number) => void): { close(): void } {
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  histogram.enable();
  let expected = performance.now() + intervalMs;
  const timer = setInterval(() => {
    const now = performance.now();
    // The histogram records whole timer periods: the resolution itself is not delay.
    const delay = histogram.count > 0 ? Math.max(0, histogram.min / 1e6 - RESOLUTION_MS) : Math.max(0, now - expected);
    histogram.reset();
    expected = now + intervalMs;
    onSample(delay);
  }, intervalMs);
  timer.unref();
  return {
    close() {
      clearInterval(timer);
      histogram.disable();
    },
  };
}
