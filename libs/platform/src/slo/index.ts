export { BURN_ALERTS, budgetRemaining, burnRate, evaluateAlert, type AlertEvaluation, type BurnAlertPolicy, type Counts } from "./burn.js";
export { DECIDE_LATENCY_TARGET_MS, DECIDE_SLOS, SERVER_FAULT_CODES, sloFor, type CallOutcome, type SloDefinition } from "./definitions.js";
export { createSloMonitor, type SloMonitor, type SloMonitorOptions } from "./monitor.js";
export { BUDGET_WINDOW, SLO_WINDOWS, SloTracker, type SloTrackerOptions } from "./tracker.js";
export { RollingCounter } from "./window.js";
export { startSloMonitor } from "./host.js";
