import { ConflictPolicy, type ConflictDomain } from "@lotty/proto/experiment";
import { assertValid, type FieldViolation } from "./errors.js";
import { keyProblem } from "./keys.js";

export const MAX_DOMAIN_CONCURRENT = 100;
export const DOMAIN_UPDATE_PATHS = ["description", "policy", "max_concurrent"] as const;

/** Validates a domain (INVALID_ARGUMENT naming fields), defaulting max_concurrent to 1 (plain mutual exclusion). */
export function normalizeDomain(d: ConflictDomain, field = "domain"): ConflictDomain {
  const out: FieldViolation[] = [];
  const key = keyProblem(d.key);
  if (key) out.push({ field: `${field}.key`, description: key });
  if (d.policy !== ConflictPolicy.MUTUAL_EXCLUSION && d.policy !== ConflictPolicy.PRIORITY) {
    out.push({ field: `${field}.policy`, description: "must be mutual_exclusion or priority" });
  }
  const max = d.maxConcurrent === 0 ? 1 : d.maxConcurrent;
  if (max < 1 || max > MAX_DOMAIN_CONCURRENT) {
    out.push({ field: `${field}.max_concurrent`, description: `must be between 1 and ${MAX_DOMAIN_CONCURRENT}` });
  }
  assertValid(out);
  return { ...d, maxConcurrent: max };
}
