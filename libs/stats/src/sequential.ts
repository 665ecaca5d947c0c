/** Always-valid (asymptotic confidence sequence) interval and p-value (STATISTICS.md §5). */
import { checkAlpha, DEFAULT_ALPHA, type Interval } from "./effect.js";
import { fail, ok, type Result } from "./result.js";
import { requireFinite } from "./validate.js";

/** GB DEFAULT_SEQUENTIAL_TESTING_TUNING_PARAMETER. */
export const DEFAULT_SEQUENTIAL_TUNING = 5000;

export interface SequentialInput {
  /** Effect estimate (D or L) and its fixed-horizon standard error. */
  readonly estimate: number;
  readonly se: number;
  /** N = n_A + n_B, total units in the two arms compared. */
  readonly n: number;
  readonly alpha?: number;
  /** N*, the sample size at which a decision is expected; keep it fixed for the experiment. */
  readonly tuning?: number;
  /** Value tested by the p-value (default 0). */
  readonly nullValue?: number;
}

export interface SequentialResult {
  readonly ci: Interval;
  readonly halfwidth: number;
  /** Always-valid two-sided p-value: p < alpha exactly when the interval excludes nullValue. */
  readonly pValue: number;
}

/** ρ = sqrt([−2 ln α + ln(1 − 2 ln α)]/N*) (Waudby-Smith et al. eq. 161). */
export function sequentialRho(alpha: number, tuning: number): number {
  const l = Math.log(alpha);
  return Math.sqrt((-2 * l + Math.log(1 - 2 * l)) / tuning);
}

export function sequentialInterval(input: SequentialInput): Result<SequentialResult> {
  const alpha = input.alpha ?? DEFAULT_ALPHA;
  const tuning = input.tuning ?? DEFAULT_SEQUENTIAL_TUNING;
  const nullValue = input.nullValue ?? 0;
  checkAlpha(alpha);
  requireFinite("estimate", input.estimate);
  requireFinite("se", input.se);
  requireFinite("nullValue", nullValue);
  if (!(tuning > 0 && Number.isFinite(tuning))) throw new RangeError(`tuning must be a positive number, got ${tuning}`);
  if (!(input.n > 0 && Number.isFinite(input.n))) return fail("INSUFFICIENT_SAMPLE");
  if (!(input.se > 0)) return fail("ZERO_VARIANCE");
  const rho2 = sequentialRho(alpha, tuning) ** 2;
  const nRho2 = input.n * rho2;
  // eq. 9: halfwidth = SE · sqrt(2(Nρ² + 1)/(Nρ²) · ln(sqrt(Nρ² + 1)/α))
  const halfwidth = input.se * Math.sqrt(((2 * (nRho2 + 1)) / nRho2) * (0.5 * Math.log1p(nRho2) - Math.log(alpha)));
  // eq. 155 in log form: ln E = ρ²S²/(2(Nρ² + 1)) − ½ ln(Nρ² + 1), S² = (est − null)²N/SE².
  const s2 = ((input.estimate - nullValue) / input.se) ** 2 * input.n;
  const logE = (rho2 * s2) / (2 * (nRho2 + 1)) - 0.5 * Math.log1p(nRho2);
  return ok({
    ci: { lower: input.estimate - halfwidth, upper: input.estimate + halfwidth },
    halfwidth,
    pValue: Math.min(1, Math.exp(-logE)),
  });
}
