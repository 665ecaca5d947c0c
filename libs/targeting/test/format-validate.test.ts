import { describe, expect, it } from "vitest";
import { formatRule, InvalidRuleAstError, LIMITS, validateAst, type RuleAst } from "../src/index.js";
import { parseOk } from "./helpers.js";

describe("formatRule", () => {
  it.each([
    ['country == "US" and (plan in ["pro","team"] or not age < 18)',
      'country == "US" AND (plan IN ["pro", "team"] OR NOT age < 18)'],
    ["a == 1 or b == 2 and c == 3", "a == 1 OR b == 2 AND c == 3"],
    ["(a == 1 and b == 2) and c == 3", "(a == 1 AND b == 2) AND c == 3"],
    ["(a == 1 or b == 2) or c == 3", "(a == 1 OR b == 2) OR c == 3"],
    ["not (a exists or b not exists)", "NOT (a EXISTS OR b NOT EXISTS)"],
    ["not not a == true", "NOT NOT a == true"],
    ["d >= 2026-01-31", 'd >= date("2026-01-31")'],
    ['v < SEMVER("1.0.0-rc.1")', 'v < semver("1.0.0-rc.1")'],
    ['s == "q\\"b\\\\s"', 's == "q\\"b\\\\s"'],
    ["n == -0.5e-3 AND m NOT IN [1e21]", "n == -0.0005 AND m NOT IN [1e+21]"],
    ["   ", ""],
  ])("formats %s canonically", (src, expected) => {
    const ast = parseOk(src);
    expect(formatRule(ast)).toBe(expected);
    expect(parseOk(formatRule(ast))).toEqual(ast);
  });
});

describe("validateAst", () => {
  it("accepts what the parser produces (through JSON) and returns an equal copy", () => {
    const ast = parseOk('a == 1 AND (b IN ["x", 2, true, 2026-01-01, semver("1.2.3")] OR NOT c NOT EXISTS)');
    const json: unknown = JSON.parse(JSON.stringify(ast));
    const validated = validateAst(json);
    expect(validated).toEqual(ast);
    expect(validated).not.toBe(json);
    expect(validateAst({ kind: "true" })).toEqual({ kind: "true" });
  });

  it("drops unknown fields and normalises -0", () => {
    const ast = validateAst({ kind: "compare", attr: "a", op: "==", value: { type: "number", value: -0, x: 1 }, extra: 2 });
    expect(ast).toEqual({ kind: "compare", attr: "a", op: "==", value: { type: "number", value: 0 } });
    expect(formatRule(ast)).toBe("a == 0");
  });

  const cmp = { kind: "compare", attr: "a", op: "==", value: { type: "number", value: 1 } };
  it.each<[string, unknown, string]>([
    ["null", null, "$"],
    ["an array", [cmp], "$"],
    ["an unknown kind", { kind: "xor", args: [cmp, cmp] }, "$.kind"],
    ["a nested true", { kind: "not", arg: { kind: "true" } }, "$.arg.kind"],
    ["a bad operator", { ...cmp, op: "=" }, "$.op"],
    ["a keyword attribute", { ...cmp, attr: "and" }, "$.attr"],
    ["a malformed attribute", { ...cmp, attr: "a-b" }, "$.attr"],
    ["a non-finite number", { ...cmp, value: { type: "number", value: Number.POSITIVE_INFINITY } }, "$.value.value"],
    ["a number as string", { ...cmp, value: { type: "number", value: "1" } }, "$.value.value"],
    ["an unknown literal type", { ...cmp, value: { type: "regex", value: "x" } }, "$.value.type"],
    ["an invalid date", { ...cmp, value: { type: "date", value: "2026-02-30" } }, "$.value.value"],
    ["an invalid semver", { ...cmp, value: { type: "semver", value: "1.2" } }, "$.value.value"],
    ["ordering on a boolean", { ...cmp, op: "<", value: { type: "boolean", value: true } }, "$.op"],
    ["a one-operand AND", { kind: "and", args: [cmp] }, "$.args"],
    ["a bad AND operand", { kind: "and", args: [cmp, 5] }, "$.args[1]"],
    ["an empty IN list", { kind: "in", attr: "a", negated: false, values: [] }, "$.values"],
    ["a missing negated flag", { kind: "exists", attr: "a" }, "$.negated"],
    ["too many IN values", { kind: "in", attr: "a", negated: false,
      values: Array.from({ length: LIMITS.maxInValues + 1 }, () => ({ type: "number", value: 1 })) }, "$.values"],
  ])("refuses %s", (_, json, path) => {
    let error: unknown;
    try {
      validateAst(json);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidRuleAstError);
    expect((error as InvalidRuleAstError).path).toBe(path);
  });

  it("applies the parser's nesting limit to the canonical text", () => {
    const nots = (n: number): unknown => (n === 0 ? cmp : { kind: "not", arg: nots(n - 1) });
    expect(() => validateAst(nots(LIMITS.maxDepth))).not.toThrow();
    expect(() => validateAst(nots(LIMITS.maxDepth + 1))).toThrow(InvalidRuleAstError);
    // NOT (a AND b) nests twice: the NOT and the parentheses.
    const notAnd = (n: number): unknown => ({ kind: "not", arg: { kind: "and", args: [cmp, n === 1 ? cmp : notAnd(n - 1)] } });
    const half = LIMITS.maxDepth / 2;
    const ok = validateAst(notAnd(half));
    expect(parseOk(formatRule(ok))).toEqual(ok);
    expect(() => validateAst(notAnd(half + 1))).toThrow(InvalidRuleAstError);
    expect(() => parseOk(formatRule(notAnd(half + 1) as RuleAst))).toThrow(/nests deeper/);
  });

  it("refuses absurdly deep JSON without overflowing the stack", () => {
    let deep: unknown = cmp;
    for (let i = 0; i < 100_000; i++) deep = { kind: "not", arg: deep };
    expect(() => validateAst(deep)).toThrow(InvalidRuleAstError);
  });
});
