import type { Registry } from "prom-client";
import type { Bus } from "../bus/types.js";
import type { Logger } from "../log/index.js";
import type { ServiceModule } from "../service/index.js";
import { DECIDE_SLOS, sloFor } from "./definitions.js";
import { createSloMonitor, type SloMonitor } from "./monitor.js";

/** The platform SLOs of whatever these modules serve (the decide SLOs where the decision service runs), started; undefined when none applies. */
export function startSloMonitor(modules: readonly ServiceModule[], deps: { bus: Bus; registry: Registry; logger: Logger }): SloMonitor | undefined {
  const slos = sloFor(
    DECIDE_SLOS,
    modules.flatMap((m) => m.services.map((s) => s.typeName)),
  );
  if (slos.length === 0) return undefined;
  const monitor = createSloMonitor({ slos, ...deps });
  monitor.start();
  return monitor;
}
