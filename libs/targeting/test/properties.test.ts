import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isAttributeName } from "../src/ast.js";
import {
  compileRule,
  formatRule,
  parseRule,
  validateAst,
  type Attributes,
  type ComparisonOp,
  type Expr,
  type Literal,
  type RuleAst,
} from "../src/index.js";

const attrArb = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.]{0,6}$/).filter(isAttributeName);
const attrPool = ["a", "b", "user.plan", "country", "app", "d", "constructor", "__proto__"];
const poolAttrArb = fc.oneof(fc.constantFrom(...attrPool.filter(isAttributeName)), attrArb);

const numberArb = fc.oneof(
  fc.integer({ min: -1_000_000, max: 1_000_000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (n === 0 ? 0 : n)),
);
const dateArb = fc
  .date({ min: new Date("0001-01-01T00:00:00Z"), max: new Date("9999-12-31T00:00:00Z"), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10));
const identifierArb = fc.oneof(
  fc.nat({ max: 30 }).map(String),
  fc.stringMatching(/^[0-9A-Za-z-]{0,3}[A-Za-z-][0-9A-Za-z-]{0,3}$/),
);
const semverArb = fc
  .tuple(fc.nat(20), fc.nat(20), fc.nat(20), fc.array(identifierArb, { maxLength: 3 }), fc.option(fc.stringMatching(/^[0-9A-Za-z]{1,4}$/)))
  .map(([ma, mi, pa, pre, build]) =>
    `${ma}.${mi}.${pa}${pre.length ? `-${pre.join(".")}` : ""}${build === null ? "" : `+${build}`}`,
  );

const literalArb: fc.Arbitrary<Literal> = fc.oneof(
  fc.string({ unit: "binary", maxLength: 8 }).map((value) => ({ type: "string" as const, value })),
  numberArb.map((value) => ({ type: "number" as const, value })),
  fc.boolean().map((value) => ({ type: "boolean" as const, value })),
  dateArb.map((value) => ({ type: "date" as const, value })),
  semverArb.map((value) => ({ type: "semver" as const, value })),
);
const opArb = fc.constantFrom<ComparisonOp>("==", "!=", "<", "<=", ">", ">=");

const conditionArb: fc.Arbitrary<Expr> = fc.oneof(
  fc.record({ attr: poolAttrArb, op: opArb, value: literalArb }).map(({ attr, op, value }) => ({
    kind: "compare" as const,
    attr,
    op: value.type === "boolean" && op !== "==" ? "!=" : op,
    value,
  })),
  fc.record({ attr: poolAttrArb, negated: fc.boolean(), values: fc.array(literalArb, { minLength: 1, maxLength: 4 }) })
    .map((n) => ({ kind: "in" as const, ...n })),
  fc.record({ attr: poolAttrArb, negated: fc.boolean() }).map((n) => ({ kind: "exists" as const, ...n })),
);

const { expr: exprArb } = fc.letrec<{ expr: Expr }>((tie) => ({
  expr: fc.oneof(
    { depthSize: "small", maxDepth: 6 },
    conditionArb,
    tie("expr").map((arg) => ({ kind: "not" as const, arg })),
    fc.array(tie("expr"), { minLength: 2, maxLength: 3 }).map((args) => ({ kind: "and" as const, args })),
    fc.array(tie("expr"), { minLength: 2, maxLength: 3 }).map((args) => ({ kind: "or" as const, args })),
  ),
}));
const ruleArb: fc.Arbitrary<RuleAst> = fc.oneof({ weight: 1, arbitrary: fc.constant({ kind: "true" as const }) }, { weight: 9, arbitrary: exprArb });

const attributeValueArb = fc.oneof(
  fc.string({ unit: "binary", maxLength: 6 }),
  numberArb.map(String),
  numberArb,
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0),
  fc.boolean(),
  fc.constantFrom("true", "false", "2026-01-31", "2026-01-31T12:00:00Z", "1.6.0", "v1.6", "1.0.0-rc.1"),
  dateArb,
  semverArb,
);
const attributesArb: fc.Arbitrary<Attributes> = fc.dictionary(poolAttrArb, attributeValueArb, { maxKeys: 6 });

/** Checks a parse failure carries a position inside the source and a matching message. */
function expectValidError(src: string): void {
  const result = parseRule(src);
  if (result.ok) {
    // Whatever parses must also validate and survive a format round trip.
    expect(validateAst(JSON.parse(JSON.stringify(result.ast)))).toEqual(result.ast);
    expect(parseRule(formatRule(result.ast))).toEqual({ ok: true, ast: result.ast });
    return;
  }
  const { line, column, message, expected } = result.error;
  const lines = src.split("\n");
  expect(line).toBeGreaterThanOrEqual(1);
  expect(line).toBeLessThanOrEqual(lines.length);
  expect(column).toBeGreaterThanOrEqual(1);
  expect(column).toBeLessThanOrEqual(lines[line - 1].length + 1);
  expect(message.startsWith(`line ${line}, column ${column}: `)).toBe(true);
  expect(Array.isArray(expected)).toBe(true);
}

const tokenSoupArb = fc
  .array(
    fc.constantFrom("a", "b.c", "AND", "or", "NOT", "IN", "EXISTS", "(", ")", "[", "]", ",", "==", "!=", "<", ">=",
      "=", "!", '"x"', '"', "\\", "1", "-2.5", "1e5", "2026-01-31", "date", "semver", '("1.0.0")', "true", "\n", "#"),
    { maxLength: 20 },
  )
  .chain((tokens) => fc.constantFrom(tokens.join(" "), tokens.join("")));

describe("parseRule never crashes", () => {
  it("on random strings", () => {
    fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 60 }), expectValidError), { numRuns: 3000 });
  });

  it("on token soup", () => {
    fc.assert(fc.property(tokenSoupArb, expectValidError), { numRuns: 3000 });
  });

  it("on mutated valid rules", () => {
    const mutatedArb = fc
      .tuple(exprArb.map(formatRule), fc.array(fc.tuple(fc.nat(), fc.nat(4), fc.string({ unit: "binary", maxLength: 3 })), { minLength: 1, maxLength: 4 }))
      .map(([text, edits]) =>
        edits.reduce((s, [at, del, ins]) => {
          const i = s.length === 0 ? 0 : at % (s.length + 1);
          return s.slice(0, i) + ins + s.slice(i + del);
        }, text),
      );
    fc.assert(fc.property(mutatedArb, expectValidError), { numRuns: 3000 });
  });
});

describe("format/parse round trip", () => {
  it("parse(format(ast)) equals ast, and validateAst accepts it", () => {
    fc.assert(
      fc.property(ruleArb, (ast) => {
        const text = formatRule(ast);
        expect(parseRule(text)).toEqual({ ok: true, ast });
        expect(validateAst(JSON.parse(JSON.stringify(ast)))).toEqual(ast);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("compiled evaluation", () => {
  it("never throws and returns a boolean on arbitrary attribute records", () => {
    fc.assert(
      fc.property(ruleArb, fc.array(attributesArb, { maxLength: 5 }), (ast, records) => {
        const rule = compileRule(ast);
        for (const attrs of records) expect(typeof rule(attrs)).toBe("boolean");
      }),
      { numRuns: 2000 },
    );
  });

  it("never throws on records holding non-primitive junk", () => {
    const junkArb = fc.dictionary(poolAttrArb, fc.anything()) as fc.Arbitrary<unknown> as fc.Arbitrary<Attributes>;
    fc.assert(
      fc.property(ruleArb, junkArb, (ast, attrs) => {
        expect(typeof compileRule(ast)(attrs)).toBe("boolean");
      }),
      { numRuns: 1000 },
    );
  });

  it("NOT negates: NOT rule is the complement of rule", () => {
    fc.assert(
      fc.property(exprArb, attributesArb, (ast, attrs) => {
        expect(compileRule({ kind: "not", arg: ast })(attrs)).toBe(!compileRule(ast)(attrs));
      }),
      { numRuns: 1000 },
    );
  });
});
