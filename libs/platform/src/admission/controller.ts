import { PRIORITY_CLASSES, type PriorityClass } from "./classes.js";

export interface ClassBudget {
  /** Most calls of this class in flight at once; the adaptive limit never exceeds it. */
  maxInFlight: number;
  /** Low priority: its limit shrinks and its calls are shed while the queueing delay is above target. */
  sheddable: boolean;
}

export interface AdmissionPolicy {
  budgets: Record<PriorityClass, ClassBudget>;
  /**
   * Queueing delay the server may carry: a sheddable call that already waited longer is refused,
   * and a standing delay above it for a whole interval is overload.
   */
  targetDelayMs: number;
}

export type Verdict = { readonly admitted: true; release(): void } | { readonly admitted: false; readonly reason: string };

export interface ClassState {
  inFlight: number;
  /** Current adaptive in-flight limit (≤ maxInFlight). */
  limit: number;
  /** Share of new calls shed outright (0 unless the class is sheddable and the server overloaded). */
  shedProbability: number;
}

// AIMD: halve on overload so a burst is cut within a few intervals, grow back in about 20.
const DECREASE = 0.5;
const INCREASE_SHARE = 0.05;
// Shedding in whole steps of 10 %, at most 90 %: some decides always get through to measure recovery.
const SHED_STEP = 0.1;
const MAX_SHED_STEPS = 9;

/**
 * Admission by in-flight work and queueing delay (pure; time arrives through `tryAdmit` and `onInterval`).
 * Each class has its own budget, so one class cannot use up another's. For a sheddable class the
 * in-flight limit is an AIMD concurrency limit driven by the queueing delay, CoDel-style: the
 * delay must stand above target for a whole interval (its minimum, not a spike). In-flight counts
 * catch calls piling up on slow I/O; the delay catches CPU overload, where Node finishes each
 * call before starting the next and the queue is the event loop itself. So a sheddable call that
 * has already waited longer than the target is refused (CoDel's per-packet sojourn test), and
 * while the overload lasts a share of new calls is shed, rising every interval and falling once
 * it is gone.
 */
export class AdmissionController {
  private readonly state: Record<PriorityClass, { inFlight: number; limit: number; shedSteps: number; admittedThisInterval: number }>;
  private lastDelayMs = 0;

  constructor(
    private readonly policy: AdmissionPolicy,
    private readonly random: () => number = Math.random,
  ) {
    this.state = Object.fromEntries(
      PRIORITY_CLASSES.map((c) => [c, { inFlight: 0, limit: policy.budgets[c].maxInFlight, shedSteps: 0, admittedThisInterval: 0 }]),
    ) as AdmissionController["state"];
  }

  /** `waitedMs`: how long the call has already been queued (see LoopTurn). */
  tryAdmit(cls: PriorityClass, waitedMs = 0): Verdict {
    const s = this.state[cls];
    const { sheddable } = this.policy.budgets[cls];
    if (s.inFlight >= s.limit) {
      return { admitted: false, reason: `server overloaded: ${s.inFlight} ${cls} calls in flight (limit ${s.limit}); retry with backoff` };
    }
    if (sheddable && waitedMs > this.policy.targetDelayMs) {
      return {
        admitted: false,
        reason: `server overloaded: ${cls} call queued ${waitedMs.toFixed(1)} ms, over the ${this.policy.targetDelayMs} ms target; retry with backoff`,
      };
    }
    if (s.shedSteps > 0 && this.random() < s.shedSteps * SHED_STEP) {
      return {
        admitted: false,
        reason: `server overloaded: queueing delay ${this.lastDelayMs.toFixed(1)} ms above target ${this.policy.targetDelayMs} ms, shedding ${cls} calls; retry with backoff`,
      };
    }
    s.inFlight++;
    s.admittedThisInterval++;
    let released = false;
    return {
      admitted: true,
      release: () => {
        if (released) return;
        released = true;
        s.inFlight--;
      },
    };
  }

  /** Called once per interval with the standing queueing delay (ms) measured over it. */
  onInterval(delayMs: number): void {
    this.lastDelayMs = delayMs;
    const above = delayMs > this.policy.targetDelayMs;
    for (const cls of PRIORITY_CLASSES) {
      const s = this.state[cls];
      const { maxInFlight, sheddable } = this.policy.budgets[cls];
      // A pause no call of the class took part in (a migration, a GC) is no reason to shed it.
      const overloaded = sheddable && above && (s.admittedThisInterval > 0 || s.inFlight > 0);
      s.admittedThisInterval = 0;
      if (!sheddable) continue;
      if (overloaded) {
        s.limit = Math.max(1, Math.floor(s.limit * DECREASE));
        s.shedSteps = Math.min(MAX_SHED_STEPS, s.shedSteps + 1);
      } else {
        s.limit = Math.min(maxInFlight, s.limit + Math.max(1, Math.ceil(maxInFlight * INCREASE_SHARE)));
        s.shedSteps = Math.max(0, s.shedSteps - 1);
      }
    }
  }

  get queueingDelayMs(): number {
    return this.lastDelayMs;
  }

  snapshot(cls: PriorityClass): ClassState {
    const { inFlight, limit, shedSteps } = this.state[cls];
    return { inFlight, limit, shedProbability: shedSteps * SHED_STEP };
  }
}
