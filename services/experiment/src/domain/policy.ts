import type { Duration } from "@bufbuild/protobuf/wkt";
import type { ParticipationOverride } from "@lotty/proto/experiment";
import { assertValid, type FieldViolation } from "./errors.js";
import { durationSeconds } from "./ramp.js";

export interface Participation {
  maxConcurrentExperiments: number;
  cooldownSeconds: number;
}

export const DEFAULT_POLICY: Participation = { maxConcurrentExperiments: 3, cooldownSeconds: 7 * 24 * 3600 };
export const MAX_CONCURRENT_LIMIT = 1000;
export const MAX_COOLDOWN_SECONDS = 365 * 24 * 3600;

function cooldownProblem(d: Duration): string | undefined {
  const s = durationSeconds(d);
  if (s < 0 || s > MAX_COOLDOWN_SECONDS) return "must be between 0 and 365 days";
  if (d.nanos !== 0) return "must be whole seconds";
  return undefined;
}

/** Global policy update: unset fields keep their current value. INVALID_ARGUMENT naming bad fields. */
export function applyPolicyUpdate(current: Participation, upd: { maxConcurrentExperiments: number; cooldown?: Duration }): Participation {
  const out: FieldViolation[] = [];
  if (upd.maxConcurrentExperiments < 0 || upd.maxConcurrentExperiments > MAX_CONCURRENT_LIMIT) {
    out.push({ field: "policy.max_concurrent_experiments", description: `must be between 1 and ${MAX_CONCURRENT_LIMIT} (0 keeps the current value)` });
  }
  const cd = upd.cooldown && cooldownProblem(upd.cooldown);
  if (cd) out.push({ field: "policy.cooldown", description: cd });
  assertValid(out);
  return {
    maxConcurrentExperiments: upd.maxConcurrentExperiments || current.maxConcurrentExperiments,
    cooldownSeconds: upd.cooldown ? durationSeconds(upd.cooldown) : current.cooldownSeconds,
  };
}

export function validateOverride(o: ParticipationOverride | undefined, field: string): FieldViolation[] {
  if (!o) return [];
  const out: FieldViolation[] = [];
  if (o.maxConcurrentExperiments < 0 || o.maxConcurrentExperiments > MAX_CONCURRENT_LIMIT) {
    out.push({ field: `${field}.max_concurrent_experiments`, description: `must be between 0 (inherit) and ${MAX_CONCURRENT_LIMIT}` });
  }
  const cd = o.cooldown && cooldownProblem(o.cooldown);
  if (cd) out.push({ field: `${field}.cooldown`, description: cd });
  return out;
}

/** The limits an experiment runs under: its overrides where set, the global policy elsewhere. */
export function effectiveParticipation(global: Participation, o: ParticipationOverride | undefined): Participation {
  return {
    maxConcurrentExperiments: o?.maxConcurrentExperiments || global.maxConcurrentExperiments,
    cooldownSeconds: o?.cooldown ? durationSeconds(o.cooldown) : global.cooldownSeconds,
  };
}
