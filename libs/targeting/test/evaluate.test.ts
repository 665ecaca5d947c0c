import { describe, expect, it } from "vitest";
import { compileRule, evaluateRule, type Attributes } from "../src/index.js";
import { matches, parseOk } from "./helpers.js";

describe("strings", () => {
  it("compares exactly and case-sensitively", () => {
    expect(matches('country == "US"', { country: "US" })).toBe(true);
    expect(matches('country == "US"', { country: "us" })).toBe(false);
    expect(matches('country != "US"', { country: "us" })).toBe(true);
    expect(matches('country == "US"', { country: "US " })).toBe(false);
  });

  it("orders by code units", () => {
    expect(matches('name < "b"', { name: "a" })).toBe(true);
    expect(matches('name < "b"', { name: "B" })).toBe(true);
    expect(matches('name >= "b"', { name: "ba" })).toBe(true);
  });

  it("does not match numbers or booleans against a string literal", () => {
    expect(matches('code == "1"', { code: 1 })).toBe(false);
    expect(matches('flag == "true"', { flag: true })).toBe(false);
  });
});

describe("numbers", () => {
  it.each([
    ["age == 30", 30, true], ["age != 30", 31, true], ["age < 30", 29.5, true], ["age <= 30", 30, true],
    ["age > 30", 30, false], ["age >= 30", 30, true], ["age > -1.5", -1, true], ["age < -1.5", -1, false],
  ] as const)("%s with %s is %s", (rule, age, expected) => {
    expect(matches(rule, { age })).toBe(expected);
  });

  it("coerces numeric strings", () => {
    expect(matches("age >= 18", { age: "18" })).toBe(true);
    expect(matches("age == 18", { age: "18.0" })).toBe(true);
    expect(matches("age == 18", { age: " 18 " })).toBe(true);
    expect(matches("score > 1000", { score: "1e4" })).toBe(true);
    expect(matches("temp < 0", { temp: "-3.5" })).toBe(true);
  });

  it("treats non-numeric strings as a mismatch, for every operator", () => {
    for (const op of ["==", "!=", "<", "<=", ">", ">="]) {
      for (const age of ["", " ", "abc", "0x10", "Infinity", "1e999", "12abc", "NaN"]) {
        expect(matches(`age ${op} 16`, { age })).toBe(false);
      }
    }
  });

  it("treats booleans and NaN as a mismatch", () => {
    expect(matches("n == 1", { n: true })).toBe(false);
    expect(matches("n != 1", { n: Number.NaN })).toBe(false);
  });
});

describe("booleans", () => {
  it("compares booleans and the strings true/false", () => {
    expect(matches("beta == true", { beta: true })).toBe(true);
    expect(matches("beta == true", { beta: "true" })).toBe(true);
    expect(matches("beta != true", { beta: "false" })).toBe(true);
    expect(matches("beta == false", { beta: false })).toBe(true);
    expect(matches("beta == true", { beta: "yes" })).toBe(false);
    expect(matches("beta != true", { beta: 1 })).toBe(false);
  });
});

describe("dates", () => {
  it("compares calendar dates", () => {
    expect(matches("signup >= 2026-01-31", { signup: "2026-01-31" })).toBe(true);
    expect(matches("signup > 2026-01-31", { signup: "2026-02-01" })).toBe(true);
    expect(matches("signup < 2026-01-31", { signup: "2025-12-31" })).toBe(true);
    expect(matches('signup == date("2024-02-29")', { signup: "2024-02-29" })).toBe(true);
  });

  it("takes date-times as their UTC calendar day", () => {
    expect(matches("signup == 2026-01-31", { signup: "2026-01-31T23:59:59Z" })).toBe(true);
    expect(matches("signup == 2026-02-01", { signup: "2026-01-31T23:00:00-05:00" })).toBe(true);
    expect(matches("signup < 2026-02-01", { signup: "2026-01-31T10:00:00.123+01:00" })).toBe(true);
  });

  it("treats invalid dates and non-strings as a mismatch", () => {
    for (const signup of ["2026-02-30", "31/01/2026", "2026-1-31", "yesterday", "2026-01-31Tgarbage"]) {
      expect(matches("signup != 2026-01-31", { signup })).toBe(false);
    }
    expect(matches("signup < 2026-01-31", { signup: 0 })).toBe(false);
  });
});

describe("semantic versions", () => {
  const v = (rule: string, app: string) => matches(rule, { app });

  it("compares parts numerically", () => {
    expect(v('app > semver("1.9.0")', "1.10.0")).toBe(true);
    expect(v('app >= semver("1.6.0")', "1.6.0")).toBe(true);
    expect(v('app < semver("2.0.0")', "1.99.99")).toBe(true);
    expect(v('app == semver("1.6.0")', "1.6.0+build.7")).toBe(true);
  });

  it("sorts pre-releases below the release, per semver.org", () => {
    const order = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
      "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0"];
    for (let i = 0; i < order.length; i++) {
      for (let j = 0; j < order.length; j++) {
        const expected = i < j;
        expect(v(`app < semver("${order[j]}")`, order[i]), `${order[i]} < ${order[j]}`).toBe(expected);
      }
    }
  });

  it("reads attribute versions leniently", () => {
    expect(v('app == semver("1.6.0")', "v1.6")).toBe(true);
    expect(v('app == semver("2.0.0")', "2")).toBe(true);
    expect(v('app > semver("1.5.9")', "1.06.0")).toBe(true);
  });

  it("treats non-versions as a mismatch", () => {
    for (const app of ["", "latest", "1.2.3.4", "1..2"]) expect(v('app != semver("1.0.0")', app)).toBe(false);
    expect(matches('app != semver("1.0.0")', { app: 1 })).toBe(false);
  });
});

describe("IN and NOT IN", () => {
  it("tests membership with coercion", () => {
    expect(matches('country IN ["US", "CA"]', { country: "CA" })).toBe(true);
    expect(matches('country IN ["US", "CA"]', { country: "MX" })).toBe(false);
    expect(matches("tier IN [1, 2, 3]", { tier: "2" })).toBe(true);
    expect(matches("tier IN [1, 2, 3]", { tier: 2 })).toBe(true);
    expect(matches('app IN [semver("1.6.0")]', { app: "v1.6" })).toBe(true);
    expect(matches("d IN [2026-01-01, 2026-01-02]", { d: "2026-01-02T08:00:00Z" })).toBe(true);
    expect(matches("beta IN [true]", { beta: "true" })).toBe(true);
  });

  it("handles mixed lists", () => {
    expect(matches('x IN [1, "one"]', { x: "one" })).toBe(true);
    expect(matches('x IN [1, "one"]', { x: "1" })).toBe(true);
    expect(matches('x NOT IN [1, "one"]', { x: "two" })).toBe(true);
    expect(matches('x NOT IN [1, "one"]', { x: 2 })).toBe(true);
  });

  it("NOT IN is false for missing or incomparable values", () => {
    expect(matches('country NOT IN ["US"]', { country: "CA" })).toBe(true);
    expect(matches('country NOT IN ["US"]', { country: "US" })).toBe(false);
    expect(matches('country NOT IN ["US"]', {})).toBe(false);
    expect(matches("tier NOT IN [1, 2]", { tier: "gold" })).toBe(false);
    expect(matches("tier NOT IN [1, 2]", { tier: true })).toBe(false);
  });
});

describe("EXISTS", () => {
  it("is true for any present primitive, including empty strings and false", () => {
    expect(matches("email EXISTS", { email: "" })).toBe(true);
    expect(matches("opt_in EXISTS", { opt_in: false })).toBe(true);
    expect(matches("email EXISTS", {})).toBe(false);
    expect(matches("email NOT EXISTS", {})).toBe(true);
    expect(matches("email NOT EXISTS", { email: "a@b.c" })).toBe(false);
  });

  it("ignores inherited object members", () => {
    for (const name of ["constructor", "toString", "hasOwnProperty", "valueOf"]) {
      expect(matches(`${name} EXISTS`, {})).toBe(false);
      expect(matches(`${name} == "x"`, {})).toBe(false);
      expect(matches(`${name} NOT IN ["x"]`, {})).toBe(false);
    }
  });
});

describe("missing attributes and NOT", () => {
  it("makes every comparison on a missing attribute false", () => {
    for (const rule of ["plan == 1", "plan != 1", 'plan != "x"', "plan < 1", "plan >= 2026-01-01", 'plan IN ["a"]']) {
      expect(matches(rule, {})).toBe(false);
    }
  });

  it("NOT of a false comparison on a missing attribute is true (documented)", () => {
    expect(matches('NOT plan == "pro"', {})).toBe(true);
    expect(matches('plan != "pro"', {})).toBe(false);
  });

  it("looks dotted names up as flat keys", () => {
    expect(matches('user.plan == "pro"', { "user.plan": "pro" })).toBe(true);
  });
});

describe("boolean structure", () => {
  const attrs: Attributes = { a: 1, b: 2, c: 3 };

  it("evaluates AND, OR, NOT with precedence", () => {
    expect(matches("a == 1 AND b == 2", attrs)).toBe(true);
    expect(matches("a == 1 AND b == 0", attrs)).toBe(false);
    expect(matches("a == 0 OR b == 2", attrs)).toBe(true);
    expect(matches("a == 0 OR b == 0 AND c == 3", attrs)).toBe(false);
    expect(matches("a == 1 OR b == 0 AND c == 0", attrs)).toBe(true);
    expect(matches("(a == 1 OR b == 0) AND c == 0", attrs)).toBe(false);
    expect(matches("NOT a == 0 AND b == 2", attrs)).toBe(true);
    expect(matches("NOT (a == 1 AND b == 2)", attrs)).toBe(false);
  });

  it("matches everyone with the blank rule", () => {
    expect(matches("", {})).toBe(true);
  });

  it("compiles once and evaluates many times", () => {
    const rule = compileRule(parseOk('country == "US" AND app >= semver("1.6.0")'));
    expect(rule({ country: "US", app: "1.7.0" })).toBe(true);
    expect(rule({ country: "US", app: "1.5.0" })).toBe(false);
    expect(rule({ country: "DE", app: "1.7.0" })).toBe(false);
  });

  it("evaluateRule caches per AST object and agrees with compileRule", () => {
    const ast = parseOk("a > 0");
    expect(evaluateRule(ast, { a: 1 })).toBe(compileRule(ast)({ a: 1 }));
    expect(evaluateRule(ast, { a: -1 })).toBe(false);
  });
});
