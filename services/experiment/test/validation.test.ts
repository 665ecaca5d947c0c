import { Code } from "@connectrpc/connect";
import { ValueType } from "@lotty/proto/common";
import { ExperimentStatus as S } from "@lotty/proto/experiment";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { abExperiment, as, boolFlag, codeOf, runningExperiment, startHarness, v, type Harness } from "./harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await boolFlag(h.client, "val.flag");
});
afterAll(() => h.close());

describe("flags", () => {
  it("refuses bad keys and defaults of the wrong type, naming the field, storing nothing", async () => {
    const bad = await codeOf(h.client.createFlag({ key: "Bad Key", valueType: ValueType.BOOL, defaultValue: v(true) }));
    expect(bad.code).toBe(Code.InvalidArgument);
    expect(bad.message).toContain('field "key"');
    const typ = await codeOf(h.client.createFlag({ key: "val.typed", valueType: ValueType.NUMBER, defaultValue: v("ten") }));
    expect(typ.message).toContain('field "default_value"');
    expect((await h.client.listFlags({ query: "val.typed" })).flags).toHaveLength(0);
  });

  it("reports a taken key as ALREADY_EXISTS", async () => {
    expect((await codeOf(h.client.createFlag({ key: "val.flag", valueType: ValueType.BOOL, defaultValue: v(true) }))).code).toBe(Code.AlreadyExists);
  });

  it("updates with an optional version check and paginates by key", async () => {
    const f = (await h.client.getFlag({ key: "val.flag" })).flag!;
    expect((await codeOf(h.client.updateFlag({ key: "val.flag", description: "x", updateMask: { paths: ["description"] }, expectedVersion: f.version + 5n }))).code).toBe(Code.Aborted);
    const u = (await h.client.updateFlag({ key: "val.flag", defaultValue: v(true), updateMask: { paths: ["default_value"] }, expectedVersion: f.version })).flag!;
    expect(u.version).toBe(f.version + 1n);
    for (const k of ["page.a", "page.b", "page.c"]) await boolFlag(h.client, k);
    const p1 = await h.client.listFlags({ query: "page.", pageSize: 2 });
    const p2 = await h.client.listFlags({ query: "page.", pageSize: 2, pageToken: p1.nextPageToken });
    expect([...p1.flags, ...p2.flags].map((x) => x.key)).toEqual(["page.a", "page.b", "page.c"]);
    expect(p2.nextPageToken).toBe("");
    expect((await codeOf(h.client.listFlags({ pageToken: "garbage" }))).message).toContain("page_token");
  });
});

describe("experiment validation", () => {
  it("names each bad field and stores nothing", async () => {
    const before = (await h.client.listExperiments({ flagKey: "val.flag" })).experiments.length;
    const experiment = (weight: number) =>
      abExperiment("val.flag", {
        variants: [
          { name: "a", value: v(1), weight: 1, control: true },
          { name: "b", value: v(true), weight, control: true },
        ],
        trafficAllocation: 12.345,
      });
    // The proto annotations (context-free rules) are judged first, then the experiment as a whole.
    const annotated = await codeOf(h.client.createExperiment({ experiment: experiment(-1) }));
    expect(annotated.code).toBe(Code.InvalidArgument);
    expect(annotated.message).toBe('field "experiment.variants[1].weight": must be greater than or equal to 0');
    const err = await codeOf(h.client.createExperiment({ experiment: experiment(1) }));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.message).toContain('field "experiment.variants": must have exactly one control');
    expect(err.message).toContain('field "experiment.variants[0].value"');
    expect(err.message).toContain('field "experiment.traffic_allocation"');
    expect((await h.client.listExperiments({ flagKey: "val.flag" })).experiments.length).toBe(before);
  });

  it("refuses targeting syntax errors with line and column", async () => {
    const err = await codeOf(h.client.createExperiment({ experiment: abExperiment("val.flag", { targeting: 'country ==\n  AND x > 1' }) }));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.message).toMatch(/field "experiment.targeting": syntax error at line 2, column 3/);
  });

  it("refuses unknown flags and domains", async () => {
    const err = await codeOf(h.client.createExperiment({ experiment: abExperiment("nope", { domains: [{ domainKey: "ghost", priority: 0 }] }) }));
    expect(err.message).toContain('field "experiment.flag_key"');
    expect(err.message).toContain('field "experiment.domains[0].domain_key"');
  });

  it("freezes assignment fields once started, but lets descriptive ones change", async () => {
    await boolFlag(h.client, "val.frozen");
    const e = await runningExperiment(h.client, "val.frozen");
    const frozen = await codeOf(
      h.client.updateExperiment({ experiment: { ...e, trafficAllocation: 10 }, updateMask: { paths: ["traffic_allocation"] }, expectedVersion: e.version }),
    );
    expect(frozen.code).toBe(Code.FailedPrecondition);
    expect(frozen.message).toContain('"experiment.traffic_allocation" is frozen');
    const ok = (await h.client.updateExperiment({ experiment: { ...e, description: "why" }, updateMask: { paths: ["description"] }, expectedVersion: e.version })).experiment!;
    expect(ok.description).toBe("why");
    expect(ok.version).toBe(e.version + 1n);
    expect(ok.status).toBe(S.RUNNING);
  });

  it("lets a draft change anything and keeps each version", async () => {
    let e = (await h.client.createExperiment({ experiment: abExperiment("val.flag") }, as("alice"))).experiment!;
    e = (await h.client.updateExperiment({ experiment: { ...e, targeting: "age >= 18", trafficAllocation: 5.5 }, updateMask: { paths: ["targeting", "traffic_allocation"] }, expectedVersion: e.version })).experiment!;
    expect(e.trafficAllocation).toBe(5.5);
    const versions = (await h.client.listExperimentVersions({ id: e.id })).versions;
    expect(versions.map((x) => x.experiment?.targeting)).toEqual(["age >= 18", 'country IN ["US", "CA"]']);
  });
});
