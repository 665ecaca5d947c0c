export { createGuard, type Guard, type GuardOptions, type GuardState } from "./guard.js";
export { DependencyUnavailableError } from "./errors.js";
