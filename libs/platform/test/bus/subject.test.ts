import { describe, expect, it } from "vitest";
import { matchesAny, subjectMatches } from "../../src/bus/index.js";

describe("subjectMatches", () => {
  it.each([
    ["lotty.flag.changed", "lotty.flag.changed", true],
    ["lotty.flag.changed", "lotty.flag.created", false],
    ["lotty.flag.changed", "lotty.flag", false],
    ["lotty.flag", "lotty.flag.changed", false],
    ["lotty.*.changed", "lotty.flag.changed", true],
    ["lotty.*.changed", "lotty.experiment.changed", true],
    ["lotty.*.changed", "lotty.flag.status.changed", false],
    ["lotty.*", "lotty", false],
    ["*", "lotty", true],
    ["*.*", "lotty", false],
    ["lotty.>", "lotty.flag.changed", true],
    ["lotty.>", "lotty.flag", true],
    ["lotty.>", "lotty", false],
    ["lotty.>", "other.flag", false],
    [">", "lotty", true],
    ["lotty.*.>", "lotty.flag", false],
    ["lotty.*.>", "lotty.flag.changed.v1", true],
    ["lotty.>.changed", "lotty.flag.changed", false], // `>` only counts as the last token
  ])("%s ~ %s -> %s", (filter, subject, expected) => {
    expect(subjectMatches(filter, subject)).toBe(expected);
  });

  it("matchesAny is true when one filter matches", () => {
    expect(matchesAny(["a.b", "lotty.*"], "lotty.x")).toBe(true);
    expect(matchesAny(["a.b", "lotty.*"], "lotty.x.y")).toBe(false);
    expect(matchesAny([], "lotty.x")).toBe(false);
  });
});
