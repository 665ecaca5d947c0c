// Validation of guardrails as written by people: every problem names its field.
import { durationMs } from "@bufbuild/protobuf/wkt";
import { GuardrailAction, type Guardrail } from "@lotty/proto/guardrail";
import type { FieldViolation } from "@lotty/platform/rpc";

const KEY = /^[a-z][a-z0-9_.-]*$/;
const MAX_WINDOW_MS = 90 * 24 * 3600 * 1000;

/** Update paths a guardrail accepts; the rule's kind, metric and experiment never change. */
export const UPDATABLE_PATHS: ReadonlySet<string> = new Set(["threshold", "window", "action", "active"]);

function windowProblem(field: string, d: Guardrail["window"]): FieldViolation | undefined {
  if (!d) return { field, description: "is required" };
  const ms = durationMs(d);
  if (!(ms > 0) || ms > MAX_WINDOW_MS) return { field, description: "must be positive and at most 90 days" };
  return undefined;
}

/** Everything wrong with a guardrail to create (fields prefixed "guardrail."). */
export function validateGuardrail(g: Guardrail): FieldViolation[] {
  const out: FieldViolation[] = [];
  const push = (v: FieldViolation | undefined) => v && out.push(v);
  if (g.experimentId === "") out.push({ field: "guardrail.experiment_id", description: "is required" });
  if (!KEY.test(g.metricKey)) out.push({ field: "guardrail.metric_key", description: "must match ^[a-z][a-z0-9_.-]*$" });
  push(windowProblem("guardrail.window", g.window));
  if (!(g.action in GuardrailAction) || g.action === GuardrailAction.UNSPECIFIED) {
    out.push({ field: "guardrail.action", description: "must be pause, rollback, step_back or alert_only" });
  }
  out.push(...validateRule(g));
  return out;
}

/** The rule oneof: exactly one set, with sane values. */
export function validateRule(g: Guardrail): FieldViolation[] {
  const out: FieldViolation[] = [];
  const r = g.rule;
  switch (r.case) {
    case "threshold":
      if (!Number.isFinite(r.value.threshold)) out.push({ field: "guardrail.threshold.threshold", description: "must be a finite number" });
      break;
    case "relative":
      if (!(r.value.maxDegradation > 0 && r.value.maxDegradation <= 10)) {
        out.push({ field: "guardrail.relative.max_degradation", description: "must be in (0, 10] (0.05 = 5 %)" });
      }
      if (r.value.minSample < 0n) out.push({ field: "guardrail.relative.min_sample", description: "must not be negative" });
      if (!(r.value.alpha >= 0 && r.value.alpha < 1)) out.push({ field: "guardrail.relative.alpha", description: "must be in [0, 1) (0 = 0.05)" });
      break;
    case "slo": {
      const s = r.value;
      if (!(s.objective > 0 && s.objective < 1)) out.push({ field: "guardrail.slo.objective", description: "must be in (0, 1), e.g. 0.995" });
      if (s.errorMetricKey !== "" && !KEY.test(s.errorMetricKey)) out.push({ field: "guardrail.slo.error_metric_key", description: "must match ^[a-z][a-z0-9_.-]*$" });
      if (!(s.burnRate > 0 && Number.isFinite(s.burnRate))) out.push({ field: "guardrail.slo.burn_rate", description: "must be positive" });
      const long = windowProblem("guardrail.slo.long_window", s.longWindow);
      const short = windowProblem("guardrail.slo.short_window", s.shortWindow);
      if (long) out.push(long);
      if (short) out.push(short);
      if (!long && !short && durationMs(s.shortWindow!) >= durationMs(s.longWindow!)) {
        out.push({ field: "guardrail.slo.short_window", description: "must be shorter than long_window" });
      }
      break;
    }
    default:
      out.push({ field: "guardrail.rule", description: "one of threshold, relative or slo is required" });
  }
  return out;
}

/** Paths of an update mask that may not change, in request order. */
export function forbiddenPaths(paths: readonly string[]): string[] {
  return paths.filter((p) => !UPDATABLE_PATHS.has(p));
}

/** The rule's tunable number: threshold, max_degradation or burn_rate. */
export function ruleThreshold(rule: Guardrail["rule"]): number {
  switch (rule.case) {
    case "threshold":
      return rule.value.threshold;
    case "relative":
      return rule.value.maxDegradation;
    case "slo":
      return rule.value.burnRate;
    default:
      return 0;
  }
}

/** A copy of the rule with its tunable number replaced (UpdateGuardrail's "threshold" path). */
export function withRuleThreshold(current: Guardrail["rule"], from: Guardrail["rule"]): Guardrail["rule"] {
  const t = ruleThreshold(from);
  switch (current.case) {
    case "threshold":
      return { case: "threshold", value: { ...current.value, threshold: t } };
    case "relative":
      return { case: "relative", value: { ...current.value, maxDegradation: t } };
    case "slo":
      return { case: "slo", value: { ...current.value, burnRate: t } };
    default:
      return current;
  }
}
