import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createMemoryBus, type Bus } from "@lotty/platform/bus";
import { openPglite, type Db } from "@lotty/platform/db";
import { publishEvent, Subjects } from "@lotty/platform/events";
import { ExposureBatchSchema, ExposureSchema, type Exposure } from "@lotty/proto/events";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { fakeExperiments, HOUR, NOW, startModule } from "./harness.js";

let db: Db;
let bus: Bus;
let h: Awaited<ReturnType<typeof startModule>>;

beforeAll(async () => {
  db = await openPglite();
  bus = createMemoryBus();
  const exps = fakeExperiments();
  exps.experiments.set("x-batch", [{ name: "a", weight: 1, control: true }, { name: "b", weight: 1 }]);
  h = await startModule(db, bus, exps);
});
afterAll(async () => {
  await h.module.close();
  await bus.close();
  await db.close();
});

function decision(id: string, subjectId: string, experimentId: string, variant: string): Exposure {
  return create(ExposureSchema, {
    eventId: id,
    decisionId: id,
    occurTime: timestampFromDate(new Date(NOW.getTime() - HOUR)),
    subjectId,
    experimentId,
    variant,
    reason: experimentId ? "experiment_assigned" : "no_active_experiment",
  });
}

async function exposedSubjects(prefix: string): Promise<string[]> {
  const { rows } = await db.query<{ subject_id: string }>(
    "SELECT subject_id FROM metrics.exposures WHERE subject_id LIKE $1 ORDER BY subject_id",
    [`${prefix}%`],
  );
  return rows.map((r) => r.subject_id);
}

describe("exposure batches on lotty.decision.exposures", () => {
  it("stores each experiment exposure of a batch once, also when the batch is redelivered", async () => {
    const batch = create(ExposureBatchSchema, {
      exposures: [decision("dec-b1", "batch-1", "x-batch", "a"), decision("dec-b2", "batch-2", "x-batch", "b"), decision("dec-b3", "batch-3", "", "")],
    });
    await publishEvent(bus, Subjects.exposureBatches, ExposureBatchSchema, batch, "batch-1");
    await publishEvent(bus, Subjects.exposureBatches, ExposureBatchSchema, batch, "batch-1-again");
    await vi.waitFor(async () => expect(await exposedSubjects("batch-")).toEqual(["batch-1", "batch-2"]));
    // Decisions outside any experiment are no exposures; the redelivery added no row.
    const { rows } = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM metrics.exposures WHERE subject_id LIKE 'batch-%'");
    expect(rows[0].n).toBe(2);
  });

  it("still consumes single exposures from older decision services, idempotently with batches", async () => {
    const x = decision("dec-mixed", "mixed-1", "x-batch", "b");
    await publishEvent(bus, Subjects.exposure, ExposureSchema, x, x.eventId);
    await publishEvent(bus, Subjects.exposureBatches, ExposureBatchSchema, create(ExposureBatchSchema, { exposures: [x, decision("dec-mixed-2", "mixed-2", "x-batch", "a")] }));
    await vi.waitFor(async () => expect(await exposedSubjects("mixed-")).toEqual(["mixed-1", "mixed-2"]));
  });
});
