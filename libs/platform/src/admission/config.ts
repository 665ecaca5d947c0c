import type { Config } from "../config/index.js";
import type { hostConfigSpec } from "../host/config.js";
import type { AdmissionOptions } from "./admission.js";

type AdmissionConfig = Pick<
  Config<typeof hostConfigSpec>,
  "LOTTY_ADMISSION" | "LOTTY_ADMISSION_DECIDE_MAX_IN_FLIGHT" | "LOTTY_ADMISSION_ADMIN_MAX_IN_FLIGHT" | "LOTTY_ADMISSION_TARGET_DELAY" | "LOTTY_ADMISSION_INTERVAL"
>;

/** The hosts' admission settings; undefined when admission control is off. */
export function admissionFromConfig(cfg: AdmissionConfig): AdmissionOptions | undefined {
  if (cfg.LOTTY_ADMISSION === "off") return undefined;
  return {
    decideMaxInFlight: cfg.LOTTY_ADMISSION_DECIDE_MAX_IN_FLIGHT,
    adminMaxInFlight: cfg.LOTTY_ADMISSION_ADMIN_MAX_IN_FLIGHT,
    targetDelayMs: cfg.LOTTY_ADMISSION_TARGET_DELAY,
    intervalMs: cfg.LOTTY_ADMISSION_INTERVAL,
  };
}
