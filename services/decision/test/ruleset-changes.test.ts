import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { createMemoryBus, type Bus } from "@lotty/platform/bus";
import { createMemoryCache } from "@lotty/platform/cache";
import { openPglite, type Db } from "@lotty/platform/db";
import { Subjects } from "@lotty/platform/events";
import { DecisionReason } from "@lotty/proto/decision";
import { ExperimentChangedSchema, FlagChangedSchema } from "@lotty/proto/events";
import { ExperimentService, RulesetSchema } from "@lotty/proto/experiment";
import { createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { ruleset, value } from "./fixtures.js";
import { FakeExperimentService, startDecision, type Harness } from "./harness.js";

let db: Db;
let bus: Bus;
const started: Harness[] = [];

beforeAll(async () => {
  db = await openPglite();
  bus = createMemoryBus();
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((h) => h.close()));
});
afterAll(async () => {
  await bus.close();
  await db.close();
});

const v1 = () => ruleset({ version: 1n, flags: ["plain", "checkout"], experiments: [{ id: "exp-checkout", flag: "checkout" }] });

async function start(experiment = new FakeExperimentService(v1()), cache = createMemoryCache()) {
  const h = await startDecision({ db, bus, cache, experiment, config: {} });
  started.push(h);
  return { ...h, experiment, cache };
}

function flagChanged(version: bigint, key: string, defaultValue?: string) {
  const flag = defaultValue === undefined ? undefined : { key, defaultValue: value(defaultValue) };
  return toBinary(FlagChangedSchema, create(FlagChangedSchema, { flagKey: key, change: "updated", rulesetVersion: version, flag }));
}

const stringOf = (v: { kind: { case: string | undefined; value?: unknown } } | undefined) => v?.kind.value;

describe("ruleset change events", () => {
  it("applies a flag change of the next version in place, without GetRuleset, and keeps the flag's experiments", async () => {
    const { client, experiment, cache } = await start();
    const calls = experiment.calls;
    await bus.publish(Subjects.flagChanged, flagChanged(2n, "plain", "new-default"));
    await bus.publish(Subjects.flagChanged, flagChanged(3n, "added", "fresh"));
    await bus.publish(Subjects.flagChanged, flagChanged(4n, "checkout", "checkout-default"));
    await vi.waitFor(async () => expect((await client.getRulesetStatus({})).version).toBe(4n));
    expect(experiment.calls).toBe(calls);
    expect(stringOf((await client.decide({ subjectId: "s1", flagKey: "plain" })).value)).toBe("new-default");
    expect(stringOf((await client.decide({ subjectId: "s1", flagKey: "added" })).value)).toBe("fresh");
    const checkout = await client.decide({ subjectId: "s1", flagKey: "checkout" });
    expect(checkout.reason).toBe(DecisionReason.EXPERIMENT_ASSIGNED);
    // The snapshot follows, so a replica starting without the experiment service serves version 4.
    await vi.waitFor(async () => {
      const b64 = await cache.get("lotty:decision:ruleset");
      expect(b64 && fromBinary(RulesetSchema, Buffer.from(b64, "base64")).version).toBe(4n);
    });
  });

  it("ignores a change it already serves and refreshes on a version gap", async () => {
    const experiment = new FakeExperimentService(v1());
    const { client } = await start(experiment);
    const calls = experiment.calls;
    await bus.publish(Subjects.experimentChanged, toBinary(ExperimentChangedSchema, create(ExperimentChangedSchema, { rulesetVersion: 1n })));
    // Version 3 while holding 1: version 2 was missed, so the carried flag is not enough.
    experiment.ruleset = ruleset({ version: 3n, flags: ["plain", "other"] });
    await bus.publish(Subjects.flagChanged, flagChanged(3n, "plain", "gap"));
    await vi.waitFor(async () => expect((await client.getRulesetStatus({})).version).toBe(3n));
    expect(experiment.calls).toBe(calls + 1);
    expect(stringOf((await client.decide({ subjectId: "s1", flagKey: "other" })).value)).toBe("default");
    expect((await client.decide({ subjectId: "s1", flagKey: "checkout" })).reason).toBe(DecisionReason.FLAG_NOT_FOUND);
  });

  it("refreshes on a flag change that carries no flag (more changed in that version)", async () => {
    const experiment = new FakeExperimentService(v1());
    const { client } = await start(experiment);
    experiment.ruleset = ruleset({ version: 2n, flags: ["plain", "checkout"] });
    await bus.publish(Subjects.flagChanged, flagChanged(2n, "checkout"));
    await vi.waitFor(async () => expect((await client.getRulesetStatus({})).version).toBe(2n));
    expect((await client.decide({ subjectId: "s1", flagKey: "checkout" })).reason).toBe(DecisionReason.NO_ACTIVE_EXPERIMENT);
  });

  it("never goes back to an older version when a refresh answered before an in-place change arrives", async () => {
    // A GetRuleset answer computed at version 2 that lands after the replica applied version 3
    // from events: modelled by a service that ignores if_newer_than.
    class Late extends FakeExperimentService {
      override client(): Client<typeof ExperimentService> {
        return createClient(ExperimentService, createRouterTransport(({ service }) => service(ExperimentService, { getRuleset: () => ({ ruleset: this.ruleset }) })));
      }
    }
    const experiment = new Late(v1());
    const { client, module } = await start(experiment);
    await bus.publish(Subjects.flagChanged, flagChanged(2n, "plain", "two"));
    await bus.publish(Subjects.flagChanged, flagChanged(3n, "plain", "three"));
    await vi.waitFor(async () => expect((await client.getRulesetStatus({})).version).toBe(3n));
    experiment.ruleset = create(RulesetSchema, { ...v1(), version: 2n });
    await module.refreshRuleset();
    expect((await client.getRulesetStatus({})).version).toBe(3n);
    expect(stringOf((await client.decide({ subjectId: "s1", flagKey: "plain" })).value)).toBe("three");
  });
});
