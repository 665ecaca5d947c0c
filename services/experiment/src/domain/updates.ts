import { create } from "@bufbuild/protobuf";
import { ExperimentSchema, ExperimentStatus, type Experiment } from "@lotty/proto/experiment";
import { failedPrecondition, invalidArgument } from "./errors.js";
import { hasStarted, isTerminal, statusName } from "./lifecycle.js";

/**
 * What decides assignment (plus what review covers: owner, flag, ramp plan). Changeable only in
 * draft; frozen for good once the experiment has started.
 */
export const FROZEN_FIELDS = [
  "flag_key",
  "owner",
  "variants",
  "traffic_allocation",
  "targeting",
  "bucketing_seed",
  "domains",
  "ramp_plan",
] as const;

/** Descriptive fields, changeable until the experiment completes. */
export const FREE_FIELDS = [
  "name",
  "description",
  "hypothesis",
  "primary_metric_key",
  "secondary_metric_keys",
  "participation",
] as const;

export type UpdatablePath = (typeof FROZEN_FIELDS)[number] | (typeof FREE_FIELDS)[number];
const UPDATABLE: ReadonlySet<string> = new Set([...FROZEN_FIELDS, ...FREE_FIELDS]);
const FROZEN: ReadonlySet<string> = new Set(FROZEN_FIELDS);

/** snake_case, accepting the camelCase spelling JSON clients send. */
function snake(path: string): string {
  return path.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function camel(path: string): keyof Experiment {
  return path.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()) as keyof Experiment;
}

export function parseUpdateMask(paths: readonly string[]): UpdatablePath[] {
  if (paths.length === 0) throw invalidArgument("update_mask", "must name the fields to change");
  return paths.map((p) => {
    const s = snake(p);
    if (!UPDATABLE.has(s)) throw invalidArgument("update_mask", `unknown or read-only path "${p}"`);
    return s as UpdatablePath;
  });
}

/** FAILED_PRECONDITION naming the first field the experiment's status does not let change. */
export function assertUpdatable(status: Experiment["status"], paths: readonly UpdatablePath[]): void {
  if (isTerminal(status)) throw failedPrecondition(`experiment is ${statusName(status)}; it can no longer be changed`);
  const frozen = paths.find((p) => FROZEN.has(p));
  if (frozen === undefined) return;
  if (hasStarted(status)) {
    throw failedPrecondition(
      `field "experiment.${frozen}" is frozen once the experiment has started (status ${statusName(status)}); create a new experiment instead`,
    );
  }
  if (status !== ExperimentStatus.DRAFT) {
    throw failedPrecondition(`field "experiment.${frozen}" can only change in draft (status ${statusName(status)}); request changes first`);
  }
}

/** Copies the masked fields of `patch` onto `current`. */
export function applyMask(current: Experiment, patch: Experiment, paths: readonly UpdatablePath[]): Experiment {
  const next = create(ExperimentSchema, current);
  const target = next as unknown as Record<string, unknown>;
  const source = patch as unknown as Record<string, unknown>;
  for (const p of paths) target[camel(p)] = source[camel(p)];
  return next;
}
