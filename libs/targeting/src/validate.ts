import {
  COMPARISON_OPS,
  isAttributeName,
  LIMITS,
  type ComparisonOp,
  type Expr,
  type Literal,
  type RuleAst,
} from "./ast.js";
import { parseIsoDate } from "./date.js";
import { needsParens } from "./format.js";
import { parseSemverStrict } from "./semver.js";

/** A JSON value that is not a valid RuleAst; `path` points at the offending part ("$.args[1].op"). */
export class InvalidRuleAstError extends Error {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`invalid rule AST at ${path}: ${reason}`);
    this.name = "InvalidRuleAstError";
  }
}

type Json = Record<string, unknown>;

function object(value: unknown, path: string): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InvalidRuleAstError(path, "expected an object");
  }
  return value as Json;
}

function array(value: unknown, path: string, min: number, max: number): readonly unknown[] {
  if (!Array.isArray(value)) throw new InvalidRuleAstError(path, "expected an array");
  if (value.length < min || value.length > max) {
    throw new InvalidRuleAstError(path, `expected ${min} to ${max} items, got ${value.length}`);
  }
  return value;
}

function boolean(value: unknown, path: string): boolean {
  if (typeof value !== "boolean") throw new InvalidRuleAstError(path, "expected true or false");
  return value;
}

function attribute(value: unknown, path: string): string {
  if (typeof value !== "string" || !isAttributeName(value)) {
    throw new InvalidRuleAstError(path, "expected an attribute name [A-Za-z_][A-Za-z0-9_.]* that is not a keyword");
  }
  return value;
}

function literal(json: unknown, path: string): Literal {
  const o = object(json, path);
  const { type, value } = o;
  const bad = (reason: string) => new InvalidRuleAstError(`${path}.value`, reason);
  switch (type) {
    case "string":
      if (typeof value !== "string") throw bad("expected a string");
      return { type, value };
    case "number":
      if (typeof value !== "number" || !Number.isFinite(value)) throw bad("expected a finite number");
      return { type, value: value === 0 ? 0 : value }; // -0 prints as "0"
    case "boolean":
      return { type, value: boolean(value, `${path}.value`) };
    case "date":
      if (typeof value !== "string" || parseIsoDate(value) === undefined) throw bad("expected a date YYYY-MM-DD");
      return { type, value };
    case "semver":
      if (typeof value !== "string" || parseSemverStrict(value) === undefined) throw bad("expected a semantic version");
      return { type, value };
    default:
      throw new InvalidRuleAstError(`${path}.type`, "expected string, number, boolean, date or semver");
  }
}

function comparisonOp(value: unknown, path: string): ComparisonOp {
  const op = COMPARISON_OPS.find((o) => o === value);
  if (op === undefined) throw new InvalidRuleAstError(path, `expected one of ${COMPARISON_OPS.join(" ")}`);
  return op;
}

/** Parentheses around a child in the canonical text open one more nesting level. */
function levelsOpened(parent: "and" | "or" | "not", child: Json): number {
  return needsParens(parent, child.kind) ? 1 : 0;
}

/**
 * `depth` is the nesting (parentheses and NOT) the canonical text has around this node, so
 * anything accepted here formats to text that parseRule accepts, and vice versa.
 */
function expr(json: unknown, path: string, depth: number): Expr {
  if (depth > LIMITS.maxDepth) {
    throw new InvalidRuleAstError(path, `nests deeper than ${LIMITS.maxDepth} levels of parentheses and NOT`);
  }
  const o = object(json, path);
  switch (o.kind) {
    case "compare": {
      const op = comparisonOp(o.op, `${path}.op`);
      const value = literal(o.value, `${path}.value`);
      if (value.type === "boolean" && op !== "==" && op !== "!=") {
        throw new InvalidRuleAstError(`${path}.op`, "true/false can only be compared with == or !=");
      }
      return { kind: "compare", attr: attribute(o.attr, `${path}.attr`), op, value };
    }
    case "in": {
      const values = array(o.values, `${path}.values`, 1, LIMITS.maxInValues);
      return {
        kind: "in",
        attr: attribute(o.attr, `${path}.attr`),
        negated: boolean(o.negated, `${path}.negated`),
        values: values.map((v, i) => literal(v, `${path}.values[${i}]`)),
      };
    }
    case "exists":
      return { kind: "exists", attr: attribute(o.attr, `${path}.attr`), negated: boolean(o.negated, `${path}.negated`) };
    case "not": {
      const arg = object(o.arg, `${path}.arg`);
      return { kind: "not", arg: expr(arg, `${path}.arg`, depth + 1 + levelsOpened("not", arg)) };
    }
    case "and":
    case "or": {
      const kind = o.kind;
      const args = array(o.args, `${path}.args`, 2, Number.MAX_SAFE_INTEGER).map((a, i) => {
        const argPath = `${path}.args[${i}]`;
        const child = object(a, argPath);
        return expr(child, argPath, depth + levelsOpened(kind, child));
      });
      return { kind, args };
    }
    case "true":
      throw new InvalidRuleAstError(`${path}.kind`, '"true" is only allowed as the whole rule');
    default:
      throw new InvalidRuleAstError(`${path}.kind`, "expected compare, in, exists, not, and or or");
  }
}

/**
 * Checks JSON received from another service and returns a fresh, well-typed RuleAst, or
 * throws InvalidRuleAstError. Accepts exactly what parseRule can produce (same limits).
 */
export function validateAst(json: unknown): RuleAst {
  const root = object(json, "$");
  if (root.kind === "true") return { kind: "true" };
  return expr(root, "$", 0);
}
