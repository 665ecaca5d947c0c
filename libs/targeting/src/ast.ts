/** Attribute values as they arrive with a Decide request. */
export type AttributeValue = string | number | boolean;
export type Attributes = Readonly<Record<string, AttributeValue>>;

export type Literal =
  | { readonly type: "string"; readonly value: string }
  | { readonly type: "number"; readonly value: number }
  | { readonly type: "boolean"; readonly value: boolean }
  /** Calendar date, "YYYY-MM-DD". */
  | { readonly type: "date"; readonly value: string }
  /** Semantic version as written, e.g. "1.6.0-beta.2". */
  | { readonly type: "semver"; readonly value: string };

export type ComparisonOp = "==" | "!=" | "<" | "<=" | ">" | ">=";

export interface CompareNode {
  readonly kind: "compare";
  readonly attr: string;
  readonly op: ComparisonOp;
  readonly value: Literal;
}
export interface InNode {
  readonly kind: "in";
  readonly attr: string;
  /** `NOT IN` when true. */
  readonly negated: boolean;
  readonly values: readonly Literal[];
}
export interface ExistsNode {
  readonly kind: "exists";
  readonly attr: string;
  /** `NOT EXISTS` when true. */
  readonly negated: boolean;
}
export interface AndNode {
  readonly kind: "and";
  /** At least two operands; `a AND b AND c` is one node, `(a AND b) AND c` two. */
  readonly args: readonly Expr[];
}
export interface OrNode {
  readonly kind: "or";
  readonly args: readonly Expr[];
}
export interface NotNode {
  readonly kind: "not";
  readonly arg: Expr;
}
/** The empty rule: everyone matches. Only ever the root. */
export interface TrueNode {
  readonly kind: "true";
}

export type Condition = CompareNode | InNode | ExistsNode;
export type Expr = AndNode | OrNode | NotNode | Condition;
export type RuleAst = TrueNode | Expr;

export const LIMITS = {
  /** Maximum rule length in characters (UTF-16 code units). */
  maxLength: 4096,
  /** Maximum nesting of parentheses and NOT operators. */
  maxDepth: 32,
  /** Maximum number of values in an IN list. */
  maxInValues: 1000,
} as const;

export const COMPARISON_OPS: readonly ComparisonOp[] = ["==", "!=", "<", "<=", ">", ">="];

/** Words that cannot be attribute names (matched case-insensitively). */
export const RESERVED_WORDS: ReadonlySet<string> = new Set(["and", "or", "not", "in", "exists", "true", "false"]);

const ATTRIBUTE_PATTERN = /^[A-Za-z_][A-Za-z0-9_.]*$/;

export function isAttributeName(name: string): boolean {
  return ATTRIBUTE_PATTERN.test(name) && !RESERVED_WORDS.has(name.toLowerCase());
}
