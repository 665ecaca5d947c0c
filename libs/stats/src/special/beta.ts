/** Regularized incomplete beta function I_x(a, b) and its complement, via Lentz's continued fraction. */
import { lentz } from "./continuedFraction.js";
import { logBeta } from "./gamma.js";

export interface BetaArgument {
  /** x and y = 1 − x, both given so callers can pass a complement without cancellation. */
  readonly x: number;
  readonly y: number;
  /** ln x and ln y; callers pass them when x or y would underflow. */
  readonly lnX?: number;
  readonly lnY?: number;
}

/** Enough for the O(sqrt(max(a, b))) iterations the fraction needs even with df ~ 1e12. */
const MAX_ITER = 5_000_000;

function fraction(a: number, b: number, x: number): number {
  // NR betacf: 1/(1 + d1/(1 + d2/(1 + ...))) with the usual even/odd coefficients.
  const cf = lentz(
    1,
    (i) => {
      const m = Math.floor((i + 1) / 2);
      const d =
        i % 2 === 1
          ? -((a + m - 1) * (a + b + m - 1) * x) / ((a + 2 * m - 2) * (a + 2 * m - 1))
          : (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m));
      return [d, 1];
    },
    MAX_ITER,
  );
  return 1 / cf;
}

/** x^a y^b / (a B(a, b)) · CF, i.e. I_x(a, b) when x is below the switch point. */
function direct(a: number, b: number, x: number, lnX: number, lnY: number): number {
  return (Math.exp(a * lnX + b * lnY - logBeta(a, b)) / a) * fraction(a, b, x);
}

/** Returns [I_x(a, b), 1 − I_x(a, b)], each computed directly where it is the small one. */
export function regularizedBeta(a: number, b: number, arg: BetaArgument): readonly [number, number] {
  const { x, y } = arg;
  const lnX = arg.lnX ?? Math.log(x);
  const lnY = arg.lnY ?? Math.log(y);
  if (lnX === -Infinity) return [0, 1];
  if (lnY === -Infinity) return [1, 0];
  if (x < (a + 1) / (a + b + 2)) {
    const lower = direct(a, b, x, lnX, lnY);
    return [lower, 1 - lower];
  }
  const upper = direct(b, a, y, lnY, lnX);
  return [1 - upper, upper];
}
