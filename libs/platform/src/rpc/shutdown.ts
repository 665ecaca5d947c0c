import type { Logger } from "../log/index.js";

/**
 * On the first SIGTERM/SIGINT, runs the closers in order (server first, then stores) and
 * exits 0, or 1 if any closer threw; later closers still run so connections are released.
 * Repeated signals while closing are ignored. Returns a function that uninstalls the handlers.
 */
export function onShutdownSignals(closers: Array<() => Promise<void>>, logger: Logger): () => void {
  let started = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (started) return;
    started = true;
    logger.info({ signal }, "shutting down");
    void (async () => {
      let code = 0;
      for (const close of closers) {
        try {
          await close();
        } catch (err) {
          code = 1;
          logger.error({ err }, "shutdown step failed");
        }
      }
      logger.info({ code }, "shutdown complete");
      logger.flush();
      process.exit(code);
    })();
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  return () => {
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
  };
}
