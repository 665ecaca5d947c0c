import type { Attributes, ComparisonOp, Expr, InNode, RuleAst } from "./ast.js";
import { comparatorFor, keyFor, type Key } from "./domains.js";

export type CompiledRule = (attrs: Attributes) => boolean;

// Each test is false for NaN (missing attribute or type mismatch), including "!=".
const OP_TESTS: Readonly<Record<ComparisonOp, (sign: number) => boolean>> = {
  "==": (c) => c === 0,
  "!=": (c) => c < 0 || c > 0,
  "<": (c) => c < 0,
  "<=": (c) => c <= 0,
  ">": (c) => c > 0,
  ">=": (c) => c >= 0,
};

const ALWAYS: CompiledRule = () => true;

function compileIn(node: InNode): CompiledRule {
  // One Set per coercion (string, number, boolean, date, semver) so membership is a hash
  // lookup per literal type present in the list, not a scan of the list.
  const groups = new Map<(value: unknown) => Key | undefined, Set<Key>>();
  for (const lit of node.values) {
    const { key, keyOf } = keyFor(lit);
    const set = groups.get(keyOf) ?? new Set<Key>();
    set.add(key);
    groups.set(keyOf, set);
  }
  const lookups = [...groups].map(([keyOf, keys]) => ({ keyOf, keys }));
  const { attr, negated } = node;
  return (attrs) => {
    const value = attrs[attr];
    let comparable = false;
    for (let i = 0; i < lookups.length; i++) {
      const key = lookups[i].keyOf(value);
      if (key === undefined) continue;
      if (lookups[i].keys.has(key)) return !negated;
      comparable = true;
    }
    // NOT IN needs a value comparable with the list; missing or mismatched is false.
    return negated && comparable;
  };
}

function compileExpr(node: Expr): CompiledRule {
  switch (node.kind) {
    case "compare": {
      const { attr } = node;
      const compare = comparatorFor(node.value);
      const test = OP_TESTS[node.op];
      return (attrs) => test(compare(attrs[attr]));
    }
    case "in":
      return compileIn(node);
    case "exists": {
      const { attr, negated } = node;
      return (attrs) => {
        const t = typeof attrs[attr];
        return (t === "string" || t === "number" || t === "boolean") !== negated;
      };
    }
    case "not": {
      const arg = compileExpr(node.arg);
      return (attrs) => !arg(attrs);
    }
    case "and": {
      const args = node.args.map(compileExpr);
      return (attrs) => {
        for (let i = 0; i < args.length; i++) if (!args[i](attrs)) return false;
        return true;
      };
    }
    case "or": {
      const args = node.args.map(compileExpr);
      return (attrs) => {
        for (let i = 0; i < args.length; i++) if (args[i](attrs)) return true;
        return false;
      };
    }
  }
}

/**
 * Compiles an AST (from parseRule or validateAst) into a closure tree, once per ruleset load.
 * Evaluation never throws: missing attributes and type mismatches make a condition false.
 */
export function compileRule(ast: RuleAst): CompiledRule {
  return ast.kind === "true" ? ALWAYS : compileExpr(ast);
}

const compiled = new WeakMap<RuleAst, CompiledRule>();

/** Convenience: compiles (cached per AST object) and evaluates. */
export function evaluateRule(ast: RuleAst, attrs: Attributes): boolean {
  let rule = compiled.get(ast);
  if (rule === undefined) {
    rule = compileRule(ast);
    compiled.set(ast, rule);
  }
  return rule(attrs);
}
