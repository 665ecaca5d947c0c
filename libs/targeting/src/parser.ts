import {
  isAttributeName,
  LIMITS,
  type ComparisonOp,
  type Condition,
  type Expr,
  type Literal,
  type RuleAst,
} from "./ast.js";
import { parseIsoDate } from "./date.js";
import { Lexer, RuleSyntaxError, type Token } from "./lexer.js";
import { parseSemverStrict } from "./semver.js";

export interface ParseError {
  /** "line L, column C: ..." */
  readonly message: string;
  readonly line: number;
  readonly column: number;
  /** What would have been accepted at the error position (empty for limit errors). */
  readonly expected: readonly string[];
}

export type ParseResult = { ok: true; ast: RuleAst } | { ok: false; error: ParseError };

/** What the parser wanted at a point: a phrase for the message and the individual items. */
interface Expectation {
  readonly label: string;
  readonly items: readonly string[];
}

const VALUE: Expectation = {
  label: "a value (string, number, true/false, date(...), semver(...))",
  items: ["string", "number", "true", "false", "date(...)", "semver(...)"],
};
const CONDITION: Expectation = { label: 'a condition (attribute name, NOT or "(")', items: ["attribute", "NOT", "("] };
const OPERATOR: Expectation = {
  label: "an operator (==, !=, <, <=, >, >=, IN, NOT IN, EXISTS, NOT EXISTS)",
  items: ["==", "!=", "<", "<=", ">", ">=", "IN", "NOT IN", "EXISTS", "NOT EXISTS"],
};
const IN_OR_EXISTS: Expectation = { label: "IN or EXISTS", items: ["IN", "EXISTS"] };
const END: Expectation = { label: "AND, OR or end of rule", items: ["AND", "OR", "end of rule"] };
const CLOSE_PAREN: Expectation = { label: 'AND, OR or ")"', items: ["AND", "OR", ")"] };
const LIST_START: Expectation = { label: '"["', items: ["["] };
const LIST_NEXT: Expectation = { label: '"," or "]"', items: [",", "]"] };
const CALL_OPEN: Expectation = { label: '"("', items: ["("] };
const CALL_ARG: Expectation = { label: "a quoted string", items: ["string"] };
const CALL_CLOSE: Expectation = { label: '")"', items: [")"] };

const ORDERING_OPS: ReadonlySet<ComparisonOp> = new Set(["<", "<=", ">", ">="]);

class Parser {
  private readonly lexer: Lexer;
  private readonly src: string;
  private token: Token;

  constructor(src: string) {
    this.src = src;
    this.lexer = new Lexer(src);
    this.token = this.lexer.next();
  }

  rule(): RuleAst {
    if (this.atEnd()) return { kind: "true" };
    const expr = this.or(0);
    if (!this.atEnd()) throw this.unexpected(END);
    return expr;
  }

  private atEnd(): boolean {
    return this.token.type === "eof";
  }

  private advance(): void {
    this.token = this.lexer.next();
  }

  private keyword(word: string): boolean {
    return this.token.type === "ident" && this.token.text.toLowerCase() === word;
  }

  private or(depth: number): Expr {
    const first = this.and(depth);
    if (!this.keyword("or")) return first;
    const args = [first];
    while (this.keyword("or")) {
      this.advance();
      args.push(this.and(depth));
    }
    return { kind: "or", args };
  }

  private and(depth: number): Expr {
    const first = this.unary(depth);
    if (!this.keyword("and")) return first;
    const args = [first];
    while (this.keyword("and")) {
      this.advance();
      args.push(this.unary(depth));
    }
    return { kind: "and", args };
  }

  /** NOT and "(" each open a nesting level; the limit also bounds parser recursion. */
  private unary(depth: number): Expr {
    if (this.keyword("not")) {
      this.enter(depth);
      this.advance();
      return { kind: "not", arg: this.unary(depth + 1) };
    }
    if (this.token.type === "(") {
      this.enter(depth);
      this.advance();
      const expr = this.or(depth + 1);
      this.expect(")", CLOSE_PAREN);
      return expr;
    }
    if (this.token.type === "ident" && isAttributeName(this.token.text)) return this.condition(this.token.text);
    throw this.unexpected(CONDITION);
  }

  private enter(depth: number): void {
    if (depth >= LIMITS.maxDepth) {
      throw this.at(this.token, `rule nests deeper than ${LIMITS.maxDepth} levels of parentheses and NOT`, []);
    }
  }

  private condition(attr: string): Condition {
    this.advance();
    const token = this.token;
    if (token.type === "op") {
      this.advance();
      const valueToken = this.token;
      const value = this.value();
      if (value.type === "boolean" && ORDERING_OPS.has(token.op)) {
        throw this.at(valueToken, `true/false can only be compared with == or !=, not ${token.op}`, ["==", "!="]);
      }
      return { kind: "compare", attr, op: token.op, value };
    }
    const negated = this.keyword("not");
    if (negated) this.advance();
    if (this.keyword("exists")) {
      this.advance();
      return { kind: "exists", attr, negated };
    }
    if (!this.keyword("in")) throw this.unexpected(negated ? IN_OR_EXISTS : OPERATOR);
    this.advance();
    this.expect("[", LIST_START);
    const values = [this.value()];
    while (this.token.type === ",") {
      this.advance();
      if (values.length === LIMITS.maxInValues) {
        throw this.at(this.token, `IN list has more than ${LIMITS.maxInValues} values`, []);
      }
      values.push(this.value());
    }
    this.expect("]", LIST_NEXT);
    return { kind: "in", attr, negated, values };
  }

  private value(): Literal {
    const token = this.token;
    switch (token.type) {
      case "string":
        this.advance();
        return { type: "string", value: token.value };
      case "number":
        this.advance();
        return { type: "number", value: token.value };
      case "date":
        this.advance();
        return this.date(token.value, token);
      case "ident": {
        const word = token.text.toLowerCase();
        if (word === "true" || word === "false") {
          this.advance();
          return { type: "boolean", value: word === "true" };
        }
        if (word === "date" || word === "semver") return this.call(word);
      }
    }
    throw this.unexpected(VALUE);
  }

  /** date("YYYY-MM-DD") or semver("x.y.z"). */
  private call(fn: "date" | "semver"): Literal {
    this.advance();
    this.expect("(", CALL_OPEN);
    const arg = this.token;
    if (arg.type !== "string") throw this.unexpected(CALL_ARG);
    this.advance();
    this.expect(")", CALL_CLOSE);
    if (fn === "date") return this.date(arg.value, arg);
    if (parseSemverStrict(arg.value) === undefined) {
      throw this.at(arg, `invalid version ${JSON.stringify(arg.value)}: expected a semantic version like "1.6.0"`, ["x.y.z"]);
    }
    return { type: "semver", value: arg.value };
  }

  private date(value: string, token: Token): Literal {
    if (parseIsoDate(value) === undefined) {
      throw this.at(token, `invalid date ${JSON.stringify(value)}: expected a calendar date YYYY-MM-DD`, ["YYYY-MM-DD"]);
    }
    return { type: "date", value };
  }

  private expect(type: "(" | ")" | "[" | "]", expectation: Expectation): void {
    if (this.token.type !== type) throw this.unexpected(expectation);
    this.advance();
  }

  private unexpected(expectation: Expectation): RuleSyntaxError {
    return this.at(this.token, `expected ${expectation.label} but found ${this.describe(this.token)}`, expectation.items);
  }

  private describe(token: Token): string {
    if (token.type === "eof") return "end of rule";
    const text = this.src.slice(token.pos.offset, token.pos.end);
    return JSON.stringify(text.length > 40 ? `${text.slice(0, 37)}...` : text);
  }

  private at(token: Token, text: string, expected: readonly string[]): RuleSyntaxError {
    return new RuleSyntaxError(text, token.pos.line, token.pos.column, expected);
  }
}

/**
 * Parses a targeting rule. Never throws: syntax errors and exceeded limits come back as
 * { ok: false, error } with a 1-based position. A blank rule matches everyone.
 */
export function parseRule(src: string): ParseResult {
  try {
    if (src.length > LIMITS.maxLength) {
      const { line, column } = new Lexer(src).positionAt(LIMITS.maxLength);
      throw new RuleSyntaxError(`rule is longer than ${LIMITS.maxLength} characters`, line, column, []);
    }
    return { ok: true, ast: new Parser(src).rule() };
  } catch (e) {
    if (!(e instanceof RuleSyntaxError)) throw e;
    return { ok: false, error: { message: e.message, line: e.line, column: e.column, expected: e.expected } };
  }
}
