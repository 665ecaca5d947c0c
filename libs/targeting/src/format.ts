import type { Expr, Literal, RuleAst } from "./ast.js";

/**
 * Whether `child` must be parenthesised under `parent` so that parsing the text rebuilds the
 * same tree: NOT binds tighter than AND, AND tighter than OR, and a chain `a AND b AND c`
 * parses as one node, so nested AND/OR nodes of the same kind need parentheses.
 */
export function needsParens(parent: "and" | "or" | "not", childKind: unknown): boolean {
  return childKind === "or" || (childKind === "and" && parent !== "or");
}

function formatLiteral(lit: Literal): string {
  switch (lit.type) {
    case "string": return `"${lit.value.replace(/[\\"]/g, "\\$&")}"`;
    case "number": return String(lit.value);
    case "boolean": return String(lit.value);
    case "date": return `date("${lit.value}")`;
    case "semver": return `semver("${lit.value}")`;
  }
}

function formatChild(parent: "and" | "or" | "not", child: Expr): string {
  const text = formatExpr(child);
  return needsParens(parent, child.kind) ? `(${text})` : text;
}

function formatExpr(node: Expr): string {
  switch (node.kind) {
    case "compare": return `${node.attr} ${node.op} ${formatLiteral(node.value)}`;
    case "in": return `${node.attr} ${node.negated ? "NOT IN" : "IN"} [${node.values.map(formatLiteral).join(", ")}]`;
    case "exists": return `${node.attr} ${node.negated ? "NOT EXISTS" : "EXISTS"}`;
    case "not": return `NOT ${formatChild("not", node.arg)}`;
    case "and": return node.args.map((a) => formatChild("and", a)).join(" AND ");
    case "or": return node.args.map((a) => formatChild("or", a)).join(" OR ");
  }
}

/**
 * Canonical text of a rule: upper-case keywords, single spaces, the minimum parentheses,
 * date(...) for dates. parseRule(formatRule(ast)) rebuilds `ast` (if the text stays within
 * the length limit). The always-true rule formats as "".
 */
export function formatRule(ast: RuleAst): string {
  return ast.kind === "true" ? "" : formatExpr(ast);
}
