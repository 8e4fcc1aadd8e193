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
  /**
   * The files/dirs/symlinks included, with their entry hashes, relative to the context root, sorted
   * by path. Listed anew each time it is read: read it once, and only to record or explain.
   */
  readonly files: Array<{ path: string; hash: string }>;
  /** How many entries `files` lists (counted once). */
  readonly count: number;
  /** Each selected entry, unsorted, without building a list. */
  forEachFile(fn: (path: string, hash: string) => void): void;
  /**
   * Whether one path is among `files`, and its hash, without listing them; undefined when this
   * selection cannot tell that way (wildcards, --exclude, --parents, symlinks followed).
   */
  fileAt(rel: string): { selected: boolean; hash: string | undefined } | undefined;
  /** The sources and options it was made from (equal keys, the same selection on another snapshot). */
  readonly key: string;
  /** Made again on a snapshot patched at `changed`: what this selection was before (its checksum). */
  readonly derived: { fromChecksum: string; changed: ReadonlySet<string> } | undefined;
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

/**
 * BuildKit keys its tree by the path with `/` as NUL, a directory's header under its path plus a
 * trailing NUL. In that byte order a directory comes first, then its header, then its children by
 * name, each followed by its own subtree: a depth-first walk over children sorted by name bytes.
 * The index keeps only those sorted lists, so a snapshot patched at a few paths gets its index
 * patched too (patchIndex) instead of sorted again.
 */
interface Index {
  entries: ReadonlyMap<string, ContextEntry>;
  /** Directory ('' the root) -> its children's paths, sorted by name bytes. */
  children: Map<string, readonly string[]>;
  dirDigests: Map<string, string>;
  /** Selections made on this snapshot, by sources and options. */
  selections: Map<string, Selection>;
  /** Selections of the snapshot before that the patch affected: made again here, they say so. */
  derivations: Map<string, { fromChecksum: string; changed: ReadonlySet<string> }>;
}

type Kind = 'dir' | 'hdr' | 'leaf';

const indexes = new WeakMap<ContextSnapshot, Index>();
/** Snapshots made from another by changing a few paths, until their index is made from the other's. */
const patches = new WeakMap<ContextSnapshot, { base: ContextSnapshot; changed: Set<string> }>();
/** With more changed paths than this, a new index is cheaper than a patched one. */
const MAX_PATCHED_PATHS = 5000;
const ROOT_ENTRY: ContextEntry = { path: '', type: 'dir', mode: 0o40755, size: 0, hash: EMPTY_DIGEST.slice(7), linkTarget: undefined };

/** Code point order, which is UTF-8 byte order (BuildKit compares bytes; JS strings are UTF-16). */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      // Surrogates (code points above U+FFFF) sort after U+E000..U+FFFF.
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

function parentOf(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i < 0 ? '' : rel.slice(0, i);
}

function keyOf(rel: string, header: boolean): Buffer {
  const b = Buffer.from(rel === '' ? (header ? '/' : '') : '/' + rel + (header ? '/' : ''), 'utf8');
  for (let i = 0; i < b.length; i++) if (b[i] === 0x2f) b[i] = 0;
  return b;
}

function buildIndex(entries: ReadonlyMap<string, ContextEntry>): Index {
  const children = new Map<string, string[]>([['', []]]);
  for (const [rel, e] of entries) {
    if (e.type === 'dir' && !children.has(rel)) children.set(rel, []);
    const parent = parentOf(rel);
    let list = children.get(parent);
    if (list === undefined) children.set(parent, (list = []));
    list.push(rel);
  }
  // Siblings share their parent's prefix, so comparing paths compares names.
  for (const list of children.values()) list.sort(compareUtf8);
  return { entries, children, dirDigests: new Map(), selections: new Map(), derivations: new Map() };
}

/** The index of a snapshot that differs from an indexed one at `changed` (every path added, removed or modified). */
function patchIndex(base: Index, entries: ReadonlyMap<string, ContextEntry>, changed: ReadonlySet<string>): Index {
  const children = new Map(base.children);
  const copied = new Set<string>();
  // A list is copied once, on its first change: the base index keeps its own.
  const listOf = (dir: string): string[] => {
    if (copied.has(dir)) return children.get(dir) as string[];
    const list = [...(children.get(dir) ?? [])];
    copied.add(dir);
    children.set(dir, list);
    return list;
  };
  const isDir = (rel: string): boolean => rel === '' || entries.get(rel)?.type === 'dir';
  const dirDigests = new Map(base.dirDigests);
  // Parents before children, so a new directory has its list before its entries go in.
  for (const p of [...changed].sort((a, b) => a.length - b.length)) {
    dirDigests.delete(p);
    for (let a = p; a !== '';) {
      a = parentOf(a);
      dirDigests.delete(a);
    }
    const before = base.entries.get(p);
    const after = entries.get(p);
    const parent = parentOf(p);
    if ((before === undefined) !== (after === undefined) && isDir(parent)) {
      const list = listOf(parent);
      const at = lowerBound(list, p);
      if (after === undefined) {
        if (list[at] === p) list.splice(at, 1);
      } else if (list[at] !== p) {
        list.splice(at, 0, p);
      }
    }
    if (before?.type === 'dir' && after?.type !== 'dir') children.delete(p);
    if (after?.type === 'dir' && !children.has(p)) {
      children.set(p, []);
      copied.add(p);
    }
  }
  const idx: Index = { entries, children, dirDigests, selections: new Map(), derivations: new Map() };
  for (const [id, sel] of base.selections) {
    if (!sel.affectedBy(changed)) idx.selections.set(id, sel.rebind(idx));
    else idx.derivations.set(id, { fromChecksum: sel.checksum, changed });
  }
  return idx;
}

function lowerBound(list: readonly string[], rel: string): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareUtf8(list[mid] ?? '', rel) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function indexFor(snapshot: ContextSnapshot): Index {
  const hit = indexes.get(snapshot);
  if (hit !== undefined) return hit;
  const patch = patches.get(snapshot);
  patches.delete(snapshot);
  const baseIdx = patch === undefined ? undefined : indexes.get(patch.base);
  const idx = patch !== undefined && baseIdx !== undefined && patch.changed.size <= MAX_PATCHED_PATHS
    ? patchIndex(baseIdx, snapshot.entries, patch.changed)
    : buildIndex(snapshot.entries);
  indexes.set(snapshot, idx);
  return idx;
}

/**
 * Says that `next` is `base` with the entries at `changed` added, removed or modified (and nothing
 * else): its index, directory digests and unaffected selections are then carried over from
 * `base`'s instead of computed again.
 */
export function notePatch(next: ContextSnapshot, base: ContextSnapshot, changed: Iterable<string>): void {
  // A base never indexed: patch from its own base, with both sets of changes.
  const prior = indexes.has(base) ? undefined : patches.get(base);
  const all = new Set(prior?.changed ?? []);
  for (const p of changed) all.add(p);
  patches.set(next, { base: prior?.base ?? base, changed: all });
}

function lookup(idx: Index, rel: string): ContextEntry | undefined {
  return rel === '' ? ROOT_ENTRY : idx.entries.get(rel);
}

/**
 * The records of rel's subtree in BuildKit's key order (rel itself first). `descend` may skip a
 * directory's children after its two records were visited.
 */
function walkTree(idx: Index, rel: string, visit: (rel: string, kind: Kind) => void, descend?: (dir: string) => boolean): void {
  const e = lookup(idx, rel);
  if (e === undefined) return;
  if (e.type !== 'dir') {
    visit(rel, 'leaf');
    return;
  }
  visit(rel, 'dir');
  visit(rel, 'hdr');
  if (descend !== undefined && !descend(rel)) return;
  for (const child of idx.children.get(rel) ?? []) walkTree(idx, child, visit, descend);
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

/** What a selection read: the paths its result depends on, or everything once a symlink was followed. */
interface Track {
  roots: Set<string>;
  global: boolean;
}

type Resolved = { rel: string | undefined; error?: undefined } | { rel?: undefined; error: string };

/** getFollowLinks: resolves symlinks component by component inside the context (absolute targets
 * restart at the context root, `..` stops there); the last one only when followTrailing. */
function resolve(idx: Index, rel: string, followTrailing: boolean, track?: Track): Resolved {
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
    if (track !== undefined) track.global = true;
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
function lazyChecksum(idx: Index, rel: string, follow: boolean, track?: Track): { digest: string; rel: string } | { error: string } {
  const r = resolve(idx, rel, follow, track);
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

function depthOf(p: string): number {
  let n = 0;
  for (let i = 0; i < p.length; i++) if (p.charCodeAt(i) === 0x2f) n++;
  return n;
}

/** cacheContext.includedPaths: the entries a wildcard/include/exclude selection keeps. */
function includedPaths(idx: Index, sel: SelectorSpec, track: Track): { prefix: string; items: Included[] } | { error: string } {
  const endsInSep = sel.path.endsWith('/');
  const p = sel.path === '/' ? '' : sel.path;
  let origPrefix: string;
  let startRel: string;
  let resolvedPrefix = '';
  if (sel.wildcard) {
    const [d1, d2] = splitWildcards(p);
    if (d1 === '/') {
      origPrefix = '';
      startRel = '';
      track.roots.add('');
    } else {
      origPrefix = d1;
      track.roots.add(relOf(d1));
      const r = resolve(idx, relOf(d1), d2 !== '', track);
      if (r.error !== undefined) return { error: r.error };
      if (r.rel === undefined) return { prefix: origPrefix, items: [] };
      startRel = r.rel;
      resolvedPrefix = r.rel === '' ? '' : '/' + r.rel;
    }
  } else {
    origPrefix = p;
    track.roots.add(relOf(p));
    const r = resolve(idx, relOf(p), false, track);
    if (r.error !== undefined) return { error: r.error };
    if (r.rel === undefined) return { prefix: origPrefix, items: [] };
    startRel = r.rel;
    resolvedPrefix = r.rel === '' ? '' : '/' + r.rel;
  }
  const items: Included[] = [];
  const parents: Included[] = [];
  let lastMatchedDir = '';
  const pathOf = (rel: string, header: boolean): string => {
    const fn = rel === '' ? (header ? '/' : '') : '/' + rel + (header ? '/' : '');
    return fn.startsWith(resolvedPrefix) ? origPrefix + fn.slice(resolvedPrefix.length) : fn;
  };
  // `*` and `?` never match `/`: past the pattern's depth, a directory that did not match has
  // nothing beneath that can (unless a class, which may match `/`, is in the pattern).
  const prunable = sel.wildcard && p !== '' && !p.includes('[');
  const patternDepth = depthOf(p);
  const descend = !prunable ? undefined : (dir: string): boolean => {
    const fn = pathOf(dir, false);
    if (lastMatchedDir !== '' && (fn === lastMatchedDir || fn.startsWith(lastMatchedDir + '/'))) return true;
    return depthOf(fn) < patternDepth;
  };
  walkTree(idx, startRel, (rel, kind) => {
    let fn = pathOf(rel, kind === 'hdr');
    while (parents.length > 0 && !fn.startsWith((parents[parents.length - 1]?.path ?? '') + '/')) parents.pop();
    const parentDir = parents[parents.length - 1];
    const dirHeader = kind === 'hdr';
    if (dirHeader) {
      fn = fn.slice(0, -1);
      if (fn === p && endsInSep) return;
    }
    const item: Included = { path: fn, rel, digest: '', followLinks: parentDir === undefined, included: false };
    let candidate: string;
    if (sel.wildcard) {
      if (p !== '' && (lastMatchedDir === '' || !fn.startsWith(lastMatchedDir + '/'))) {
        if (!goPathMatch(p, fn)) return;
        lastMatchedDir = fn;
      }
      candidate = trimCandidate(fn, lastMatchedDir);
    } else {
      candidate = trimCandidate(fn, p);
    }
    let include = true;
    if (sel.include !== undefined && !sel.include.matches(candidate)) include = false;
    if (include && sel.exclude?.matches(candidate) === true) include = false;
    if (!include && !dirHeader) return;
    if (kind === 'dir') return; // only headers and files are hashed, never a whole directory
    const e = rel === '' ? undefined : idx.entries.get(rel);
    item.digest = dirHeader ? 'sha256:' + (e?.hash ?? EMPTY_DIGEST.slice(7)) : 'sha256:' + (e?.hash ?? '');
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
  }, descend);
  return { prefix: origPrefix, items };
}

function trimCandidate(fn: string, prefix: string): string {
  const withSlash = fn + '/';
  const pre = prefix + '/';
  const rest = withSlash.startsWith(pre) ? withSlash.slice(pre.length) : withSlash;
  return rest.endsWith('/') ? rest.slice(0, -1) : rest;
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

/** What one selector run needs besides the index; `files` collects what it selects, when asked. */
interface RunState {
  files: Map<string, string> | undefined;
  problems: string[];
  missing: Set<string>;
  followNested: boolean;
  track: Track;
}

/**
 * One selection's result. The files it selected are listed only when asked (to record a build or
 * explain a miss): for `COPY . .` in a big context the list is most of the memory a prediction
 * would otherwise hold, and keystrokes never need it.
 */
class Selection implements SourceSelection {
  private counted: number | undefined;

  constructor(
    private idx: Index,
    readonly key: string,
    private readonly sorted: readonly SelectorSpec[],
    private readonly followNested: boolean,
    readonly checksum: string,
    readonly missing: string[],
    readonly problems: string[],
    readonly selectors: Array<{ path: string; digest: string }>,
    private readonly track: Track,
    readonly derived: { fromChecksum: string; changed: ReadonlySet<string> } | undefined,
  ) {}

  get files(): Array<{ path: string; hash: string }> {
    const out: Array<{ path: string; hash: string }> = [];
    this.forEachFile((path, hash) => out.push({ path, hash }));
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  forEachFile(fn: (path: string, hash: string) => void): void {
    const state: RunState = { files: new Map(), problems: [], missing: new Set(this.missing), followNested: this.followNested, track: { roots: new Set(), global: false } };
    for (const s of this.sorted) {
      if (s.sources.some((x) => this.missing.includes(x))) continue;
      selectorDigest(this.idx, s, state);
    }
    for (const [path, hash] of state.files ?? []) fn(path, hash);
  }

  fileAt(rel: string): { selected: boolean; hash: string | undefined } | undefined {
    if (this.track.global || this.sorted.some((s) => s.filtered)) return undefined;
    // Plain sources without links: each selects the entry at its path and everything beneath.
    for (const s of this.sorted) {
      if (s.sources.some((x) => this.missing.includes(x))) continue;
      const r = relOf(s.path);
      if (r === '' ? rel !== '' : rel === r || rel.startsWith(r + '/')) {
        const e = this.idx.entries.get(rel);
        return e === undefined ? { selected: false, hash: undefined } : { selected: true, hash: e.hash };
      }
    }
    return { selected: false, hash: undefined };
  }

  get count(): number {
    if (this.counted === undefined) {
      let n = 0;
      this.forEachFile(() => n++);
      this.counted = n;
    }
    return this.counted;
  }

  /** Whether a change at these paths can change this selection. */
  affectedBy(changed: ReadonlySet<string>): boolean {
    if (this.track.global) return true;
    for (const r of this.track.roots) {
      if (r === '') return changed.size > 0;
      for (const p of changed) if (p === r || p.startsWith(r + '/') || r.startsWith(p + '/')) return true;
    }
    return false;
  }

  /** The same selection on a patched snapshot that it does not read differently. */
  rebind(idx: Index): Selection {
    const s = new Selection(idx, this.key, this.sorted, this.followNested, this.checksum, this.missing, this.problems, this.selectors, this.track, this.derived);
    s.counted = this.counted;
    return s;
  }
}

/** What BuildKit checksums for these context sources of one COPY/ADD (or bind mount); remembered per snapshot. */
export function selectSources(snapshot: ContextSnapshot, sources: readonly string[], options: SelectOptions = {}): SourceSelection {
  const idx = indexFor(snapshot);
  const id = JSON.stringify([sources, options.excludes ?? [], options.parents === true, options.literal === true, options.followNestedLinks === true]);
  const hit = idx.selections.get(id);
  if (hit !== undefined) return hit;
  const sel = select(idx, id, sources, options, idx.derivations.get(id));
  idx.derivations.delete(id);
  idx.selections.set(id, sel);
  return sel;
}

function select(idx: Index, key: string, sources: readonly string[], options: SelectOptions, derived: Selection['derived']): Selection {
  const problems: string[] = [];
  const missing = new Set<string>();
  const excludesRaw = options.excludes ?? [];
  const excl = prepareCopyPatterns(excludesRaw, '--exclude', problems);
  const exclude = excludesRaw.length > 0 ? new CopyMatcher(excl.patterns) : undefined;
  const track: Track = { roots: new Set(), global: false };

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
    track.roots.add(relOf(s.path));
    const r = resolve(idx, relOf(s.path), true, track);
    if (r.error !== undefined) {
      problems.push(`${s.sources[0] ?? s.path}: ${r.error}; BuildKit fails the build`);
      for (const x of s.sources) missing.add(x);
    } else if (r.rel === undefined) {
      for (const x of s.sources) missing.add(x);
    }
  }

  const state: RunState = { files: undefined, problems, missing, followNested: options.followNestedLinks === true, track };
  const selectors: Array<{ path: string; digest: string }> = [];
  for (const s of sorted) {
    const failedSource = s.sources.some((x) => missing.has(x));
    const digest = failedSource ? `error:${s.path}` : selectorDigest(idx, s, state);
    selectors.push({ path: s.path, digest });
  }
  const checksum = 'sha256:' + createHash('sha256').update(selectors.map((s) => s.digest).join('\0')).digest('hex');
  const missingList = sources.filter((s) => missing.has(s));
  return new Selection(idx, key, sorted, state.followNested, checksum, missingList, problems, selectors, track, derived);
}

function selectorDigest(idx: Index, s: SelectorSpec, state: RunState): string {
  const fail = (why: string | undefined): string => {
    if (why !== undefined) state.problems.push(`${s.sources.join(', ')}: ${why}; BuildKit fails the build`);
    for (const x of s.sources) state.missing.add(x);
    return `error:${s.path}`;
  };
  if (!s.filtered) {
    state.track.roots.add(relOf(s.path));
    const r = lazyChecksum(idx, relOf(s.path), true, state.track);
    if ('error' in r) return fail(r.error === 'not found' ? undefined : r.error);
    if (state.files !== undefined) addFiles(idx, r.rel, state.files);
    return r.digest;
  }
  const inc = includedPaths(idx, s, state.track);
  if ('error' in inc) return fail(inc.error);
  const { prefix, items } = inc;
  if (!s.wildcard && items.length === 0 && resolve(idx, relOf(s.path), false, state.track).rel === undefined) {
    // BuildKit's checksum is then the empty digest, but the copy itself fails when it runs.
    for (const x of s.sources) state.missing.add(x);
  }
  for (const it of items) {
    const e = lookup(idx, it.rel);
    if ((it.followLinks || state.followNested) && e?.type === 'symlink') {
      state.track.global = true;
      const r = lazyChecksum(idx, it.rel, true);
      if ('error' in r) return fail(`${it.rel}: symlink ${r.error === 'not found' ? 'points to nothing in the context' : r.error}`);
      it.digest = r.digest;
    }
    state.files?.set(it.rel, it.digest.slice(7));
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
  walkTree(idx, rel, (r, kind) => {
    if (kind === 'hdr' || r === '') return;
    const e = idx.entries.get(r);
    if (e !== undefined) files.set(r, e.hash);
  });
}
