/**
 * The Dockerfile's text as lines, for fixes that move or insert whole lines: every edit keeps the
 * file's line endings, continuation lines and the comments attached to an instruction.
 */

import type { DockerfileAST, Instruction, Position, Range } from '../parser';
import type { FixEdit } from './types';

interface Line {
  /** Offset of the first character. */
  start: number;
  /** Offset just after the last character before the line break. */
  end: number;
  /** The line break (`\r\n`, `\n`, `\r`) or '' for the last line. */
  eol: string;
}

export class DocText {
  readonly lines: Line[] = [];
  /** The line break used for new lines: the file's most common one. */
  readonly eol: string;

  constructor(readonly text: string) {
    let start = 0;
    let crlf = 0;
    let lf = 0;
    let cr = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x0d || c === 0x0a) {
        const two = c === 0x0d && text.charCodeAt(i + 1) === 0x0a;
        const eol = two ? '\r\n' : c === 0x0d ? '\r' : '\n';
        if (two) crlf++;
        else if (c === 0x0d) cr++;
        else lf++;
        this.lines.push({ start, end: i, eol });
        if (two) i++;
        start = i + 1;
      }
    }
    this.lines.push({ start, end: text.length, eol: '' });
    this.eol = crlf > lf && crlf >= cr ? '\r\n' : cr > lf && cr > crlf ? '\r' : '\n';
  }

  get lineCount(): number {
    return this.lines.length;
  }

  line(n: number): Line {
    const l = this.lines[n];
    if (l === undefined) throw new RangeError(`line ${n} is out of range`);
    return l;
  }

  lineText(n: number): string {
    const l = this.line(n);
    return this.text.slice(l.start, l.end);
  }

  offsetAt(p: Position): number {
    const l = this.lines[Math.min(Math.max(p.line, 0), this.lines.length - 1)];
    if (l === undefined) return 0;
    if (p.line >= this.lines.length) return this.text.length;
    return Math.min(l.start + Math.max(p.character, 0), l.end);
  }

  slice(r: Range): string {
    return this.text.slice(this.offsetAt(r.start), this.offsetAt(r.end));
  }

  /** Lines `from..to` (inclusive) with their line breaks; the last one gets the file's break when it has none. */
  blockText(from: number, to: number): string {
    let out = '';
    for (let n = from; n <= to; n++) {
      const l = this.line(n);
      out += this.text.slice(l.start, l.end) + (l.eol === '' ? this.eol : l.eol);
    }
    return out;
  }

  /** An edit removing lines `from..to` entirely (no empty line left behind). */
  deleteLines(from: number, to: number): FixEdit {
    const last = this.line(to);
    if (last.eol !== '') return { range: { start: { line: from, character: 0 }, end: { line: to + 1, character: 0 } }, newText: '' };
    // The last line of the file: take the line break before the block instead.
    if (from === 0) return { range: { start: { line: 0, character: 0 }, end: { line: to, character: last.end - last.start } }, newText: '' };
    const prev = this.line(from - 1);
    return { range: { start: { line: from - 1, character: prev.end - prev.start }, end: { line: to, character: last.end - last.start } }, newText: '' };
  }

  /** An edit inserting `block` (whole lines, each ending with a line break) before line `n`. */
  insertBefore(n: number, block: string): FixEdit {
    return { range: { start: { line: n, character: 0 }, end: { line: n, character: 0 } }, newText: block };
  }

  /** An edit inserting `block` (whole lines, each ending with a line break) after line `n`. */
  insertAfter(n: number, block: string): FixEdit {
    const l = this.line(n);
    if (l.eol !== '') return this.insertBefore(n + 1, block);
    // After the last line, which has no line break: add one before the block, drop the block's last.
    const end = { line: n, character: l.end - l.start };
    return { range: { start: end, end }, newText: this.eol + stripFinalEol(block) };
  }

  /** The leading blanks of line `n`. */
  indentOf(n: number): string {
    return /^[ \t]*/.exec(this.lineText(n))?.[0] ?? '';
  }
}

function stripFinalEol(s: string): string {
  return s.replace(/(\r\n|\n|\r)$/, '');
}

/** The instruction word and its arguments (continuation lines included, heredoc bodies not): where diagnostics go. */
export function headRange(inst: Instruction): Range {
  const end = inst.argsRange.end.line > inst.keywordRange.end.line
    || (inst.argsRange.end.line === inst.keywordRange.end.line && inst.argsRange.end.character > inst.keywordRange.end.character)
    ? inst.argsRange.end
    : inst.keywordRange.end;
  return { start: inst.keywordRange.start, end };
}

/** The first line of the comment lines directly above the instruction (no blank line between), or its own first line. */
export function attachedStart(ast: DockerfileAST, inst: Instruction): number {
  const comments = new Set(ast.commentLines);
  let first = inst.range.start.line;
  while (first > 0 && comments.has(first - 1)) first--;
  return first;
}

/** The lines an instruction occupies with its attached comments: what a move takes along. */
export function instructionBlock(ast: DockerfileAST, inst: Instruction): { from: number; to: number } {
  return { from: attachedStart(ast, inst), to: inst.range.end.line };
}

/** `COPY`, `copy`, `Copy`: a keyword in the case style of the one it replaces. */
export function keywordLike(original: string, keyword: string): string {
  if (original === original.toLowerCase()) return keyword.toLowerCase();
  if (original === original.toUpperCase()) return keyword.toUpperCase();
  return keyword.charAt(0).toUpperCase() + keyword.slice(1).toLowerCase();
}

/** The instruction as a short quote for messages: `RUN npm ci`, long ones cut with an ellipsis. */
export function quote(inst: Instruction, max = 60): string {
  const s = inst.original.trim().replace(/\s+/g, ' ');
  return `\`${s.length > max ? `${s.slice(0, max - 1).trimEnd()}…` : s}\``;
}

/** 1-based line number for messages. */
export function lineNo(inst: Instruction): number {
  return inst.range.start.line + 1;
}
