/**
 * Modified Lentz evaluation of b0 + a1/(b1 + a2/(b2 + ...)).
 * `term(i)` returns [a_i, b_i] for i >= 1. Stops when a step changes the value by < eps relative.
 */
const TINY = 1e-300;
const EPS = 1e-16;

export function lentz(b0: number, term: (i: number) => readonly [number, number], maxIter: number): number {
  let f = b0 === 0 ? TINY : b0;
  let c = f;
  let d = 0;
  for (let i = 1; i <= maxIter; i++) {
    const [a, b] = term(i);
    d = b + a * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + a / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < EPS) return f;
  }
  return f;
}
