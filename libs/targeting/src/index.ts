export { LIMITS } from "./ast.js";
export type {
  AndNode,
  AttributeValue,
  Attributes,
  CompareNode,
  ComparisonOp,
  Condition,
  ExistsNode,
  Expr,
  InNode,
  Literal,
  NotNode,
  OrNode,
  RuleAst,
  TrueNode,
} from "./ast.js";
export { compileRule, evaluateRule } from "./compile.js";
export type { CompiledRule } from "./compile.js";
export { formatRule } from "./format.js";
export { parseRule } from "./parser.js";
export type { ParseError, ParseResult } from "./parser.js";
export { InvalidRuleAstError, validateAst } from "./validate.js";
