import { expect } from "vitest";
import { evaluateRule, parseRule, type Attributes, type ParseError, type RuleAst } from "../src/index.js";

export function parseOk(src: string): RuleAst {
  const result = parseRule(src);
  if (!result.ok) throw new Error(`expected ${JSON.stringify(src)} to parse: ${result.error.message}`);
  return result.ast;
}

export function parseErr(src: string): ParseError {
  const result = parseRule(src);
  if (result.ok) throw new Error(`expected ${JSON.stringify(src)} to fail, got ${JSON.stringify(result.ast)}`);
  expect(result.error.message.startsWith(`line ${result.error.line}, column ${result.error.column}: `)).toBe(true);
  return result.error;
}

export function matches(src: string, attrs: Attributes): boolean {
  return evaluateRule(parseOk(src), attrs);
}
