import { describe, expect, it } from "vitest";
import { LIMITS } from "../src/index.js";
import { parseErr, parseOk } from "./helpers.js";

const cmp = (attr: string, op: string, value: unknown) => ({ kind: "compare", attr, op, value });
const str = (value: string) => ({ type: "string", value });
const num = (value: number) => ({ type: "number", value });

describe("parseRule: conditions", () => {
  it.each(["==", "!=", "<", "<=", ">", ">="])("parses the %s operator", (op) => {
    expect(parseOk(`age ${op} 18`)).toEqual(cmp("age", op, num(18)));
    expect(parseOk(`age${op}18`)).toEqual(cmp("age", op, num(18)));
  });

  it("parses IN and NOT IN lists", () => {
    expect(parseOk('country IN ["US", "CA"]')).toEqual({
      kind: "in", attr: "country", negated: false, values: [str("US"), str("CA")],
    });
    expect(parseOk("tier not in [1, 2.5, true]")).toEqual({
      kind: "in", attr: "tier", negated: true, values: [num(1), num(2.5), { type: "boolean", value: true }],
    });
  });

  it("parses EXISTS and NOT EXISTS", () => {
    expect(parseOk("email EXISTS")).toEqual({ kind: "exists", attr: "email", negated: false });
    expect(parseOk("email Not Exists")).toEqual({ kind: "exists", attr: "email", negated: true });
  });

  it("accepts dotted attribute names and names that look like literal functions", () => {
    expect(parseOk('user.plan == "pro"')).toEqual(cmp("user.plan", "==", str("pro")));
    expect(parseOk("_a.b_1.c == 1")).toEqual(cmp("_a.b_1.c", "==", num(1)));
    expect(parseOk("date == 1")).toEqual(cmp("date", "==", num(1)));
  });

  it("treats a blank rule as everyone", () => {
    expect(parseOk("")).toEqual({ kind: "true" });
    expect(parseOk("  \n\t ")).toEqual({ kind: "true" });
  });
});

describe("parseRule: literals", () => {
  it("parses strings with escapes and raw newlines", () => {
    expect(parseOk('a == "say \\"hi\\" \\\\ o/"')).toEqual(cmp("a", "==", str('say "hi" \\ o/')));
    expect(parseOk('a == ""')).toEqual(cmp("a", "==", str("")));
    expect(parseOk('a == "x\ny"')).toEqual(cmp("a", "==", str("x\ny")));
  });

  it("parses integers, decimals, negatives and exponents", () => {
    expect(parseOk("a == 42")).toEqual(cmp("a", "==", num(42)));
    expect(parseOk("a == -3.25")).toEqual(cmp("a", "==", num(-3.25)));
    expect(parseOk("a == 1e+21")).toEqual(cmp("a", "==", num(1e21)));
    expect(parseOk("a == -0")).toEqual(cmp("a", "==", num(0)));
    expect(Object.is((parseOk("a == -0") as { value: { value: number } }).value.value, 0)).toBe(true);
  });

  it("parses true/false case-insensitively", () => {
    expect(parseOk("beta == TRUE")).toEqual(cmp("beta", "==", { type: "boolean", value: true }));
    expect(parseOk("beta != False")).toEqual(cmp("beta", "!=", { type: "boolean", value: false }));
  });

  it("parses dates bare or as date(...)", () => {
    const expected = cmp("signup", ">=", { type: "date", value: "2026-01-31" });
    expect(parseOk("signup >= 2026-01-31")).toEqual(expected);
    expect(parseOk('signup >= date("2026-01-31")')).toEqual(expected);
    expect(parseOk('signup >= DATE ( "2026-01-31" )')).toEqual(expected);
    expect(parseOk("d == 2024-02-29")).toEqual(cmp("d", "==", { type: "date", value: "2024-02-29" }));
  });

  it("parses semantic versions", () => {
    expect(parseOk('app >= semver("1.6.0")')).toEqual(cmp("app", ">=", { type: "semver", value: "1.6.0" }));
    expect(parseOk('app < semver("2.0.0-rc.1+build.5")')).toEqual(
      cmp("app", "<", { type: "semver", value: "2.0.0-rc.1+build.5" }),
    );
  });
});

describe("parseRule: boolean structure", () => {
  const a = cmp("a", "==", num(1));
  const b = cmp("b", "==", num(2));
  const c = cmp("c", "==", num(3));

  it("gives AND precedence over OR", () => {
    expect(parseOk("a == 1 OR b == 2 AND c == 3")).toEqual({ kind: "or", args: [a, { kind: "and", args: [b, c] }] });
    expect(parseOk("a == 1 AND b == 2 OR c == 3")).toEqual({ kind: "or", args: [{ kind: "and", args: [a, b] }, c] });
  });

  it("gives NOT precedence over AND", () => {
    expect(parseOk("NOT a == 1 AND b == 2")).toEqual({ kind: "and", args: [{ kind: "not", arg: a }, b] });
    expect(parseOk("not not a == 1")).toEqual({ kind: "not", arg: { kind: "not", arg: a } });
  });

  it("lets parentheses override precedence", () => {
    expect(parseOk("(a == 1 OR b == 2) AND c == 3")).toEqual({ kind: "and", args: [{ kind: "or", args: [a, b] }, c] });
    expect(parseOk("NOT (a == 1 AND b == 2)")).toEqual({ kind: "not", arg: { kind: "and", args: [a, b] } });
    expect(parseOk("((a == 1))")).toEqual(a);
  });

  it("flattens chains but keeps parenthesised groups", () => {
    expect(parseOk("a == 1 and b == 2 AND c == 3")).toEqual({ kind: "and", args: [a, b, c] });
    expect(parseOk("(a == 1 and b == 2) AND c == 3")).toEqual({ kind: "and", args: [{ kind: "and", args: [a, b] }, c] });
    expect(parseOk("a == 1 Or b == 2 oR c == 3")).toEqual({ kind: "or", args: [a, b, c] });
  });
});

describe("parseRule: errors", () => {
  it("reports a missing value with position and expectations", () => {
    const error = parseErr('country == "US" AND plan == )');
    expect(error).toMatchObject({ line: 1, column: 29 });
    expect(error.message).toBe(
      'line 1, column 29: expected a value (string, number, true/false, date(...), semver(...)) but found ")"',
    );
    expect(error.expected).toEqual(["string", "number", "true", "false", "date(...)", "semver(...)"]);
  });

  it("reports the end of the rule", () => {
    expect(parseErr("a ==")).toMatchObject({ line: 1, column: 5, message: expect.stringContaining("found end of rule") });
    expect(parseErr("a == 1 AND")).toMatchObject({ column: 11, expected: ["attribute", "NOT", "("] });
  });

  it("reports a missing operator", () => {
    expect(parseErr("a 1")).toMatchObject({ column: 3, expected: expect.arrayContaining(["==", "IN", "NOT EXISTS"]) });
    expect(parseErr("a NOT == 1")).toMatchObject({ column: 7, expected: ["IN", "EXISTS"] });
    expect(parseErr("a = 1")).toMatchObject({ column: 3, expected: ["=="] });
    expect(parseErr("a ! 1")).toMatchObject({ column: 3, expected: ["!="] });
  });

  it("reports trailing input and unbalanced parentheses", () => {
    expect(parseErr("a == 1 b == 2")).toMatchObject({ column: 8, expected: ["AND", "OR", "end of rule"] });
    expect(parseErr("(a == 1")).toMatchObject({ column: 8, expected: ["AND", "OR", ")"] });
    expect(parseErr("a == 1)")).toMatchObject({ column: 7 });
    expect(parseErr("()")).toMatchObject({ column: 2, expected: ["attribute", "NOT", "("] });
  });

  it("counts lines and columns across newlines, including inside strings", () => {
    expect(parseErr('a == 1 AND\n  b ==\n    ]')).toMatchObject({ line: 3, column: 5 });
    expect(parseErr('a == "x\ny" AND c # 1')).toMatchObject({ line: 2, column: 10 });
  });

  it("refuses keywords as attribute names", () => {
    for (const word of ["and", "OR", "In", "exists", "true", "FALSE"]) {
      expect(parseErr(`${word} == 1`)).toMatchObject({ column: 1, expected: ["attribute", "NOT", "("] });
    }
    // "not" is read as the operator, so the error is at what follows it.
    expect(parseErr("not == 1")).toMatchObject({ column: 5, expected: ["attribute", "NOT", "("] });
  });

  it("reports bad literals", () => {
    expect(parseErr('a == "open')).toMatchObject({ column: 11, expected: ['"'] });
    expect(parseErr('a == "\\n"')).toMatchObject({ column: 7, expected: ['\\"', "\\\\"] });
    expect(parseErr("d > 2026-02-30")).toMatchObject({ column: 5, expected: ["YYYY-MM-DD"] });
    expect(parseErr('d > date("2026-1-5")')).toMatchObject({ column: 10 });
    expect(parseErr('d > date(2026-01-05)')).toMatchObject({ column: 10, expected: ["string"] });
    expect(parseErr('v > semver("1.6")')).toMatchObject({ column: 12 });
    expect(parseErr('v > semver("01.6.0")')).toMatchObject({ column: 12 });
    expect(parseErr('v > semver "1.6.0"')).toMatchObject({ column: 12, expected: ["("] });
    expect(parseErr("a == 1e999").message).toContain("out of range");
    expect(parseErr("a == #")).toMatchObject({ column: 6, message: expect.stringContaining('unexpected character "#"') });
  });

  it("refuses ordering comparisons with booleans", () => {
    expect(parseErr("beta < true")).toMatchObject({ column: 8, expected: ["==", "!="] });
  });

  it("refuses malformed lists", () => {
    expect(parseErr("a IN []")).toMatchObject({ column: 7 });
    expect(parseErr("a IN [1,]")).toMatchObject({ column: 9 });
    expect(parseErr("a IN [1 2]")).toMatchObject({ column: 9, expected: [",", "]"] });
    expect(parseErr("a IN 1")).toMatchObject({ column: 6, expected: ["["] });
  });
});

describe("parseRule: limits", () => {
  it(`accepts ${LIMITS.maxLength} characters and refuses one more`, () => {
    const padded = (n: number) => `a == "${"x".repeat(n - 7)}"`;
    expect(padded(LIMITS.maxLength)).toHaveLength(LIMITS.maxLength);
    parseOk(padded(LIMITS.maxLength));
    expect(parseErr(padded(LIMITS.maxLength + 1))).toMatchObject({ line: 1, column: LIMITS.maxLength + 1, expected: [] });
  });

  it(`accepts nesting depth ${LIMITS.maxDepth} and refuses ${LIMITS.maxDepth + 1}`, () => {
    const nested = (n: number) => `${"(".repeat(n)}a == 1${")".repeat(n)}`;
    parseOk(nested(LIMITS.maxDepth));
    expect(parseErr(nested(LIMITS.maxDepth + 1))).toMatchObject({ column: LIMITS.maxDepth + 1 });
    const nots = (n: number) => `${"NOT ".repeat(n)}a == 1`;
    parseOk(nots(LIMITS.maxDepth));
    expect(parseErr(nots(LIMITS.maxDepth + 1)).message).toContain("nests deeper");
    expect(parseErr(`NOT ${nested(LIMITS.maxDepth)}`).message).toContain("nests deeper");
  });

  it(`accepts ${LIMITS.maxInValues} IN values and refuses more`, () => {
    const list = (n: number) => `a IN [${Array.from({ length: n }, (_, i) => i).join(",")}]`;
    parseOk(list(LIMITS.maxInValues));
    expect(parseErr(list(LIMITS.maxInValues + 1)).message).toContain(`more than ${LIMITS.maxInValues} values`);
  });
});
