import { describe, expect, it } from "vitest";
import { AdmissionController, type AdmissionPolicy, type Verdict } from "../../src/admission/index.js";

const policy = (decide = 4, admin = 2): AdmissionPolicy => ({
  budgets: { decide: { maxInFlight: decide, sheddable: true }, admin: { maxInFlight: admin, sheddable: false } },
  targetDelayMs: 20,
});

function admitted(v: Verdict): { release(): void } {
  if (!v.admitted) throw new Error(`rejected: ${v.reason}`);
  return v;
}

describe("AdmissionController", () => {
  it("gives each class its own in-flight budget and frees it on release", () => {
    const c = new AdmissionController(policy(2, 1));
    const d1 = admitted(c.tryAdmit("decide"));
    admitted(c.tryAdmit("decide"));
    const third = c.tryAdmit("decide");
    expect(third.admitted).toBe(false);
    if (!third.admitted) expect(third.reason).toMatch(/2 decide calls in flight \(limit 2\)/);
    // A full decide budget leaves the admin budget untouched.
    const a = admitted(c.tryAdmit("admin"));
    expect(c.tryAdmit("admin").admitted).toBe(false);
    d1.release();
    d1.release(); // idempotent: a double release must not open a second slot
    expect(c.snapshot("decide").inFlight).toBe(1);
    admitted(c.tryAdmit("decide"));
    expect(c.tryAdmit("decide").admitted).toBe(false);
    a.release();
    expect(c.snapshot("admin").inFlight).toBe(0);
  });

  it("refuses a decide that already waited past the target, but not an admin call", () => {
    const c = new AdmissionController(policy(8, 8));
    admitted(c.tryAdmit("decide", 19)).release();
    const late = c.tryAdmit("decide", 35);
    expect(late.admitted).toBe(false);
    if (!late.admitted) expect(late.reason).toMatch(/queued 35\.0 ms, over the 20 ms target/);
    admitted(c.tryAdmit("admin", 500)).release();
  });

  it("halves the decide limit while the queueing delay stands above target, and grows it back after", () => {
    const c = new AdmissionController(policy(64, 8), () => 0.99); // draws never shed: only the limit is under test
    const keepBusy = () => admitted(c.tryAdmit("decide")).release();
    const limits: number[] = [];
    for (let i = 0; i < 3; i++) {
      keepBusy();
      c.onInterval(50);
      limits.push(c.snapshot("decide").limit);
    }
    expect(limits).toEqual([32, 16, 8]);
    expect(c.snapshot("admin").limit).toBe(8); // admin is never adapted down
    for (let i = 0; i < 30; i++) c.onInterval(1);
    expect(c.snapshot("decide").limit).toBe(64);
    expect(c.snapshot("decide").shedProbability).toBe(0);
  });

  it("sheds a growing share of decides under standing delay, never admin calls", () => {
    let draw = 0.15;
    const c = new AdmissionController(policy(1000, 1000), () => draw);
    admitted(c.tryAdmit("decide")).release();
    c.onInterval(50);
    expect(c.snapshot("decide").shedProbability).toBeCloseTo(0.1);
    admitted(c.tryAdmit("decide")).release(); // 0.15 ≥ 0.1
    c.onInterval(50);
    const shed = c.tryAdmit("decide");
    expect(shed.admitted).toBe(false); // 0.15 < 0.2
    if (!shed.admitted) expect(shed.reason).toMatch(/queueing delay 50\.0 ms above target 20 ms/);
    expect(c.tryAdmit("admin").admitted).toBe(true);
    draw = 0.95;
    for (let i = 0; i < 20; i++) {
      admitted(c.tryAdmit("decide")).release();
      c.onInterval(50);
    }
    expect(c.snapshot("decide").shedProbability).toBeCloseTo(0.9); // capped: some decides always pass
  });

  it("does not blame decides for a pause they took no part in", () => {
    const c = new AdmissionController(policy(64, 8));
    c.onInterval(500); // e.g. a long migration with no decide traffic
    expect(c.snapshot("decide")).toEqual({ inFlight: 0, limit: 64, shedProbability: 0 });
    const held = admitted(c.tryAdmit("decide")); // still in flight when the next interval ends
    c.onInterval(500);
    expect(c.snapshot("decide").limit).toBe(32);
    c.onInterval(500);
    expect(c.snapshot("decide").limit).toBe(16);
    held.release();
  });
});
