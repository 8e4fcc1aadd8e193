/**
 * The content checksum BuildKit computes for the context sources of one COPY/ADD (or a bind
 * mount), from a context snapshot. Modelled on moby/buildkit 73ed6825:
 * - `frontend/dockerfile/dockerfile2llb/convert_copy.go` dispatchCopy: every local source is a copy
 *   action with FollowSymlinks, AllowWildcard, AllowEmptyWildcard; `--parents` turns the source
 *   into an include pattern on `/` (or on the part before `/./`) plus a required path;
 *   `--exclude` becomes exclude patterns.
 * - `client/llb/fileop.go` sourcePath: the source is path.Clean'ed and joined to `/`.
 * - `solver/llbsolver/ops/file.go` CacheMap / dedupeSelectors and `ops/opsutils/contenthash.go`:
 *   one selector per source, plain ones de-duplicated (a path under another is dropped), sorted by
 *   path; the input's digest is sha256 of the selector digests joined by NUL.
 * - `cache/contenthash/checksum.go`: without wildcard or patterns, the record at the path with
 *   every symlink followed (a directory: sha256 over its header and each child's name and digest);
 *   otherwise `includedPaths`: the files and directory headers selected, keyed by their path
 *   relative to the non-wildcard prefix.
 * The digests here are BuildKit's own (byte for byte where the inputs are modelled).
 */

import { createHash } from 'node:crypto';
import ignore from '@balena/dockerignore';
import type { ContextEntry } from './types';
import type { ContextSnapshot } from './contextHash';

export interface SourceSelection {
  /** Equal exactly when BuildKit's content checksum of this source selection would be equal (`sha256:<hex>`, BuildKit's value). */
  checksum: string;
  /** The files/dirs/symlinks included, with their entry hashes, relative to the context root. */
  files: Array<{ path: string; hash: string }>;
  /** Sources BuildKit cannot find (it fails the build), never wildcards that match nothing. */
  missing: string[];
  /** Why a source fails (symlink loop, invalid pattern, dangling link followed). */
  problems: string[];
  /** The selectors BuildKit checksums, in its order, with their digests. */
  selectors: Array<{ path: string; digest: string }>;
}

export interface SelectOptions {
  /** `--exclude` patterns (COPY/ADD). */
  excludes?: readonly string[];
  /** `--parents` (COPY). */
  parents?: boolean;
  /** Wildcard characters are literal (RUN --mount=type=bind sources). */
  literal?: boolean;
  /**
   * BuildKit before v0.25 followed every symlink inside a wildcard/--exclude/--parents selection
   * (not only the matched entries themselves), so a link target's content counted there and a
   * dangling link failed the build (commit 74d17791).
   */
  followNestedLinks?: boolean;
}

const EMPTY_DIGEST = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const MAX_LINKS = 255;

// ---------------------------------------------------------------------------------------------
// Go path semantics
// ---------------------------------------------------------------------------------------------

/** Go's path.Clean. */
export function goClean(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(part);
  }
  const s = (rooted ? '/' : '') + out.join('/');
  return s === '' ? '.' : s;
}

function goBase(p: string): string {
  if (p === '') return '.';
  const t = p.replace(/\/+$/, '');
  if (t === '') return '/';
  return t.slice(t.lastIndexOf('/') + 1);
}

/** BuildKit's containsWildcards: `*`, `?`, `[` not escaped by a backslash. */
export function containsWildcards(p: string): boolean {
  for (let i = 0; i < p.length; i++) {
    const ch = p[i];
    if (ch === '\\') i++;
    else if (ch === '*' || ch === '?' || ch === '[') return true;
  }
  return false;
}

type Token =
  | { t: 'star' }
  | { t: 'any' }
  | { t: 'lit'; c: number }
  | { t: 'class'; neg: boolean; ranges: Array<[number, number]> };

export class GoBadPattern extends Error {
  constructor(pattern: string) {
    super(`syntax error in pattern ${JSON.stringify(pattern)}`);
  }
}

const tokenCache = new Map<string, Token[]>();

/** Tokenises a filepath.Match pattern, checking its whole syntax as Go's Match does. */
function tokenize(pattern: string): Token[] {
  const hit = tokenCache.get(pattern);
  if (hit !== undefined) return hit;
  const cp = Array.from(pattern, (c) => c.codePointAt(0) ?? 0);
  const n = cp.length;
  const toks: Token[] = [];
  const BS = 0x5c;
  const bad = (): never => {
    throw new GoBadPattern(pattern);
  };
  // One class member: a character, `\`-escaped or not; `-` and `]` must be escaped, and the class
  // must go on after it.
  const member = (j: number): [number, number] => {
    if (j >= n || cp[j] === 0x2d || cp[j] === 0x5d) bad();
    if (cp[j] === BS) {
      j++;
      if (j >= n) bad();
    }
    const c = cp[j] ?? 0;
    j++;
    if (j >= n) bad();
    return [c, j];
  };
  for (let i = 0; i < n; i++) {
    const c = cp[i] ?? 0;
    if (c === 0x2a) {
      if (toks[toks.length - 1]?.t !== 'star') toks.push({ t: 'star' });
    } else if (c === 0x3f) {
      toks.push({ t: 'any' });
    } else if (c === BS) {
      if (i + 1 >= n) bad();
      i++;
      toks.push({ t: 'lit', c: cp[i] ?? 0 });
    } else if (c === 0x5b) {
      let j = i + 1;
      let neg = false;
      if (cp[j] === 0x5e) {
        neg = true;
        j++;
      }
      const ranges: Array<[number, number]> = [];
      for (;;) {
        if (j < n && cp[j] === 0x5d && ranges.length > 0) {
          j++;
          break;
        }
        const [lo, j1] = member(j);
        let hi = lo;
        j = j1;
        if (cp[j] === 0x2d) {
          const [h, j2] = member(j + 1);
          hi = h;
          j = j2;
        }
        ranges.push([lo, hi]);
      }
      toks.push({ t: 'class', neg, ranges });
      i = j - 1;
    } else {
      toks.push({ t: 'lit', c });
    }
  }
  if (tokenCache.size > 10000) tokenCache.clear();
  tokenCache.set(pattern, toks);
  return toks;
}

/** Go's path.Match: `*` and `?` never match `/`; a class can. Throws GoBadPattern. */
export function goPathMatch(pattern: string, name: string): boolean {
  const toks = tokenize(pattern);
  const s = Array.from(name, (c) => c.codePointAt(0) ?? 0);
  const T = toks.length;
  const N = s.length;
  const failed = new Uint8Array((T + 1) * (N + 1));
  const m = (ti: number, ni: number): boolean => {
    const memo = ti * (N + 1) + ni;
    if (failed[memo] === 1) return false;
    let ok = false;
    const tok = toks[ti];
    if (tok === undefined) ok = ni === N;
    else if (tok.t === 'star') {
      for (let k = ni; ; k++) {
        if (m(ti + 1, k)) {
          ok = true;
          break;
        }
        if (k >= N || s[k] === 0x2f) break;
      }
    } else if (ni < N) {
      const c = s[ni] ?? 0;
      if (tok.t === 'any') ok = c !== 0x2f && m(ti + 1, ni + 1);
      else if (tok.t === 'lit') ok = c === tok.c && m(ti + 1, ni + 1);
      else ok = tok.ranges.some(([lo, hi]) => lo <= c && c <= hi) !== tok.neg && m(ti + 1, ni + 1);
    }
    if (!ok) failed[memo] = 1;
    return ok;
  };
  return m(0, 0);
}

/** The error filepath.Match(pattern, ".") would give, or undefined. */
export function validateGoPattern(pattern: string): string | undefined {
  try {
    tokenize(pattern);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

// ---------------------------------------------------------------------------------------------
// Docker patterns (.dockerignore, --exclude, --parents' include)
// ---------------------------------------------------------------------------------------------

export interface IgnoreRules {
  patterns: string[];
  problems: string[];
  /** Relative path -> matched (ignored); undefined when there are no patterns. */
  ignores: ((rel: string) => boolean) | undefined;
  /** Whether a walk may skip a matched directory (fsutil: no exception pattern can reach inside). */
  canPrune: (dir: string) => boolean;
}

/**
 * One pattern as Docker prepares it. `readAll`: the ignore-file reader's steps (trim, `!`, Clean,
 * one leading `/` dropped); otherwise only patternmatcher.New's (trim, Clean of the whole string).
 */
export function cleanPattern(raw: string, readAll: boolean): { pattern?: string; error?: string; neverMatches?: boolean } {
  let s = raw.trim();
  if (s === '') return {};
  if (readAll) {
    const invert = s.startsWith('!');
    let body = invert ? s.slice(1).trim() : s;
    if (body.length > 0) {
      body = goClean(body);
      if (body.length > 1 && body.startsWith('/')) body = body.slice(1);
    }
    s = (invert ? '!' : '') + body;
  }
  s = goClean(s);
  const excl = s.startsWith('!');
  const body = excl ? s.slice(1) : s;
  if (excl && body === '') return { error: 'illegal exclusion pattern "!"' };
  const err = validateGoPattern(body);
  if (err !== undefined) return { error: `invalid pattern ${JSON.stringify(raw.trim())} (${err})` };
  // Paths are matched relative, so a pattern kept absolute can never match (@balena/dockerignore
  // would strip the slash, so it is left out instead).
  if (!readAll && body.startsWith('/')) return { pattern: s, neverMatches: true };
  return { pattern: s };
}

/**
 * @balena/dockerignore follows Docker 19.03, which did not escape `+ ( ) | { }` before building its
 * regular expression; today's patternmatcher does (they are literal in filepath.Match).
 */
export function escapeForBalena(p: string): string {
  let out = '';
  for (let i = 0; i < p.length; i++) {
    const ch = p[i] ?? '';
    if (ch === '\\' && i + 1 < p.length) {
      out += ch + (p[i + 1] ?? '');
      i++;
    } else if ('+()|{}'.includes(ch)) {
      out += '\\' + ch;
    } else {
      out += ch;
    }
  }
  return out;
}

/** fsutil's patternWithoutTrailingGlob. */
function withoutTrailingGlob(p: string): string {
  let s = p;
  if (s.endsWith('/**')) s = s.slice(0, -3);
  if (s.endsWith('/*')) s = s.slice(0, -2);
  return s;
}

/** A matcher for cleaned patterns (Docker's order: the last matching pattern wins; `!` re-includes). */
export function compileIgnore(patterns: string[], problems: string[] = []): IgnoreRules {
  if (patterns.length === 0) return { patterns, problems, ignores: undefined, canPrune: () => true };
  const ig = ignore({ ignorecase: false }).add(patterns.map(escapeForBalena));
  const exceptions = patterns.filter((p) => p.startsWith('!')).map((p) => withoutTrailingGlob(p.slice(1)));
  const prefixOnly = exceptions.every((e) => !/[*[\]?^\\]/.test(e));
  return {
    patterns,
    problems,
    ignores: (rel) => ig.ignores(rel),
    canPrune: (dir) => {
      if (exceptions.length === 0) return true;
      if (!prefixOnly) return false;
      const d = dir + '/';
      return !exceptions.some((e) => (e + '/').startsWith(d));
    },
  };
}

/** Include or exclude patterns of a copy, matched like patternmatcher (the path or a parent). */
class CopyMatcher {
  private readonly rules: IgnoreRules;
  private emptyResult: boolean | undefined;
  constructor(private readonly patterns: string[]) {
    this.rules = compileIgnore(patterns);
  }

  matches(candidate: string): boolean {
    if (candidate !== '') return this.rules.ignores?.(candidate) ?? false;
    // The library cannot test the empty path (the source itself); patternmatcher tests each
    // pattern against "" directly.
    this.emptyResult ??= this.patterns.reduce((matched, p) => {
      const excl = p.startsWith('!');
      if (excl !== matched) return matched;
      return matchesEmpty(excl ? p.slice(1) : p) ? !excl : matched;
    }, false);
    return this.emptyResult;
  }
}

function matchesEmpty(body: string): boolean {
  if (body === '..' || body.startsWith('../')) return false;
  // "x/" + P matches "x/" exactly when P's expression accepts the empty string.
  return ignore({ ignorecase: false }).add(escapeForBalena('x/' + body)).ignores('x/');
}

function prepareCopyPatterns(raw: readonly string[], what: string, problems: string[]): { patterns: string[]; bad: boolean } {
  const patterns: string[] = [];
  let bad = false;
  for (const r of raw) {
    const c = cleanPattern(r, false);
    if (c.error !== undefined) {
      problems.push(`${what}: ${c.error}; BuildKit fails the build`);
      bad = true;
    } else if (c.pattern !== undefined && c.neverMatches !== true) {
      patterns.push(c.pattern);
    }
  }
  return { patterns, bad };
}

// ---------------------------------------------------------------------------------------------
// The snapshot as BuildKit's radix tree
// ---------------------------------------------------------------------------------------------

interface Rec {
  /** Path with `/` as NUL, directory headers with a trailing NUL: BuildKit's key order. */
  key: Buffer;
  rel: string;
  kind: 'dir' | 'hdr' | 'leaf';
  entry: ContextEntry | undefined;
}

interface Index {
  entries: Map<string, ContextEntry>;
  records: Rec[];
  /** rel -> index of its dir or leaf record (the header of a dir follows it). */
  pos: Map<string, number>;
  children: Map<string, string[]>;
  dirDigests: Map<string, string>;
}

const indexes = new WeakMap<ContextSnapshot, Index>();
const ROOT_ENTRY: ContextEntry = { path: '', type: 'dir', mode: 0o40755, size: 0, hash: EMPTY_DIGEST.slice(7), linkTarget: undefined };

function keyOf(rel: string, header: boolean): Buffer {
  const b = Buffer.from(rel === '' ? (header ? '/' : '') : '/' + rel + (header ? '/' : ''), 'utf8');
  for (let i = 0; i < b.length; i++) if (b[i] === 0x2f) b[i] = 0;
  return b;
}

function indexFor(snapshot: ContextSnapshot): Index {
  const hit = indexes.get(snapshot);
  if (hit !== undefined) return hit;
  const records: Rec[] = [
    { key: keyOf('', false), rel: '', kind: 'dir', entry: undefined },
    { key: keyOf('', true), rel: '', kind: 'hdr', entry: undefined },
  ];
  for (const [rel, e] of snapshot.entries) {
    if (e.type === 'dir') {
      records.push({ key: keyOf(rel, false), rel, kind: 'dir', entry: e });
      records.push({ key: keyOf(rel, true), rel, kind: 'hdr', entry: e });
    } else {
      records.push({ key: keyOf(rel, false), rel, kind: 'leaf', entry: e });
    }
  }
  records.sort((a, b) => Buffer.compare(a.key, b.key));
  const pos = new Map<string, number>();
  const children = new Map<string, string[]>();
  records.forEach((r, i) => {
    if (r.kind === 'hdr') return;
    pos.set(r.rel, i);
    if (r.rel === '') return;
    const slash = r.rel.lastIndexOf('/');
    const parent = slash < 0 ? '' : r.rel.slice(0, slash);
    let list = children.get(parent);
    if (list === undefined) children.set(parent, (list = []));
    list.push(r.rel); // records are in key order, so children come sorted by name bytes
  });
  const idx: Index = { entries: snapshot.entries, records, pos, children, dirDigests: new Map() };
  indexes.set(snapshot, idx);
  return idx;
}

function lookup(idx: Index, rel: string): ContextEntry | undefined {
  return rel === '' ? ROOT_ENTRY : idx.entries.get(rel);
}

/** A directory's recursive digest: its header, then each child's name and digest. */
function dirDigest(idx: Index, rel: string): string {
  const hit = idx.dirDigests.get(rel);
  if (hit !== undefined) return hit;
  const h = createHash('sha256');
  h.update(Buffer.from([0]));
  h.update(rel === '' ? EMPTY_DIGEST : 'sha256:' + (idx.entries.get(rel)?.hash ?? ''));
  for (const child of idx.children.get(rel) ?? []) {
    const name = rel === '' ? child : child.slice(rel.length + 1);
    h.update(Buffer.concat([Buffer.from([0]), Buffer.from(name, 'utf8')]));
    const e = idx.entries.get(child);
    h.update(e?.type === 'dir' ? dirDigest(idx, child) : 'sha256:' + (e?.hash ?? ''));
  }
  const d = 'sha256:' + h.digest('hex');
  idx.dirDigests.set(rel, d);
  return d;
}

/** rel of a cleaned absolute path ('/a/b' -> 'a/b', '/' -> ''). */
function relOf(abs: string): string {
  return abs === '/' || abs === '' ? '' : abs.replace(/^\/+/, '');
}

type Resolved = { rel: string | undefined; error?: undefined } | { rel?: undefined; error: string };

/** getFollowLinks: resolves symlinks component by component inside the context (absolute targets
 * restart at the context root, `..` stops there); the last one only when followTrailing. */
function resolve(idx: Index, rel: string, followTrailing: boolean): Resolved {
  const direct = lookup(idx, rel);
  if (direct !== undefined && (!followTrailing || direct.type !== 'symlink')) return { rel };
  let current = '';
  let remaining = rel;
  let links = 0;
  while (remaining !== '') {
    const i = remaining.indexOf('/');
    const part = i < 0 ? remaining : remaining.slice(0, i);
    remaining = i < 0 ? '' : remaining.slice(i + 1);
    const next = relOf(goClean(`/${current}/${part}`));
    const e = lookup(idx, next);
    if (e === undefined || e.type !== 'symlink') {
      current = next;
      continue;
    }
    if (!followTrailing && remaining === '') {
      current = next;
      break;
    }
    if (++links > MAX_LINKS) return { error: 'too many levels of symbolic links' };
    const target = e.linkTarget ?? '';
    remaining = `${target}/${remaining}`;
    if (target.startsWith('/')) current = '';
  }
  return { rel: lookup(idx, current) === undefined ? undefined : current };
}

function recordDigest(idx: Index, rel: string): string {
  const e = lookup(idx, rel);
  if (e?.type === 'dir') return dirDigest(idx, rel);
  return 'sha256:' + (e?.hash ?? '');
}

/** lazyChecksum: the digest of the record at the path, symlinks followed. */
function lazyChecksum(idx: Index, rel: string, follow: boolean): { digest: string; rel: string } | { error: string } {
  const r = resolve(idx, rel, follow);
  if (r.error !== undefined) return { error: r.error };
  if (r.rel === undefined) return { error: 'not found' };
  return { digest: recordDigest(idx, r.rel), rel: r.rel };
}

interface Included {
  /** BuildKit's path (absolute, written with the source's own prefix). */
  path: string;
  /** The snapshot path it came from. */
  rel: string;
  digest: string;
  followLinks: boolean;
  included: boolean;
}

interface SelectorSpec {
  path: string;
  wildcard: boolean;
  filtered: boolean;
  include: CopyMatcher | undefined;
  exclude: CopyMatcher | undefined;
  required: string[];
  sources: string[];
}

/** cacheContext.includedPaths: the entries a wildcard/include/exclude selection keeps. */
function includedPaths(idx: Index, sel: SelectorSpec): { prefix: string; items: Included[] } | { error: string } {
  const endsInSep = sel.path.endsWith('/');
  const p = sel.path === '/' ? '' : sel.path;
  let origPrefix: string;
  let start: number;
  let resolvedPrefix = '';
  if (sel.wildcard) {
    const [d1, d2] = splitWildcards(p);
    if (d1 === '/') {
      origPrefix = '';
      start = 0;
    } else {
      origPrefix = d1;
      const r = resolve(idx, relOf(d1), d2 !== '');
      if (r.error !== undefined) return { error: r.error };
      if (r.rel === undefined) return { prefix: origPrefix, items: [] };
      start = idx.pos.get(r.rel) ?? 0;
      resolvedPrefix = r.rel === '' ? '' : '/' + r.rel;
    }
  } else {
    origPrefix = p;
    const r = resolve(idx, relOf(p), false);
    if (r.error !== undefined) return { error: r.error };
    if (r.rel === undefined) return { prefix: origPrefix, items: [] };
    start = idx.pos.get(r.rel) ?? 0;
    resolvedPrefix = r.rel === '' ? '' : '/' + r.rel;
  }
  const subtree = resolvedPrefix === '' ? undefined : keyOf(relOf(resolvedPrefix), true);
  const items: Included[] = [];
  const parents: Included[] = [];
  let lastMatchedDir = '';
  for (let i = start; i < idx.records.length; i++) {
    const rec = idx.records[i];
    if (rec === undefined) break;
    // Past the resolved prefix nothing can match any more (BuildKit walks on and matches nothing).
    if (subtree !== undefined && i > start && !startsWithBuf(rec.key, subtree)) break;
    let fn = rec.rel === '' ? (rec.kind === 'hdr' ? '/' : '') : '/' + rec.rel + (rec.kind === 'hdr' ? '/' : '');
    if (fn.startsWith(resolvedPrefix)) fn = origPrefix + fn.slice(resolvedPrefix.length);
    while (parents.length > 0 && !fn.startsWith((parents[parents.length - 1]?.path ?? '') + '/')) parents.pop();
    const parentDir = parents[parents.length - 1];
    const dirHeader = rec.kind === 'hdr';
    if (dirHeader) {
      fn = fn.slice(0, -1);
      if (fn === p && endsInSep) continue;
    }
    const item: Included = { path: fn, rel: rec.rel, digest: '', followLinks: parentDir === undefined, included: false };
    let candidate: string;
    if (sel.wildcard) {
      if (p !== '' && (lastMatchedDir === '' || !fn.startsWith(lastMatchedDir + '/'))) {
        if (!goPathMatch(p, fn)) continue;
        lastMatchedDir = fn;
      }
      candidate = trimCandidate(fn, lastMatchedDir);
    } else {
      if (!(fn + '/').startsWith(p + '/')) break;
      candidate = trimCandidate(fn, p);
    }
    let include = true;
    if (sel.include !== undefined && !sel.include.matches(candidate)) include = false;
    if (include && sel.exclude?.matches(candidate) === true) include = false;
    if (!include && !dirHeader) continue;
    if (rec.kind === 'dir') continue; // only headers and files are hashed, never a whole directory
    item.digest = dirHeader ? 'sha256:' + (rec.entry?.hash ?? EMPTY_DIGEST.slice(7)) : 'sha256:' + (rec.entry?.hash ?? '');
    if (include) {
      for (const pd of parents) {
        if (!pd.included) {
          items.push(pd);
          pd.included = true;
        }
      }
      items.push(item);
      item.included = true;
    }
    if (dirHeader) parents.push(item);
  }
  return { prefix: origPrefix, items };
}

function trimCandidate(fn: string, prefix: string): string {
  const withSlash = fn + '/';
  const pre = prefix + '/';
  const rest = withSlash.startsWith(pre) ? withSlash.slice(pre.length) : withSlash;
  return rest.endsWith('/') ? rest.slice(0, -1) : rest;
}

function startsWithBuf(key: Buffer, prefix: Buffer): boolean {
  return key.length >= prefix.length && key.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;
}

/** splitWildcards: the components before the first one with a wildcard, and the rest. */
function splitWildcards(p: string): [string, string] {
  const parts = goClean(p).split('/');
  const p1: string[] = [];
  const p2: string[] = [];
  let found = false;
  for (const part of parts) {
    if (!found && containsWildcards(part)) found = true;
    const x = part === '' ? '/' : part;
    if (found) p2.push(x);
    else p1.push(x);
  }
  return [joinGo(p1), joinGo(p2)];
}

/** Go's path.Join: non-empty elements joined by `/`, cleaned; '' when none. */
function joinGo(parts: string[]): string {
  const kept = parts.filter((x) => x !== '');
  return kept.length === 0 ? '' : goClean(kept.join('/'));
}

/** NormalizePath("/", p, linux, false): relative paths are joined to `/` and cleaned; absolute ones are kept as written. */
function normalizeAbs(p: string): string {
  if (p === '') return '/';
  return p.startsWith('/') ? p : goClean('/' + p);
}

// ---------------------------------------------------------------------------------------------
// selectSources
// ---------------------------------------------------------------------------------------------

/** What BuildKit checksums for these context sources of one COPY/ADD (or bind mount). */
export function selectSources(snapshot: ContextSnapshot, sources: readonly string[], options: SelectOptions = {}): SourceSelection {
  const idx = indexFor(snapshot);
  const problems: string[] = [];
  const missing = new Set<string>();
  const files = new Map<string, string>();
  const excludesRaw = options.excludes ?? [];
  const excl = prepareCopyPatterns(excludesRaw, '--exclude', problems);
  const exclude = excludesRaw.length > 0 ? new CopyMatcher(excl.patterns) : undefined;

  const specs: SelectorSpec[] = [];
  for (const src of sources) {
    let srcPath = src;
    let include: CopyMatcher | undefined;
    const required: string[] = [];
    let bad = excl.bad;
    if (options.parents === true) {
      const cut = src.indexOf('/./');
      let pattern: string;
      if (cut < 0) {
        pattern = src;
        srcPath = '/';
      } else {
        pattern = src.slice(cut + 3);
        srcPath = src.slice(0, cut);
      }
      pattern = normalizeAbs(pattern);
      const inc = prepareCopyPatterns([pattern.startsWith('/') ? pattern.slice(1) : pattern], `--parents ${src}`, problems);
      bad ||= inc.bad;
      include = new CopyMatcher(inc.patterns);
      if (!containsWildcards(srcPath) && !containsWildcards(pattern)) {
        required.push(normalizeAbs(goClean(srcPath === '' ? pattern : `${srcPath}/${pattern}`)));
      }
    }
    const path = goClean(normalizeAbs(srcPath));
    const wildcard = options.literal !== true && containsWildcards(path);
    if (wildcard && validateGoPattern(path) !== undefined) {
      problems.push(`${src}: ${validateGoPattern(path) ?? ''}; BuildKit fails the build`);
      bad = true;
    }
    if (bad) missing.add(src);
    specs.push({ path, wildcard, filtered: wildcard || include !== undefined || exclude !== undefined, include, exclude, required, sources: [src] });
  }

  // dedupeSelectors: plain selectors lose those under another one; filtered ones all stay.
  const plain = [...new Set(specs.filter((s) => !s.filtered).map((s) => s.path))];
  const keptPlain = plain.filter((p1) => !plain.some((p2) => p1 !== p2 && p1.startsWith(p2.endsWith('/') ? p2 : p2 + '/'))).sort();
  const ordered: SelectorSpec[] = [];
  for (const p of keptPlain) {
    const s = specs.find((x) => !x.filtered && x.path === p);
    if (s !== undefined) ordered.push(s);
  }
  ordered.push(...specs.filter((s) => s.filtered));
  // A stable sort, as Go's insertion sort is for the few selectors of one instruction.
  const sorted = ordered.map((s, i) => ({ s, i })).sort((a, b) => (a.s.path < b.s.path ? -1 : a.s.path > b.s.path ? 1 : a.i - b.i)).map((x) => x.s);

  // Plain sources dropped by the dedup are never checksummed, but the copy still needs them.
  for (const s of specs) {
    if (s.filtered || missing.has(s.sources[0] ?? '')) continue;
    const r = resolve(idx, relOf(s.path), true);
    if (r.error !== undefined) {
      problems.push(`${s.sources[0] ?? s.path}: ${r.error}; BuildKit fails the build`);
      for (const x of s.sources) missing.add(x);
    } else if (r.rel === undefined) {
      for (const x of s.sources) missing.add(x);
    }
  }

  const selectors: Array<{ path: string; digest: string }> = [];
  for (const s of sorted) {
    const failedSource = s.sources.some((x) => missing.has(x));
    const digest = failedSource ? `error:${s.path}` : selectorDigest(idx, s, files, problems, missing, options.followNestedLinks === true);
    selectors.push({ path: s.path, digest });
  }
  const checksum = 'sha256:' + createHash('sha256').update(selectors.map((s) => s.digest).join('\0')).digest('hex');
  return {
    checksum,
    files: [...files].map(([path, hash]) => ({ path, hash })).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
    missing: sources.filter((s) => missing.has(s)),
    problems,
    selectors,
  };
}

function selectorDigest(idx: Index, s: SelectorSpec, files: Map<string, string>, problems: string[], missing: Set<string>, followNested: boolean): string {
  const fail = (why: string | undefined): string => {
    if (why !== undefined) problems.push(`${s.sources.join(', ')}: ${why}; BuildKit fails the build`);
    for (const x of s.sources) missing.add(x);
    return `error:${s.path}`;
  };
  if (!s.filtered) {
    const r = lazyChecksum(idx, relOf(s.path), true);
    if ('error' in r) return fail(r.error === 'not found' ? undefined : r.error);
    addFiles(idx, r.rel, files);
    return r.digest;
  }
  const inc = includedPaths(idx, s);
  if ('error' in inc) return fail(inc.error);
  const { prefix, items } = inc;
  if (!s.wildcard && items.length === 0 && resolve(idx, relOf(s.path), false).rel === undefined) {
    // BuildKit's checksum is then the empty digest, but the copy itself fails when it runs.
    for (const x of s.sources) missing.add(x);
  }
  for (const it of items) {
    const e = lookup(idx, it.rel);
    if ((it.followLinks || followNested) && e?.type === 'symlink') {
      const r = lazyChecksum(idx, it.rel, true);
      if ('error' in r) return fail(`${it.rel}: symlink ${r.error === 'not found' ? 'points to nothing in the context' : r.error}`);
      it.digest = r.digest;
    }
    files.set(it.rel, it.digest.slice(7));
  }
  for (const req of s.required) {
    if (!items.some((it) => it.path.startsWith(req))) return fail(undefined);
  }
  if (items.length === 0) return EMPTY_DIGEST;
  const only = items[0];
  if (items.length === 1 && only !== undefined && goBase(s.path) === goBase(only.path)) return only.digest;
  const h = createHash('sha256');
  for (const it of items) {
    const rel = it.path.startsWith(prefix) ? it.path.slice(prefix.length) : it.path;
    const key = keyOf(relOf(rel), false);
    h.update(key.length === 0 ? Buffer.from([0]) : key);
    h.update(it.digest);
  }
  return 'sha256:' + h.digest('hex');
}

/** The entry at rel and, for a directory, everything beneath it. */
function addFiles(idx: Index, rel: string, files: Map<string, string>): void {
  const e = lookup(idx, rel);
  if (e === undefined) return;
  if (rel !== '') files.set(rel, e.hash);
  if (e.type !== 'dir') return;
  const start = idx.pos.get(rel);
  if (start === undefined) return;
  const prefix = keyOf(rel, true);
  for (let i = start + 1; i < idx.records.length; i++) {
    const r = idx.records[i];
    if (r === undefined || !startsWithBuf(r.key, prefix)) break;
    if (r.kind !== 'hdr' && r.entry !== undefined) files.set(r.rel, r.entry.hash);
  }
}
