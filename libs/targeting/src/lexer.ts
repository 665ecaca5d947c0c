import type { ComparisonOp } from "./ast.js";

export type Token =
  | { readonly type: "ident"; readonly text: string; readonly pos: Position }
  | { readonly type: "string"; readonly value: string; readonly pos: Position }
  | { readonly type: "number"; readonly value: number; readonly pos: Position }
  | { readonly type: "date"; readonly value: string; readonly pos: Position }
  | { readonly type: "op"; readonly op: ComparisonOp; readonly pos: Position }
  | { readonly type: "(" | ")" | "[" | "]" | ","; readonly pos: Position }
  | { readonly type: "eof"; readonly pos: Position };

export interface Position {
  /** Offset of the token's first character. */
  readonly offset: number;
  readonly end: number;
  /** 1-based. */
  readonly line: number;
  /** 1-based, in UTF-16 code units. */
  readonly column: number;
}

/** A syntax error at a position; `expected` lists what would have been accepted there. */
export class RuleSyntaxError extends Error {
  constructor(
    readonly text: string,
    readonly line: number,
    readonly column: number,
    readonly expected: readonly string[],
  ) {
    super(`line ${line}, column ${column}: ${text}`);
  }
}

const IDENT_START = /[A-Za-z_]/y;
const IDENT_REST = /[A-Za-z0-9_.]*/y;
const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const BARE_DATE = /\d{4}-\d{2}-\d{2}(?![0-9A-Za-z_.])/y;

function matchAt(re: RegExp, src: string, at: number): string | undefined {
  re.lastIndex = at;
  return re.exec(src)?.[0];
}

/** Produces tokens on demand, so the first error in source order is the one reported. */
export class Lexer {
  private offset = 0;
  private line = 1;
  private lineStart = 0;

  constructor(private readonly src: string) {}

  /** Line and column of an offset at or after the current scan position. */
  positionAt(offset: number): { line: number; column: number } {
    const { line, lineStart } = this.linesUpTo(offset);
    return { line, column: offset - lineStart + 1 };
  }

  private linesUpTo(offset: number): { line: number; lineStart: number } {
    let line = this.line;
    let lineStart = this.lineStart;
    for (let i = this.offset; i < offset; i++) {
      if (this.src.charCodeAt(i) === 10) {
        line++;
        lineStart = i + 1;
      }
    }
    return { line, lineStart };
  }

  next(): Token {
    this.skipWhitespace();
    const src = this.src;
    const start = this.offset;
    const at = (end: number): Position => {
      this.offset = end;
      return { offset: start, end, line: this.line, column: start - this.lineStart + 1 };
    };
    if (start >= src.length) return { type: "eof", pos: at(start) };
    const c = src[start];
    switch (c) {
      case "(": case ")": case "[": case "]": case ",":
        return { type: c, pos: at(start + 1) };
      case "=": case "!": {
        if (src[start + 1] !== "=") throw this.error(start, `expected "${c}=" but found ${JSON.stringify(c)}`, [`${c}=`]);
        return { type: "op", op: c === "=" ? "==" : "!=", pos: at(start + 2) };
      }
      case "<": case ">": {
        const op = src[start + 1] === "=" ? (`${c}=` as const) : c;
        return { type: "op", op, pos: at(start + op.length) };
      }
      case '"':
        return this.string(start);
    }
    const date = matchAt(BARE_DATE, src, start);
    if (date !== undefined) return { type: "date", value: date, pos: at(start + date.length) };
    const number = matchAt(NUMBER, src, start);
    if (number !== undefined) {
      const value = Number(number);
      if (!Number.isFinite(value)) throw this.error(start, `number ${number} is out of range`, []);
      return { type: "number", value: value === 0 ? 0 : value, pos: at(start + number.length) };
    }
    if (matchAt(IDENT_START, src, start) !== undefined) {
      const text = c + (matchAt(IDENT_REST, src, start + 1) ?? "");
      return { type: "ident", text, pos: at(start + text.length) };
    }
    throw this.error(start, `unexpected character ${JSON.stringify(String.fromCodePoint(src.codePointAt(start) ?? 0))}`, []);
  }

  private skipWhitespace(): void {
    const src = this.src;
    for (; this.offset < src.length; this.offset++) {
      const c = src.charCodeAt(this.offset);
      if (c === 10) {
        this.line++;
        this.lineStart = this.offset + 1;
      } else if (c !== 32 && c !== 9 && c !== 13) {
        return;
      }
    }
  }

  /** A double-quoted string; \" and \\ are the only escapes, any other character is literal. */
  private string(start: number): Token {
    const src = this.src;
    const pos = { offset: start, line: this.line, column: start - this.lineStart + 1 };
    let value = "";
    let chunk = start + 1;
    for (let i = start + 1; i < src.length; i++) {
      const c = src.charCodeAt(i);
      if (c === 34 /* " */) {
        value += src.slice(chunk, i);
        this.advanceTo(i + 1);
        return { type: "string", value, pos: { ...pos, end: i + 1 } };
      }
      if (c === 92 /* \ */) {
        const escaped = src[i + 1];
        if (escaped !== '"' && escaped !== "\\") {
          const found = escaped === undefined ? "end of rule" : `"\\${escaped}"`;
          throw this.error(i, `invalid escape: expected \\" or \\\\ but found ${found}`, ['\\"', "\\\\"]);
        }
        value += src.slice(chunk, i) + escaped;
        chunk = i + 2;
        i++;
      }
    }
    throw this.error(src.length, 'unterminated string: expected a closing " but found end of rule', ['"']);
  }

  /** Moves past a multi-line token, keeping line bookkeeping right. */
  private advanceTo(end: number): void {
    ({ line: this.line, lineStart: this.lineStart } = this.linesUpTo(end));
    this.offset = end;
  }

  private error(offset: number, text: string, expected: readonly string[]): RuleSyntaxError {
    const { line, column } = this.positionAt(offset);
    return new RuleSyntaxError(text, line, column, expected);
  }
}
