import { describe, expect, it } from "vitest";
import { LoopTurn } from "../../src/admission/turn.js";

describe("LoopTurn", () => {
  it("measures from the first call of an event-loop turn and starts over in the next turn", async () => {
    const turn = new LoopTurn();
    expect(turn.elapsedMs(1_000)).toBe(0);
    expect(turn.elapsedMs(1_040)).toBe(40); // same turn: the second call waited behind the first
    await new Promise((r) => setImmediate(r));
    expect(turn.elapsedMs(2_000)).toBe(0);
  });
});
