/**
 * BuildKit's shell word lexer (`frontend/dockerfile/shell/lex.go`, moby/buildkit 73ed6825),
 * re-implemented so that variable expansion and word splitting agree with BuildKit to the
 * character, including its quirks:
 *
 * - the input is read rune by rune like Go's `text/scanner` (a leading BOM is dropped);
 * - `${` followed by EOF right after the name reports `unsupported modifier (\uFFFD)`;
 * - modifier words are scanned (and variables in them looked up) before the modifier is
 *   validated, so `${X:=y}` with SkipUnsetEnv and X unset is returned verbatim;
 * - nested `${...}` words reset the shared words buffer, dropping an unfinished outer word
 *   in ProcessWords (`a${X:-b}` splits to `["b"]`);
 * - `${X//p/r}` expands `$0` / `${0}` / `$$` in `r` (Go's Regexp.ReplaceAllString) while
 *   `${X/p/r}` inserts `r` literally;
 * - shell patterns become Go regular expressions in which `.` never matches `\n`.
 */

import { goQuote, isGoSpace } from './text';

export type EscapeToken = '\\' | '`';

/** Variables visible to expansion. Lookups are case-sensitive on Unix (BuildKit's equal_env_unix). */
export interface ShellEnv {
  get(name: string): string | undefined;
  /** Keys in definition order (BuildKit's EnvGetter.Keys); optional. */
  keys?(): string[];
}

class MapEnv implements ShellEnv {
  constructor(private readonly map: ReadonlyMap<string, string>, private readonly order: readonly string[]) {}
  get(name: string): string | undefined {
    return this.map.get(name);
  }
  keys(): string[] {
    return [...this.order];
  }
}

/** An environment built from a plain record (own enumerable properties only). */
export function envFromRecord(rec: Record<string, string>): ShellEnv {
  const map = new Map<string, string>(Object.entries(rec));
  return new MapEnv(map, [...map.keys()]);
}

/**
 * BuildKit's EnvsFromSlice: each entry is cut at the first `=`; an entry without `=` defines the
 * variable with an empty value; later entries win. `keys()` lists every entry's key, duplicates included.
 */
export function envFromPairs(pairs: readonly string[]): ShellEnv {
  const map = new Map<string, string>();
  const order: string[] = [];
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    const value = eq < 0 ? '' : pair.slice(eq + 1);
    order.push(key);
    map.set(key, value);
  }
  return new MapEnv(map, order);
}

/** An environment with no variables (BuildKit's parser uses this for heredoc names). */
export const emptyEnv: ShellEnv = { get: () => undefined, keys: () => [] };

export interface ShellLexOptions {
  /** Keep quote characters in the output (BuildKit RawQuotes). */
  rawQuotes?: boolean;
  /** Keep escape characters (BuildKit RawEscapes). */
  rawEscapes?: boolean;
  /** Do not treat `'` and `"` specially (BuildKit SkipProcessQuotes). */
  skipProcessQuotes?: boolean;
  /** Leave references to unset variables untouched (BuildKit SkipUnsetEnv). */
  skipUnsetEnv?: boolean;
}

export interface ShellLexErrorDetails {
  /** The message of the underlying error, without the `failed to process "…": ` prefix. */
  reason?: string;
  /** The word being processed. */
  source?: string;
  /** Variables found (and used) before the error. */
  matched?: Set<string>;
  /** Variables referenced but unset before the error. */
  unmatched?: Set<string>;
}

/** A lexing failure; `message` is BuildKit's error text, e.g. `failed to process "${": syntax error: missing '}'`. */
export class ShellLexError extends Error {
  readonly reason: string;
  readonly source: string;
  readonly matched: Set<string>;
  readonly unmatched: Set<string>;

  constructor(message: string, details: ShellLexErrorDetails = {}) {
    super(message);
    this.name = 'ShellLexError';
    this.reason = details.reason ?? message;
    this.source = details.source ?? '';
    this.matched = details.matched ?? new Set<string>();
    this.unmatched = details.unmatched ?? new Set<string>();
  }
}

export interface ProcessWordResult {
  /** The single-word result (ProcessWord). */
  result: string;
  /** The word-split result (ProcessWords). */
  words: string[];
  /** Variable names that were found in env and used. */
  matched: Set<string>;
  /** Variable names referenced but not set. */
  unmatched: Set<string>;
}

/** Scanner code for end of input (Go's scanner.EOF). */
const EOF = -1;

const BOM = 0xfeff;
const BACKSLASH = 0x5c;
const DOLLAR = 0x24;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const COLON = 0x3a;
const SLASH = 0x2f;
const SQUOTE = 0x27;
const DQUOTE = 0x22;
const LT = 0x3c;
const UNDERSCORE = 0x5f;
const STAR = 0x2a;
const QMARK = 0x3f;
const PLUS = 0x2b;
const MINUS = 0x2d;
const HASH = 0x23;
const PERCENT = 0x25;

/** An error inside the lexer, wrapped into a ShellLexError at the top level. */
class LexFailure extends Error {}

/** Go's string(rune): EOF (and any invalid rune) becomes U+FFFD. */
function runeString(cp: number): string {
  return cp < 0 || cp > 0x10ffff ? '\uFFFD' : String.fromCodePoint(cp);
}

function codePoints(s: string): number[] {
  const out: number[] = [];
  for (const ch of s) out.push(ch.codePointAt(0) ?? 0);
  return out;
}

/** Rune reader with the Peek/Next behaviour of Go's text/scanner (BOM dropped at the very start). */
class RuneScanner {
  private readonly cps: number[];
  private pos = 0;

  constructor(src: string) {
    this.cps = codePoints(src);
    if (this.cps[0] === BOM) this.pos = 1;
  }

  peek(): number {
    return this.pos < this.cps.length ? (this.cps[this.pos] ?? EOF) : EOF;
  }

  next(): number {
    const ch = this.peek();
    if (ch !== EOF) this.pos++;
    return ch;
  }
}

const reLetter = /^\p{L}$/u;
const reDigit = /^\p{Nd}$/u;

/** Go's unicode.IsLetter. */
function isLetter(cp: number): boolean {
  return cp >= 0 && reLetter.test(String.fromCodePoint(cp));
}

/** Go's unicode.IsDigit. */
function isDigit(cp: number): boolean {
  if (cp < 0) return false;
  if (cp < 0x80) return cp >= 0x30 && cp <= 0x39;
  return reDigit.test(String.fromCodePoint(cp));
}

function isSpace(cp: number): boolean {
  return cp >= 0 && isGoSpace(cp);
}

/** POSIX special parameters ($@, $*, $#, $?, $-, $$, $!, $0). */
function isSpecialParam(cp: number): boolean {
  switch (cp) {
    case 0x40: case STAR: case HASH: case QMARK: case MINUS: case DOLLAR: case 0x21: case 0x30:
      return true;
    default:
      return false;
  }
}

/** Whitespace allowed between `<<` and a heredoc word. */
function isHeredocWhitespace(cp: number): boolean {
  return cp === 0x09 || cp === 0x0d || cp === 0x20;
}

// ---------------------------------------------------------------------------------------------
// Shell patterns (BuildKit's convertShellPatternToRegex, trimPrefix/trimSuffix, reversePattern)

/** Characters that are regex syntax in both Go and JS and must be escaped to be literal in JS (u mode). */
const JS_SYNTAX = new Set<number>(codePoints('^$\\.*+?()[]{}|/'));
/** Characters BuildKit escapes when it builds the Go regular expression. */
const GO_ESCAPED = new Set<number>(codePoints('[]{}.+()|^$'));

export interface ShellPatternRegex {
  /** The Go regular expression BuildKit compiles (for comparison with BuildKit's tests). */
  goSource: string;
  /** An equivalent JS regular expression (flags `gu`; Go's `.` excludes only `\n`). */
  regex: RegExp;
}

/**
 * Converts a shell wildcard pattern (`?` one char, `*` any run, `\` escapes `*`, `?`, `\`;
 * a `\` before `}` or `/` is dropped) into a regular expression, as BuildKit does.
 * Throws LexFailure(`invalid escape '\x'`) for other escapes.
 */
export function convertShellPatternToRegex(pattern: string, greedy: boolean, anchored: boolean): ShellPatternRegex {
  const s = new RuneScanner(pattern);
  let go = anchored ? '^' : '';
  let js = anchored ? '^' : '';
  const goStar = greedy ? '.*' : '.*?';
  const jsStar = greedy ? '[^\\n]*' : '[^\\n]*?';
  for (let tok = s.next(); tok !== EOF; tok = s.next()) {
    if (tok === STAR) {
      go += goStar;
      js += jsStar;
      continue;
    }
    if (tok === QMARK) {
      go += '.';
      js += '[^\\n]';
      continue;
    }
    if (tok === BACKSLASH) {
      const after = s.peek();
      if (after === RBRACE || after === SLASH) continue;
      tok = s.next();
      if (tok !== STAR && tok !== QMARK && tok !== BACKSLASH) {
        throw new LexFailure(`invalid escape '\\${runeString(tok)}'`);
      }
      go += '\\' + runeString(tok);
      js += '\\' + runeString(tok);
      continue;
    }
    const ch = runeString(tok);
    go += GO_ESCAPED.has(tok) ? '\\' + ch : ch;
    js += JS_SYNTAX.has(tok) ? '\\' + ch : ch;
  }
  return { goSource: go, regex: new RegExp(js, 'gu') };
}

function compilePattern(pattern: string, greedy: boolean, anchored: boolean): RegExp {
  try {
    return convertShellPatternToRegex(pattern, greedy, anchored).regex;
  } catch (e) {
    if (e instanceof LexFailure) throw new LexFailure(`invalid pattern (${pattern}) in substitution: ${e.message}`);
    throw e;
  }
}

/** First (leftmost) match of `re` in `s`, as [start, end), or undefined. */
function findIndex(re: RegExp, s: string, from = 0): [number, number] | undefined {
  re.lastIndex = from;
  const m = re.exec(s);
  return m ? [m.index, m.index + m[0].length] : undefined;
}

function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const idx = findIndex(compilePattern(pattern, greedy, true), value);
  return idx ? value.slice(idx[1]) : value;
}

/** Reverses a string by code point (BuildKit's reverseString). */
export function reverseString(str: string): string {
  return Array.from(str).reverse().join('');
}

/** Reverses a pattern keeping `\x` pairs in order (BuildKit's reversePattern): `a\*c` → `c\*a`. */
export function reversePattern(pattern: string): string {
  const runes = Array.from(pattern);
  const out = new Array<string>(runes.length);
  const last = runes.length - 1;
  for (let i = 0; i <= last;) {
    const tok = runes[i] ?? '';
    const outIdx = last - i;
    if (tok === '\\' && i !== last) {
      out[outIdx - 1] = tok;
      out[outIdx] = runes[i + 1] ?? '';
      i += 2;
    } else {
      out[outIdx] = tok;
      i++;
    }
  }
  return out.join('');
}

function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  // Shortest/longest rightmost match = leftmost match on the reversed strings.
  return reverseString(trimPrefix(reversePattern(pattern), reverseString(value), greedy));
}

/**
 * Go's regexp template expansion for a regex without capture groups: `$$` → `$`,
 * `$0` / `${0}` → the match, any other well-formed `$name` → empty, malformed `$` stays.
 */
function goExpand(template: string, match: string): string {
  let out = '';
  let rest = template;
  for (;;) {
    const dollar = rest.indexOf('$');
    if (dollar < 0) break;
    out += rest.slice(0, dollar);
    rest = rest.slice(dollar + 1);
    if (rest.startsWith('$')) {
      out += '$';
      rest = rest.slice(1);
      continue;
    }
    let body = rest;
    const brace = body.startsWith('{');
    if (brace) body = body.slice(1);
    let nameLen = 0;
    for (const ch of body) {
      const cp = ch.codePointAt(0) ?? 0;
      if (!isLetter(cp) && !isDigit(cp) && cp !== UNDERSCORE) break;
      nameLen += ch.length;
    }
    if (nameLen === 0 || (brace && body[nameLen] !== '}')) {
      out += '$';
      continue;
    }
    const name = body.slice(0, nameLen);
    rest = body.slice(nameLen + (brace ? 1 : 0));
    if (name === '0') out += match;
    // Every other name is a missing group (numbers ≥ 1, leading zeros, named groups): nothing.
  }
  return out + rest;
}

/** Go's Regexp.ReplaceAllString (empty matches right after a match are not replaced). */
function goReplaceAll(re: RegExp, src: string, repl: string): string {
  let out = '';
  let lastMatchEnd = 0;
  let searchPos = 0;
  while (searchPos <= src.length) {
    const m = findIndex(re, src, searchPos);
    if (!m) break;
    const [start, end] = m;
    out += src.slice(lastMatchEnd, start);
    if (end > lastMatchEnd || start === 0) out += goExpand(repl, src.slice(start, end));
    lastMatchEnd = end;
    const cp = src.codePointAt(searchPos);
    const width = cp === undefined ? 0 : cp > 0xffff ? 2 : 1;
    if (searchPos + width > end) searchPos += width;
    else if (searchPos + 1 > end) searchPos++;
    else searchPos = end;
  }
  return out + src.slice(lastMatchEnd);
}

// ---------------------------------------------------------------------------------------------
// The word processor (BuildKit's shellWord)

interface StopOnResult {
  result: string;
  words: string[];
}

/** One processing run over one word (BuildKit's shellWord, state reset per call). */
class ShellWord {
  private readonly scanner: RuneScanner;
  /** BuildKit shares one words buffer between nested processStopOn calls; so do we. */
  private wordsBuffer = '';
  private rawEscapes: boolean;
  readonly matches = new Set<string>();
  readonly nonmatches = new Set<string>();

  constructor(private readonly lex: ShellLex, word: string, private readonly env: ShellEnv, private readonly capture: boolean) {
    this.scanner = new RuneScanner(word);
    this.rawEscapes = lex.rawEscapes;
  }

  run(): StopOnResult {
    return this.processStopOn(EOF, this.rawEscapes);
  }

  private processStopOn(stopChar: number, rawEscapes: boolean): StopOnResult {
    let result = '';
    this.wordsBuffer = '';
    const words: string[] = [];
    let inWord = false;

    const addRawChar = (ch: string): void => {
      this.wordsBuffer += ch;
      inWord = true;
    };
    const addChar = (cp: number): void => {
      if (isSpace(cp)) {
        if (inWord && this.wordsBuffer.length !== 0) {
          words.push(this.wordsBuffer);
          this.wordsBuffer = '';
          inWord = false;
        }
      } else {
        addRawChar(runeString(cp));
      }
    };
    const getWords = (): string[] => {
      if (this.wordsBuffer.length > 0) {
        words.push(this.wordsBuffer);
        this.wordsBuffer = '';
        inWord = false;
      }
      return words;
    };

    const quotes = !this.lex.skipProcessQuotes;
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      const sc = this.scanner;
      while (sc.peek() !== EOF) {
        const ch = sc.peek();
        if (stopChar !== EOF && ch === stopChar) {
          sc.next();
          return { result, words: getWords() };
        }
        let special: string | undefined;
        if (ch === DOLLAR) special = this.processDollar();
        else if (ch === LT) special = this.processPossibleHeredoc();
        else if (quotes && ch === SQUOTE) special = this.processSingleQuote();
        else if (quotes && ch === DQUOTE) special = this.processDoubleQuote();
        if (special !== undefined) {
          result += special;
          if (ch === DOLLAR) {
            for (const c of special) addChar(c.codePointAt(0) ?? 0);
          } else {
            this.wordsBuffer += special;
            inWord = true;
          }
          continue;
        }
        let c = sc.next();
        if (c === this.lex.escapeCode) {
          if (this.rawEscapes) {
            addRawChar(runeString(c));
            result += runeString(c);
          }
          c = sc.next();
          if (c === EOF) break;
          addRawChar(runeString(c));
        } else {
          addChar(c);
        }
        result += runeString(c);
      }
      if (stopChar !== EOF) {
        throw new LexFailure(`unexpected end of statement while looking for matching ${runeString(stopChar)}`);
      }
      return { result, words: getWords() };
    } finally {
      this.rawEscapes = saved;
    }
  }

  private processSingleQuote(): string {
    const sc = this.scanner;
    let result = '';
    const open = sc.next();
    if (this.lex.rawQuotes) result += runeString(open);
    for (;;) {
      const ch = sc.next();
      if (ch === EOF) throw new LexFailure('unexpected end of statement while looking for matching single-quote');
      if (ch === SQUOTE) {
        if (this.lex.rawQuotes) result += runeString(ch);
        return result;
      }
      result += runeString(ch);
    }
  }

  private processDoubleQuote(): string {
    const sc = this.scanner;
    const esc = this.lex.escapeCode;
    let result = '';
    const open = sc.next();
    if (this.lex.rawQuotes) result += runeString(open);
    for (;;) {
      const peek = sc.peek();
      if (peek === EOF) throw new LexFailure('unexpected end of statement while looking for matching double-quote');
      if (peek === DQUOTE) {
        const close = sc.next();
        if (this.lex.rawQuotes) result += runeString(close);
        return result;
      }
      if (peek === DOLLAR) {
        result += this.processDollar();
        continue;
      }
      let ch = sc.next();
      if (ch === esc) {
        if (this.rawEscapes) result += runeString(ch);
        const after = sc.peek();
        // An escape at the very end is dropped (the missing quote is reported next round).
        if (after === EOF) continue;
        // Only `"`, `$` and the escape token itself can be escaped; otherwise the escape stays
        // (and, with RawEscapes, appears twice).
        if (after === DQUOTE || after === DOLLAR || after === esc) ch = sc.next();
      }
      result += runeString(ch);
    }
  }

  private processDollar(): string {
    const sc = this.scanner;
    sc.next();

    // $xxx
    if (sc.peek() !== LBRACE) {
      const name = this.processName();
      if (name === '') return '$';
      const value = this.getEnv(name);
      if (value === undefined && this.lex.skipUnsetEnv) return '$' + name;
      return value ?? '';
    }

    sc.next();
    const first = sc.peek();
    if (first === EOF) throw new LexFailure("syntax error: missing '}'");
    if (first === LBRACE || first === RBRACE || first === COLON) throw new LexFailure('syntax error: bad substitution');

    const name = this.processName();
    let ch = sc.next();
    let chs = runeString(ch);

    if (ch === RBRACE) {
      const value = this.getEnv(name);
      if (value === undefined && this.lex.skipUnsetEnv) return `\${${name}}`;
      return value ?? '';
    }

    if (ch === SLASH) return this.processReplace(name);

    let nullIsUnset = false;
    if (ch === COLON) {
      nullIsUnset = true;
      ch = sc.next();
      chs += runeString(ch);
    } else if (ch !== PLUS && ch !== MINUS && ch !== QMARK && ch !== HASH && ch !== PERCENT) {
      throw new LexFailure(`unsupported modifier (${chs}) in substitution`);
    }

    // After `:` any character gets here (Go's fallthrough); the word is scanned before the
    // modifier is checked.
    const trim = ch === HASH || ch === PERCENT;
    if (nullIsUnset && trim) throw new LexFailure(`unsupported modifier (${chs}) in substitution`);
    let word: string;
    try {
      word = this.processStopOn(RBRACE, trim).result;
    } catch (e) {
      if (e instanceof LexFailure && sc.peek() === EOF) throw new LexFailure("syntax error: missing '}'");
      throw e;
    }

    const value = this.getEnv(name);
    if (value === undefined && this.lex.skipUnsetEnv) return `\${${name}${chs}${word}}`;
    const unsetOrNull = value === undefined || (nullIsUnset && value === '');

    switch (ch) {
      case MINUS:
        return unsetOrNull ? word : (value ?? '');
      case PLUS:
        return unsetOrNull ? '' : word;
      case QMARK:
        if (value === undefined) throw new LexFailure(`${name}: ${word !== '' ? word : 'is not allowed to be unset'}`);
        if (nullIsUnset && value === '') throw new LexFailure(`${name}: ${word !== '' ? word : 'is not allowed to be empty'}`);
        return value;
      case HASH:
      case PERCENT: {
        // `#`/`%` remove the shortest match, `##`/`%%` the longest.
        let pattern = word;
        let greedy = false;
        if (pattern.length > 0 && pattern.codePointAt(0) === ch) {
          greedy = true;
          pattern = pattern.slice(1);
        }
        return ch === PERCENT ? trimSuffix(pattern, value ?? '', greedy) : trimPrefix(pattern, value ?? '', greedy);
      }
      default:
        throw new LexFailure(`unsupported modifier (${chs}) in substitution`);
    }
  }

  /** `${name/pattern/replacement}` and `${name//pattern/replacement}`; the first `/` is consumed. */
  private processReplace(name: string): string {
    const sc = this.scanner;
    const replaceAll = sc.peek() === SLASH;
    if (replaceAll) sc.next();

    let pattern: string;
    try {
      pattern = this.processStopOn(SLASH, true).result;
    } catch (e) {
      if (e instanceof LexFailure && sc.peek() === EOF) throw new LexFailure("syntax error: missing '/' in ${}");
      throw e;
    }
    let replacement: string;
    try {
      replacement = this.processStopOn(RBRACE, true).result;
    } catch (e) {
      if (e instanceof LexFailure && sc.peek() === EOF) throw new LexFailure("syntax error: missing '}'");
      throw e;
    }

    const value = this.getEnv(name);
    // BuildKit writes a single `/` back even for `//`.
    if (value === undefined && this.lex.skipUnsetEnv) return `\${${name}/${pattern}/${replacement}}`;

    const re = compilePattern(pattern, true, false);
    const subject = value ?? '';
    if (replaceAll) return goReplaceAll(re, subject, replacement);
    const idx = findIndex(re, subject);
    return idx ? subject.slice(0, idx[0]) + replacement + subject.slice(idx[1]) : subject;
  }

  /** A name: a run of digits, one special parameter, or letters/digits/underscores. */
  private processName(): string {
    const sc = this.scanner;
    let name = '';
    while (sc.peek() !== EOF) {
      const ch = sc.peek();
      if (name === '' && isDigit(ch)) {
        while (sc.peek() !== EOF && isDigit(sc.peek())) name += runeString(sc.next());
        return name;
      }
      if (name === '' && isSpecialParam(ch)) return runeString(sc.next());
      if (!isLetter(ch) && !isDigit(ch) && ch !== UNDERSCORE) break;
      name += runeString(sc.next());
    }
    return name;
  }

  private processPossibleHeredoc(): string {
    const sc = this.scanner;
    sc.next();
    if (sc.peek() !== LT) return '<';
    sc.next();
    let space = '';
    while (isHeredocWhitespace(sc.peek())) space += runeString(sc.next());
    return '<<' + space;
  }

  private getEnv(name: string): string | undefined {
    const value = this.env.get(name);
    if (this.capture) (value !== undefined ? this.matches : this.nonmatches).add(name);
    return value;
  }
}

/**
 * Shell word processing and variable expansion exactly as BuildKit's `shell.Lex`:
 * quotes, escapes, `$VAR`, `${VAR}`, `${VAR:-x}` and friends, `${VAR#pat}`, `${VAR/pat/repl}`.
 * Instances hold only options and may be reused; each call is independent.
 */
export class ShellLex {
  readonly escapeToken: EscapeToken;
  rawQuotes: boolean;
  rawEscapes: boolean;
  skipProcessQuotes: boolean;
  skipUnsetEnv: boolean;

  constructor(escapeToken: EscapeToken = '\\', options: ShellLexOptions = {}) {
    this.escapeToken = escapeToken;
    this.rawQuotes = options.rawQuotes ?? false;
    this.rawEscapes = options.rawEscapes ?? false;
    this.skipProcessQuotes = options.skipProcessQuotes ?? false;
    this.skipUnsetEnv = options.skipUnsetEnv ?? false;
  }

  /** @internal code point of the escape token. */
  get escapeCode(): number {
    return this.escapeToken.codePointAt(0) ?? BACKSLASH;
  }

  /** BuildKit ProcessWord: throws ShellLexError on bad syntax (e.g. unterminated quote, `${}`, `${X:?msg}` with X unset). */
  processWord(word: string, env: ShellEnv): string {
    return this.process(word, env, true).result;
  }

  /** BuildKit ProcessWords: word splitting. */
  processWords(word: string, env: ShellEnv): string[] {
    return this.process(word, env, false).words;
  }

  /** BuildKit ProcessWordWithMatches / the matches tracking. */
  processWordWithMatches(word: string, env: ShellEnv): ProcessWordResult {
    return this.process(word, env, true);
  }

  private process(word: string, env: ShellEnv, capture: boolean): ProcessWordResult {
    const sw = new ShellWord(this, word, env, capture);
    try {
      const { result, words } = sw.run();
      return { result, words, matched: sw.matches, unmatched: sw.nonmatches };
    } catch (e) {
      if (e instanceof LexFailure) {
        throw new ShellLexError(`failed to process ${goQuote(word)}: ${e.message}`, {
          reason: e.message,
          source: word,
          matched: sw.matches,
          unmatched: sw.nonmatches,
        });
      }
      throw e;
    }
  }
}
