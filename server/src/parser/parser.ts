/**
 * BuildKit's Dockerfile parser (`frontend/dockerfile/parser/parser.go`), ported so that our view of
 * a Dockerfile is exactly BuildKit's, plus source ranges and error recovery: where BuildKit stops at
 * the first error, we record it and go on, so that the editor still sees the rest of the file.
 */

import { DirectiveParser } from './directives';
import { LineParseError, parseLogicalLine, type ParsedLine, type Piece } from './lineParsers';
import { ShellLex, envFromRecord } from './shellLex';
import { LineIndex, isGoSpace, trimSpaceSpan, utf8Length } from './text';
import type {
  Directive, DockerfileAST, EscapeChar, FlagToken, Heredoc, Instruction, ParseProblem, Range, Token,
} from './types';

/** bufio.Scanner's default limit: BuildKit cannot read a longer line. */
const MAX_LINE_BYTES = 64 * 1024;

interface PhysicalLine {
  /** Offset of the first character in the document. */
  start: number;
  /** The line with its `\n`, as BuildKit's scanner returns it. */
  raw: string;
}

function splitPhysicalLines(text: string): PhysicalLine[] {
  const out: PhysicalLine[] = [];
  let start = 0;
  while (start < text.length) {
    const nl = text.indexOf('\n', start);
    const end = nl < 0 ? text.length : nl + 1;
    out.push({ start, raw: text.slice(start, end) });
    start = end;
  }
  return out;
}

/** Go's bytes.TrimRight(line, "\r\n"). */
function trimNewline(s: string): string {
  let e = s.length;
  while (e > 0 && (s[e - 1] === '\n' || s[e - 1] === '\r')) e--;
  return s.slice(0, e);
}

function leftTrimCount(s: string): number {
  let i = 0;
  while (i < s.length && isGoSpace(s.charCodeAt(i))) i++;
  return i;
}

function isComment(s: string): boolean {
  return s[leftTrimCount(s)] === '#';
}

/**
 * BuildKit's line-continuation regex `([^E])E[ \t]*$|^E[ \t]*$`: an escape character that is the
 * last non-blank character of the line continues it, unless an escape character precedes it.
 * Returns the kept length, or -1 when the line does not continue.
 */
function continuationCut(s: string, escape: EscapeChar): number {
  let e = s.length;
  while (e > 0 && (s[e - 1] === ' ' || s[e - 1] === '\t')) e--;
  if (e === 0 || s[e - 1] !== escape) return -1;
  if (e === 1) return 0;
  return s[e - 2] === escape ? -1 : e - 1;
}

/** Maps offsets in a logical line (continuations joined) back to document offsets. */
class Segments {
  private readonly logical: number[] = [];
  private readonly source: number[] = [];
  private length = 0;

  add(sourceStart: number, len: number): void {
    this.logical.push(this.length);
    this.source.push(sourceStart);
    this.length += len;
  }

  /** `isEnd`: an exclusive end offset at a segment boundary maps to the end of the earlier segment. */
  toSource(offset: number, isEnd = false): number {
    let k = 0;
    for (let i = 0; i < this.logical.length; i++) {
      const l = this.logical[i] ?? 0;
      if (l < offset || (l === offset && !isEnd) || i === 0) k = i;
      else break;
    }
    return (this.source[k] ?? 0) + offset - (this.logical[k] ?? 0);
  }
}

const HEREDOC_WORD = /^(\d*)<<(-?)\s*([^<]*)$/;

interface HeredocSpec { name: string; fileDescriptor: number; expand: boolean; chomp: boolean; word: string }

/** BuildKit's ParseHeredoc: is this word a `<<EOF` marker, and how is its delimiter quoted? */
export function parseHeredocWord(word: string): HeredocSpec | undefined {
  const m = HEREDOC_WORD.exec(word);
  if (m === null) return undefined;
  const rest = m[3] ?? '';
  if (rest === '') return undefined;
  const empty = envFromRecord({});
  const words = new ShellLex('\\', { skipUnsetEnv: true }).processWords(rest, empty);
  if (words.length !== 1) return undefined;
  const wordsRaw = new ShellLex('\\', { skipUnsetEnv: true, rawQuotes: true }).processWords(rest, empty);
  if (wordsRaw.length !== words.length) {
    throw new Error(`internal lexing of heredoc produced inconsistent results: ${rest}`);
  }
  const quotes = (s: string): number => s.split("'").length + s.split('"').length - 2;
  const name = words[0] ?? '';
  return {
    name,
    fileDescriptor: Number.parseInt(m[1] === '' ? '0' : (m[1] ?? '0'), 10),
    chomp: m[2] === '-',
    expand: quotes(name) === quotes(wordsRaw[0] ?? ''),
    word,
  };
}

/** BuildKit's heredocsFromLine. */
function heredocsFromLine(line: string): HeredocSpec[] {
  let words: string[];
  try {
    words = new ShellLex('\\', { rawQuotes: true, rawEscapes: true, skipUnsetEnv: true })
      .processWords(line, envFromRecord({}));
  } catch {
    return []; // BuildKit ignores a lexing error here and finds no heredoc
  }
  const out: HeredocSpec[] = [];
  for (const w of words) {
    const h = parseHeredocWord(w);
    if (h !== undefined) out.push(h);
  }
  return out;
}

function canContainHeredoc(p: ParsedLine): boolean {
  let node = p;
  if (node.cmd.value.toLowerCase() === 'onbuild' && node.child !== undefined) node = node.child;
  const kw = node.cmd.value.toLowerCase();
  return (kw === 'run' || kw === 'copy' || kw === 'add') && !node.json;
}

export function parseDockerfile(text: string): DockerfileAST {
  const index = new LineIndex(text);
  const lines = splitPhysicalLines(text);
  const tooLong = lines.findIndex((l) => utf8Length(l.raw) > MAX_LINE_BYTES);
  const problems: ParseProblem[] = [];
  const directives: Directive[] = [];
  const instructions: Instruction[] = [];
  const commentLines: number[] = [];
  const directiveParser = new DirectiveParser();
  let escape: EscapeChar = '\\';
  let comments: string[] = [];

  const problem = (message: string, range: Range, code: string, severity: 'error' | 'warning' = 'error'): void => {
    problems.push({ message, range, code, severity });
  };
  const lineRange = (l: PhysicalLine): Range => index.range(l.start, l.start + trimNewline(l.raw).length);

  /** BuildKit's processLine: trims the line ending, checks for a parser directive, drops comments. */
  const processLine = (l: PhysicalLine, first: boolean): { text: string; start: number; directive: boolean } => {
    let t = trimNewline(l.raw);
    let start = l.start;
    if (first && start === 0 && t.startsWith('\ufeff')) {
      t = t.slice(1);
      start = 1;
    }
    if (first) {
      const n = leftTrimCount(t);
      t = t.slice(n);
      start += n;
    }
    let isDirective = false;
    const r = directiveParser.parseLine(t);
    if (r.error !== undefined) {
      problem(r.error, lineRange(l), 'syntax/directive');
    } else if (r.directive !== undefined) {
      const d: Directive = { ...r.directive, range: index.range(start, start + t.length) };
      if (d.name === 'escape') {
        if (d.value === '\\' || d.value === '`') {
          escape = d.value;
          isDirective = true;
        } else {
          problem(`invalid escape token '${d.value}' does not match \` or \\`, d.range, 'syntax/directive');
        }
      } else {
        isDirective = true;
      }
      if (isDirective) directives.push(d);
    }
    return { text: isComment(t) ? '' : t, start, directive: isDirective };
  };

  if (tooLong >= 0) {
    // BuildKit's line scanner stops at a line it cannot hold: so does the parse.
    problem(`dockerfile line greater than max allowed size of ${MAX_LINE_BYTES - 1}`,
      lineRange(lines[tooLong] as PhysicalLine), 'syntax/line-too-long');
    lines.length = tooLong;
  }

  let li = 0;
  while (li < lines.length) {
    const l = lines[li] as PhysicalLine;
    li++;
    const firstText = li === 1 && l.raw.startsWith('\ufeff') ? l.raw.slice(1) : l.raw;
    if (isComment(firstText)) {
      const c = trimSpaceSpan(firstText, 1);
      const comment = firstText.slice(c[0], c[1]);
      commentLines.push(index.positionAt(l.start).line);
      if (comment === '') comments = [];
      else comments.push(comment);
    }
    const p = processLine(l, true);
    if (p.directive) comments.pop();

    const cut = continuationCut(p.text, escape);
    if (cut < 0 && p.text.length === 0) continue;
    const segments = new Segments();
    let logical = cut < 0 ? p.text : p.text.slice(0, cut);
    segments.add(p.start, logical.length);
    let endOffset = l.start + trimNewline(l.raw).length;
    let continues = cut >= 0;
    let emptyContinuation: PhysicalLine | undefined;
    while (continues && li < lines.length) {
      const n = lines[li] as PhysicalLine;
      li++;
      const q = processLine(n, false);
      endOffset = n.start + trimNewline(n.raw).length;
      if (isComment(n.raw)) continue;
      if (q.text.length - leftTrimCount(q.text) === 0) {
        emptyContinuation ??= n;
        continue;
      }
      const c = continuationCut(q.text, escape);
      continues = c >= 0;
      const kept = continues ? q.text.slice(0, c) : q.text;
      segments.add(q.start, kept.length);
      logical += kept;
    }

    const toRange = (start: number, end: number): Range => {
      const s = segments.toSource(start);
      // An empty piece at a segment boundary stays where it starts.
      return index.range(s, end > start ? Math.max(s, segments.toSource(end, true)) : s);
    };

    const parsed = parseLogicalLine(logical, 0, escape);
    const instStart = segments.toSource(parsed.cmd.start);
    if (emptyContinuation !== undefined) {
      problem('Empty continuation line: BuildKit warns that empty continuation lines will become errors in a future release',
        lineRange(emptyContinuation), 'syntax/empty-continuation', 'warning');
    }
    const error = parsed.error ?? parsed.child?.error;
    if (error !== undefined) problem(error.message, toRange(error.start, error.end), 'syntax/arguments');

    const heredocs: Heredoc[] = [];
    if (canContainHeredoc(parsed) && logical.includes('<<')) {
      let specs: HeredocSpec[] = [];
      try {
        specs = heredocsFromLine(logical);
      } catch (e) {
        problem(e instanceof Error ? e.message : String(e), toRange(parsed.cmd.start, logical.length), 'syntax/heredoc');
      }
      let searchFrom = 0;
      for (const spec of specs) {
        const at = logical.indexOf(spec.word, searchFrom);
        const markerStart = at < 0 ? parsed.args.start : at;
        const markerEnd = at < 0 ? parsed.args.end : at + spec.word.length;
        if (at >= 0) searchFrom = markerEnd;
        const markerRange = toRange(markerStart, markerEnd);
        let content = '';
        let terminated = false;
        const bodyStart = li < lines.length ? (lines[li] as PhysicalLine).start : text.length;
        let bodyEnd = bodyStart;
        let terminatorRange: Range = index.range(text.length, text.length);
        while (li < lines.length) {
          const b = lines[li] as PhysicalLine;
          li++;
          let candidate = trimNewline(b.raw);
          if (spec.chomp) candidate = candidate.replace(/^\t+/, '');
          if (candidate === spec.name) {
            terminated = true;
            terminatorRange = lineRange(b);
            endOffset = b.start + trimNewline(b.raw).length;
            break;
          }
          content += b.raw;
          bodyEnd = b.start + trimNewline(b.raw).length;
          endOffset = bodyEnd;
        }
        if (!terminated) {
          problem(`unterminated heredoc: no line '${spec.name}' ends the here-document`, markerRange, 'syntax/unterminated-heredoc');
        }
        heredocs.push({
          name: spec.name,
          fileDescriptor: spec.fileDescriptor,
          expand: spec.expand,
          chomp: spec.chomp,
          content,
          markerRange,
          bodyRange: index.range(bodyStart, Math.max(bodyStart, bodyEnd)),
          terminatorRange,
        });
      }
    }

    const build = (pl: ParsedLine): Instruction => {
      const tok = (pc: Piece): Token => ({ value: pc.value, range: toRange(pc.start, pc.end) });
      return {
        keyword: pl.cmd.value,
        keywordRange: toRange(pl.cmd.start, pl.cmd.end),
        flags: pl.flags.map((f): FlagToken => {
          const eq = f.value.indexOf('=');
          const name = (eq < 0 ? f.value : f.value.slice(0, eq)).replace(/^--/, '');
          // A quoted or escaped flag is not a plain substring of the source: range the whole word then.
          const plain = logical.slice(f.start, f.end) === f.value;
          return {
            ...tok(f),
            name,
            flagValue: eq < 0 ? undefined : f.value.slice(eq + 1),
            valueRange: eq < 0 ? undefined : plain ? toRange(f.start + eq + 1, f.end) : toRange(f.start, f.end),
          };
        }),
        args: (pl.next ?? []).map(tok),
        json: pl.json,
        child: pl.child === undefined ? undefined : build(pl.child),
        heredocs: [],
        original: logical,
        argsText: pl.args.value,
        argsRange: toRange(pl.args.start, pl.args.end),
        range: index.range(instStart, endOffset),
        comments,
      };
    };
    const inst = build(parsed);
    inst.heredocs = heredocs;
    if (inst.child !== undefined) inst.child.heredocs = heredocs;
    inst.original = logical;
    instructions.push(inst);
    comments = [];
  }

  if (instructions.length === 0) {
    problem('file with no instructions', index.range(0, text.length), 'syntax/empty');
  }

  return { directives, escapeToken: escape, instructions, problems, commentLines, lineCount: index.lineCount };
}

export { LineParseError };
