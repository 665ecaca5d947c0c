/**
 * Good and total events over a rolling window, in a ring of buckets with running sums: O(1) per
 * event, and reading the window costs nothing. The window covers the current bucket and the
 * n-1 before it, so its span wavers by one bucket (1/n of the window).
 */
export class RollingCounter {
  private readonly bucketMs: number;
  private readonly good: number[];
  private readonly total: number[];
  private goodSum = 0;
  private totalSum = 0;
  private head: number;

  constructor(
    readonly windowMs: number,
    nowMs: number,
    private readonly buckets = 60,
  ) {
    this.bucketMs = windowMs / buckets;
    this.good = new Array<number>(buckets).fill(0);
    this.total = new Array<number>(buckets).fill(0);
    this.head = Math.floor(nowMs / this.bucketMs);
  }

  add(nowMs: number, good: boolean): void {
    const slot = this.advance(nowMs);
    this.total[slot]++;
    this.totalSum++;
    if (good) {
      this.good[slot]++;
      this.goodSum++;
    }
  }

  read(nowMs: number): { good: number; total: number } {
    this.advance(nowMs);
    return { good: this.goodSum, total: this.totalSum };
  }

  /** Drops the buckets that fell out of the window; returns the current bucket's slot. */
  private advance(nowMs: number): number {
    const index = Math.floor(nowMs / this.bucketMs);
    // A clock that steps back counts into the current bucket rather than rewriting history.
    const steps = Math.min(index - this.head, this.buckets);
    for (let i = 1; i <= steps; i++) {
      const slot = (this.head + i) % this.buckets;
      this.goodSum -= this.good[slot];
      this.totalSum -= this.total[slot];
      this.good[slot] = 0;
      this.total[slot] = 0;
    }
    if (index > this.head) this.head = index;
    return this.head % this.buckets;
  }
}
