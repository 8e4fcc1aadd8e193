/**
 * BuildKit's per-instruction argument parsers (`parser/line_parsers.go` and `split_command.go`),
 * returning each value with its offsets in the logical line so that ranges can be mapped back.
 */

import { isGoSpace, isReWhitespace, trimSpaceSpan } from './text';
import type { EscapeChar } from './types';

/** A value and its [start, end) offsets in the logical line. */
export interface Piece {
  value: string;
  start: number;
  end: number;
}

export class LineParseError extends Error {
  constructor(message: string, readonly start: number, readonly end: number) {
    super(message);
  }
}

export interface ParsedLine {
  cmd: Piece;
  flags: Piece[];
  /** The arguments text after the flags, trimmed. */
  args: Piece;
  /** BuildKit's `Next` chain; null when the parser produced no node. */
  next: Piece[] | null;
  json: boolean;
  child: ParsedLine | undefined;
  /** Set when BuildKit's parser would reject the line; `next` is then empty. */
  error: LineParseError | undefined;
}

const NOT_STRING_ARRAY = 'when using JSON array syntax, arrays must be comprised of strings only';

/** Splits on runs of `[\t\v\f\r ]`, as Go's regexp.Split(s, -1). */
function splitReWhitespace(s: string, base: number, limit = -1): Piece[] {
  const out: Piece[] = [];
  let start = 0;
  let i = 0;
  while (i < s.length) {
    if (limit > 0 && out.length === limit - 1) break;
    if (isReWhitespace(s.charCodeAt(i))) {
      let j = i;
      while (j < s.length && isReWhitespace(s.charCodeAt(j))) j++;
      out.push({ value: s.slice(start, i), start: base + start, end: base + i });
      start = j;
      i = j;
    } else {
      i++;
    }
  }
  out.push({ value: s.slice(start), start: base + start, end: base + s.length });
  return out;
}

/** BuildKit's parseWords: whitespace-separated words, quotes and escapes kept. */
export function parseWords(rest: string, base: number, escape: EscapeChar): Piece[] {
  const words: Piece[] = [];
  const IN_SPACES = 0, IN_WORD = 1, IN_QUOTE = 2;
  let phase = IN_SPACES;
  let quote = '';
  let blankOK = false;
  let buf = '';
  let wordStart = 0;
  const chars = Array.from(rest);
  // Offsets of each code point in UTF-16 units.
  const offs: number[] = [];
  let o = 0;
  for (const c of chars) { offs.push(o); o += c.length; }
  offs.push(o);
  const push = (endIdx: number): void => {
    if (blankOK || buf.length > 0) words.push({ value: buf, start: base + wordStart, end: base + (offs[endIdx] ?? o) });
  };
  for (let pos = 0; pos <= chars.length; pos++) {
    let ch = pos < chars.length ? (chars[pos] ?? '') : '';
    if (phase === IN_SPACES) {
      if (pos === chars.length) break;
      if (isGoSpace(ch.codePointAt(0) ?? 0)) continue;
      phase = IN_WORD;
      wordStart = offs[pos] ?? 0;
    }
    if ((phase === IN_WORD || phase === IN_QUOTE) && pos === chars.length) {
      push(pos);
      break;
    }
    if (phase === IN_WORD) {
      if (isGoSpace(ch.codePointAt(0) ?? 0)) {
        phase = IN_SPACES;
        push(pos);
        buf = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = IN_QUOTE;
      }
      if (ch === escape) {
        if (pos + 1 === chars.length) continue; // an escape at the end of the line is dropped
        buf += ch;
        pos++;
        ch = chars[pos] ?? '';
      }
      buf += ch;
      continue;
    }
    // IN_QUOTE
    if (ch === quote) phase = IN_WORD;
    if (ch === escape && quote !== "'") {
      if (pos + 1 === chars.length) {
        phase = IN_WORD;
        continue;
      }
      pos++;
      buf += ch;
      ch = chars[pos] ?? '';
    }
    buf += ch;
  }
  return words;
}

interface JsonResult { pieces: Piece[] | null; error: 'not-json' | 'not-string-array' | undefined }

/** BuildKit's parseJSON: a JSON array of strings, with each element's offsets. */
function parseJSON(rest: string, base: number): JsonResult {
  let i = 0;
  while (i < rest.length && isGoSpace(rest.charCodeAt(i))) i++;
  if (rest[i] !== '[') return { pieces: null, error: 'not-json' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(rest.slice(i));
  } catch {
    return { pieces: null, error: 'not-json' };
  }
  if (!Array.isArray(parsed)) return { pieces: null, error: 'not-json' };
  if (parsed.some((v) => typeof v !== 'string')) return { pieces: null, error: 'not-string-array' };
  // The text is valid JSON: find the span of each top-level string literal.
  const pieces: Piece[] = [];
  let k = i + 1;
  for (const value of parsed as string[]) {
    while (k < rest.length && rest[k] !== '"') k++;
    const start = k;
    k++;
    while (k < rest.length && rest[k] !== '"') k += rest[k] === '\\' ? 2 : 1;
    k++;
    pieces.push({ value, start: base + start, end: base + k });
  }
  return { pieces, error: undefined };
}

function parseMaybeJSON(rest: string, base: number): { next: Piece[] | null; json: boolean } {
  if (rest === '') return { next: null, json: false };
  const r = parseJSON(rest, base);
  if (r.error === undefined) return { next: r.pieces, json: true };
  if (r.error === 'not-string-array') throw new LineParseError(NOT_STRING_ARRAY, base, base + rest.length);
  return { next: [{ value: rest, start: base, end: base + rest.length }], json: false };
}

function parseMaybeJSONToList(rest: string, base: number): { next: Piece[] | null; json: boolean } {
  const r = parseJSON(rest, base);
  if (r.error === undefined) return { next: r.pieces, json: true };
  if (r.error === 'not-string-array') throw new LineParseError(NOT_STRING_ARRAY, base, base + rest.length);
  return { next: rest === '' ? null : splitReWhitespace(rest, base), json: false };
}

function parseNameVal(rest: string, base: number, key: string, escape: EscapeChar): Piece[] | null {
  const words = parseWords(rest, base, escape);
  const first = words[0];
  if (first === undefined) return null;
  if (!first.value.includes('=')) {
    const parts = splitReWhitespace(rest, base, 2);
    const [name, value] = parts;
    if (name === undefined || value === undefined) {
      throw new LineParseError(`${key} must have two arguments`, base, base + rest.length);
    }
    return [name, value, { value: '', start: value.end, end: value.end }];
  }
  const out: Piece[] = [];
  for (const w of words) {
    const eq = w.value.indexOf('=');
    if (eq < 0) {
      throw new LineParseError(
        `Syntax error - can't find = in ${JSON.stringify(w.value)}. Must be of the form: name=value`, w.start, w.end);
    }
    out.push({ value: w.value.slice(0, eq), start: w.start, end: w.start + eq });
    out.push({ value: w.value.slice(eq + 1), start: w.start + eq + 1, end: w.end });
    out.push({ value: '=', start: w.start + eq, end: w.start + eq + 1 });
  }
  return out;
}

function parseHealthConfig(rest: string, base: number): { next: Piece[] | null; json: boolean } {
  let sep = 0;
  while (sep < rest.length && !isGoSpace(rest.charCodeAt(sep))) sep++;
  let next = sep;
  while (next < rest.length && isGoSpace(rest.charCodeAt(next))) next++;
  if (sep === 0) return { next: null, json: false };
  const cmd = parseMaybeJSON(rest.slice(next), base + next);
  return { next: [{ value: rest.slice(0, sep), start: base, end: base + sep }, ...(cmd.next ?? [])], json: cmd.json };
}

/**
 * BuildKit's extractBuilderFlags. It walks bytes, not characters (a non-ASCII flag value is
 * read byte by byte there, and a 0x85 or 0xA0 byte counts as a space): we do the same, so that
 * flags split where BuildKit splits them.
 */
function extractBuilderFlags(line: string, base: number, escape: EscapeChar): { restStart: number; flags: Piece[] } {
  const bytes = Buffer.from(line, 'utf8');
  // byteToChar[b] = UTF-16 offset of the character holding byte b.
  const byteToChar = new Array<number>(bytes.length + 1);
  {
    let b = 0;
    let c = 0;
    for (const ch of line) {
      const n = Buffer.byteLength(ch, 'utf8');
      for (let k = 0; k < n; k++) byteToChar[b + k] = c;
      b += n;
      c += ch.length;
    }
    byteToChar[b] = c;
  }
  const at = (b: number): number => base + (byteToChar[b] ?? line.length);
  const flags: Piece[] = [];
  const IN_SPACES = 0, IN_WORD = 1, IN_QUOTE = 2;
  let phase = IN_SPACES;
  let word = '';
  let quote = 0;
  let blankOK = false;
  let wordStart = 0;
  const esc = escape.charCodeAt(0);
  for (let pos = 0; pos <= bytes.length; pos++) {
    let ch = pos < bytes.length ? (bytes[pos] ?? 0) : 0;
    if (phase === IN_SPACES) {
      if (pos === bytes.length) break;
      if (isGoSpace(ch)) continue;
      if (ch !== 0x2d || pos + 1 === bytes.length || bytes[pos + 1] !== 0x2d) {
        return { restStart: byteToChar[pos] ?? line.length, flags };
      }
      phase = IN_WORD;
      wordStart = pos;
    }
    if ((phase === IN_WORD || phase === IN_QUOTE) && pos === bytes.length) {
      if (word !== '--' && (blankOK || word.length > 0)) flags.push({ value: word, start: at(wordStart), end: at(pos) });
      break;
    }
    if (phase === IN_WORD) {
      if (isGoSpace(ch)) {
        phase = IN_SPACES;
        if (word === '--') return { restStart: byteToChar[pos] ?? line.length, flags };
        if (blankOK || word.length > 0) flags.push({ value: word, start: at(wordStart), end: at(pos) });
        word = '';
        blankOK = false;
        continue;
      }
      if (ch === 0x27 || ch === 0x22) {
        quote = ch;
        blankOK = true;
        phase = IN_QUOTE;
        continue;
      }
      if (ch === esc) {
        if (pos + 1 === bytes.length) continue;
        pos++;
        ch = bytes[pos] ?? 0;
      }
      word += String.fromCharCode(ch);
      continue;
    }
    // IN_QUOTE
    if (ch === quote) {
      phase = IN_WORD;
      continue;
    }
    if (ch === esc) {
      if (pos + 1 === bytes.length) {
        phase = IN_WORD;
        continue;
      }
      pos++;
      ch = bytes[pos] ?? 0;
    }
    word += String.fromCharCode(ch);
  }
  return { restStart: line.length, flags };
}

/** Re-decodes a flag word that BuildKit read byte by byte, when it is valid UTF-8 (the usual case). */
function flagText(word: string): string {
  if (!/[\u0080-\u00ff]/.test(word)) return word;
  const decoded = Buffer.from(word, 'latin1').toString('utf8');
  return decoded.includes('\ufffd') ? word : decoded;
}

type Dispatch = (rest: string, base: number, escape: EscapeChar) => { next: Piece[] | null; json: boolean; child?: ParsedLine };

const wordsOnly = (f: (rest: string, base: number, escape: EscapeChar) => Piece[] | null): Dispatch =>
  (rest, base, escape) => ({ next: f(rest, base, escape), json: false });

const parseString = wordsOnly((rest, base) => (rest === '' ? null : [{ value: rest, start: base, end: base + rest.length }]));

const dispatch: Record<string, Dispatch> = {
  add: parseMaybeJSONToList,
  arg: wordsOnly(parseWords),
  cmd: parseMaybeJSON,
  copy: parseMaybeJSONToList,
  entrypoint: parseMaybeJSON,
  env: wordsOnly((rest, base, escape) => parseNameVal(rest, base, 'ENV', escape)),
  expose: wordsOnly((rest, base) => (rest === '' ? null : splitReWhitespace(rest, base))),
  from: wordsOnly((rest, base) => (rest === '' ? null : splitReWhitespace(rest, base))),
  healthcheck: parseHealthConfig,
  label: wordsOnly((rest, base, escape) => parseNameVal(rest, base, 'LABEL', escape)),
  maintainer: parseString,
  onbuild: (rest, base, escape) => {
    if (rest === '') return { next: null, json: false };
    const child = parseLogicalLine(rest, base, escape);
    return { next: [], json: false, child };
  },
  run: parseMaybeJSON,
  shell: parseMaybeJSON,
  stopsignal: parseString,
  user: parseString,
  volume: parseMaybeJSONToList,
  workdir: parseString,
};

/** BuildKit's newNodeFromLine: splits a logical line into instruction, flags and arguments. */
export function parseLogicalLine(line: string, base: number, escape: EscapeChar): ParsedLine {
  const [ts, te] = trimSpaceSpan(line);
  let i = ts;
  while (i < te && !isReWhitespace(line.charCodeAt(i))) i++;
  const cmd: Piece = { value: line.slice(ts, i), start: base + ts, end: base + i };
  let flags: Piece[] = [];
  let args: Piece = { value: '', start: base + te, end: base + te };
  if (i < te) {
    let j = i;
    while (j < te && isReWhitespace(line.charCodeAt(j))) j++;
    const tail = line.slice(j, te);
    const extracted = extractBuilderFlags(tail, base + j, escape);
    flags = extracted.flags.map((f) => ({ ...f, value: flagText(f.value) }));
    const [as, ae] = trimSpaceSpan(tail, extracted.restStart);
    args = { value: tail.slice(as, ae), start: base + j + as, end: base + j + ae };
  }
  const fn = dispatch[cmd.value.toLowerCase()];
  const result: ParsedLine = { cmd, flags, args, next: null, json: false, child: undefined, error: undefined };
  if (fn === undefined) {
    // Unknown instruction: BuildKit keeps it with one empty argument (and fails later).
    result.next = [{ value: '', start: args.start, end: args.start }];
    return result;
  }
  try {
    const r = fn(args.value, args.start, escape);
    result.next = r.next;
    result.json = r.json;
    result.child = r.child;
  } catch (e) {
    if (!(e instanceof LineParseError)) throw e;
    result.error = e;
    result.next = [];
  }
  return result;
}
