/**
 * The build context as BuildKit receives it: walked after `.dockerignore`, every entry hashed the
 * way BuildKit's content checksum sees it (moby/buildkit 73ed6825).
 *
 * - The client (buildx / docker CLI, through tonistiigi/fsutil) lstats every entry, never follows
 *   a symlink, and resets uid/gid to 0 (`client/solve.go` resetUIDAndGID).
 * - The daemon hashes each entry as a tarsum-v1 header without name and mtime, plus the content of
 *   regular files (`cache/contenthash/filehash.go` NewFromStat, `tarsum.go`); names only enter
 *   through a directory's checksum (see sourceSelection.ts).
 * - The context root is never sent: its header is faked as sha256("") (`checksum.go`
 *   HandleChange), so the root's own mode never matters.
 * Known disagreement (seen on Docker 26.1's BuildKit, and in fsutil's DiskWriter at 73ed6825): when
 * the builder re-syncs into its earlier copy of the context, a directory whose mode alone changed
 * is updated on disk without notifying the content hash, so BuildKit keeps the old header and
 * still hits; this module counts the new mode (a false miss, never a false hit).
 */

import * as crypto from 'node:crypto';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { ContextEntry } from './types';
import { EntryTable } from './entryTable';
import { cleanPattern, compileIgnore, notePatch, type IgnoreRules } from './sourceSelection';

export {
  selectSources, goPathMatch, validateGoPattern, compileIgnore, escapeForBalena,
  type SourceSelection, type SelectOptions, type IgnoreRules,
} from './sourceSelection';

export interface ContextSnapshot {
  /** Absolute context directory. */
  root: string;
  /** Every entry BuildKit would receive (after `.dockerignore`), keyed by relative path; the root ('') is not included. */
  entries: ReadonlyMap<string, ContextEntry>;
  /** The root directory's own mode; BuildKit never hashes it. */
  rootMode: number;
  /** Absolute path of the ignore file used. */
  ignoreFile: string | undefined;
  /** The patterns applied, as BuildKit reads them (cleaned; invalid ones left out and reported). */
  ignorePatterns: string[];
  /** Human messages: unreadable file, vanished file, invalid pattern... Never thrown. */
  problems: string[];
}

export interface HasherStats {
  /** Regular files read and hashed in the last snapshot. */
  hashedFiles: number;
  /** Regular files whose hash came from the stat cache. */
  reusedFiles: number;
  /** lstat/fstat calls of the last snapshot. */
  statCalls: number;
}

export interface ContextHasherOptions {
  /** The Dockerfile: `<dockerfile>.dockerignore` beside it wins over `<context>/.dockerignore`. */
  dockerfile?: string;
  onProgress?: (done: number, total: number) => void;
}

/** Files are read whole when this small; larger ones in chunks of this size, yielding between them. */
const READ_CHUNK = 256 << 10;
/**
 * The walk makes synchronous system calls (a promise per lstat, open, read and close costs more
 * than the call for small files, and leaves garbage the heap keeps), in slices of this long, then
 * lets the event loop answer what is waiting: a keystroke waits at most one slice.
 */
const SLICE_MS = 8;

// ---------------------------------------------------------------------------------------------
// Entry headers
// ---------------------------------------------------------------------------------------------

/** tar type flags as archive/tar.FileInfoHeader picks them. */
export type TarTypeflag = '0' | '2' | '3' | '4' | '5' | '6';

export interface HeaderFields {
  /** Permission bits plus setuid/setgid/sticky (tar's c_ISUID... are the same numbers as st_mode's). */
  perm: number;
  size: number;
  typeflag: TarTypeflag;
  linkname: string;
  devmajor: number;
  devminor: number;
}

/**
 * The tarsum v1 header BuildKit hashes before a file's content: name empty (the name is hashed in
 * the parent's checksum), uid/gid 0 (reset by the client), no mtime, no user/group names.
 * Extended attributes would follow; they are not read here (Node has no API for them).
 */
export function tarsumHeader(h: HeaderFields): string {
  return `namemode${h.perm}uid0gid0size${h.size}typeflag${h.typeflag}linkname${h.linkname}unamegnamedevmajor${h.devmajor}devminor${h.devminor}`;
}

/** fsutil's Linux major/minor split of st_rdev. */
function devNumbers(rdev: number): { devmajor: number; devminor: number } {
  const major = Math.floor(rdev / 256) & 0xfff;
  const minor = (rdev & 0xff) | (Math.floor(rdev / 4096) & 0xfff00);
  return { devmajor: major, devminor: minor };
}

/** Header fields for an lstat result, as the daemon rebuilds them from the client's stat. */
export function headerFor(st: fs.Stats, linkTarget: string | undefined): HeaderFields {
  let perm = st.mode & 0o7777;
  // fsutil's mkstat on a Windows client: everything executable, nothing group/other-writable.
  if (process.platform === 'win32') perm = (perm & ~0o777) | ((perm | 0o111) & 0o755);
  const base = { perm, size: 0, linkname: '', devmajor: 0, devminor: 0 };
  if (st.isFile()) return { ...base, size: st.size, typeflag: '0' };
  if (st.isDirectory()) return { ...base, typeflag: '5' };
  if (st.isSymbolicLink()) return { ...base, typeflag: '2', linkname: linkTarget ?? '' };
  if (st.isCharacterDevice()) return { ...base, typeflag: '3', ...devNumbers(st.rdev) };
  if (st.isBlockDevice()) return { ...base, typeflag: '4', ...devNumbers(st.rdev) };
  if (st.isFIFO()) return { ...base, typeflag: '6' };
  // A socket: fsutil clears the socket bit, so it travels as an empty regular file (its open fails
  // on the client and an empty body is sent).
  return { ...base, size: st.size, typeflag: '0' };
}

/**
 * One-shot sha256 (no Hash object: at 100k files each one's native context, freed only when it is
 * collected, is most of what a walk leaves behind).
 */
export function sha256Hex(data: string | Buffer): string {
  return oneShot === undefined ? createHash('sha256').update(data).digest('hex') : oneShot('sha256', data, 'hex');
}

// crypto.hash: Node 20.12 / 21.7 and later.
const oneShot = (crypto as { hash?: (algorithm: string, data: string | Buffer, encoding: 'hex') => string }).hash;

function entryType(st: fs.Stats): ContextEntry['type'] {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  return 'other';
}

// ---------------------------------------------------------------------------------------------
// .dockerignore
// ---------------------------------------------------------------------------------------------

/**
 * Docker's ignore-file reading (patternmatcher/ignorefile.ReadAll: BOM, `#` comments, trimming,
 * Clean, leading `/` dropped) and matching through @balena/dockerignore. Invalid patterns
 * (BuildKit refuses them and fails the build) are reported and skipped.
 */
export function parseIgnoreFile(text: string, label: string): IgnoreRules {
  const problems: string[] = [];
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  const raw: Array<{ line: number; text: string }> = [];
  lines.forEach((l, i) => {
    const s = l.endsWith('\r') ? l.slice(0, -1) : l;
    if (s.startsWith('#')) return;
    raw.push({ line: i + 1, text: s });
  });
  const patterns: string[] = [];
  raw.forEach((r) => {
    const c = cleanPattern(r.text, true);
    if (c.error !== undefined) problems.push(`${label} line ${r.line}: ${c.error}; skipped here, but BuildKit rejects it and fails the build`);
    else if (c.pattern !== undefined) patterns.push(c.pattern);
  });
  return compileIgnore(patterns, problems);
}

function errCode(e: unknown): string {
  if (typeof e === 'object' && e !== null && 'code' in e) {
    if (typeof e.code === 'string') return e.code;
  }
  return 'UNKNOWN';
}

function errMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

const VANISHED = new Set(['ENOENT', 'ENOTDIR']);

// ---------------------------------------------------------------------------------------------
// The hasher
// ---------------------------------------------------------------------------------------------

/** One entry to visit. */
interface Task {
  rel: string;
  abs: string;
  /** From the directory listing; undefined for a path named by a file event (lstat tells). */
  isDir: boolean | undefined;
}

interface WalkRun {
  /** Entries found by this walk (a patch: only beneath the changed paths). */
  entries: Map<string, ContextEntry>;
  /** Ignored directories walked for exception patterns: sent only if something beneath is. */
  pendingDirs: Map<string, ContextEntry>;
  problems: string[];
  rules: IgnoreRules;
  /** What invalidate() had marked when this snapshot started (later calls wait for the next one). */
  invalidAll: boolean;
  invalid: Set<string>;
  startMs: number;
  discovered: number;
  done: number;
  lastProgress: number;
}

/** A snapshot's problem about one path starts with `<path>: `. */
function problemPath(problem: string): string | undefined {
  const i = problem.indexOf(': ');
  return i <= 0 ? undefined : problem.slice(0, i);
}

function isUnder(rel: string, dir: string): boolean {
  return rel === dir || rel.startsWith(dir + '/');
}

function sameEntry(a: ContextEntry | undefined, b: ContextEntry | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.type === b.type && a.mode === b.mode && a.size === b.size && a.hash === b.hash && a.linkTarget === b.linkTarget;
}

/** More changed paths than this and a patch is no quicker than a walk. */
const MAX_PATCH_PATHS = 1000;

export interface SnapshotOptions {
  /**
   * Trust invalidate() to have named every change since the last snapshot (the editor's file
   * watcher): only those paths are read again and the rest is carried over. Without it (a build,
   * the CLI) every entry is looked at again, re-reading only files whose stat changed.
   */
  patch?: boolean;
}

export class ContextHasher {
  readonly root: string;
  private readonly dockerfile: string | undefined;
  private readonly onProgress: ((done: number, total: number) => void) | undefined;
  /** The ignore files that may apply, relative to the root (one may be outside it: `../x`). */
  private readonly ignoreRels: string[];
  private last: ContextSnapshot | undefined;
  private lastRules: IgnoreRules | undefined;
  private readonly invalid = new Set<string>();
  private invalidAll = false;
  /** A change the next snapshot cannot patch in (an ignore file, a path outside the root). */
  private needsWalk = false;
  /** One read buffer, reused: reads are synchronous, one at a time. */
  private readonly buffer = Buffer.allocUnsafe(READ_CHUNK);
  private sliceStart = 0;
  private lastStats: HasherStats = { hashedFiles: 0, reusedFiles: 0, statCalls: 0 };
  /** snapshot() calls run one after another: they share the last snapshot and the counters. */
  private tail: Promise<unknown> = Promise.resolve();
  private counting: HasherStats = { hashedFiles: 0, reusedFiles: 0, statCalls: 0 };

  constructor(root: string, options: ContextHasherOptions = {}) {
    this.root = path.resolve(root);
    this.dockerfile = options.dockerfile === undefined ? undefined : path.resolve(this.root, options.dockerfile);
    this.onProgress = options.onProgress;
    this.ignoreRels = this.ignoreCandidates().map((f) => path.relative(this.root, f).split(path.sep).join('/'));
  }

  /** Counters of the last snapshot(). */
  get stats(): HasherStats {
    return { ...this.lastStats };
  }

  /** The next snapshot re-hashes these paths (a directory: everything beneath it too). */
  invalidate(relativePaths: readonly string[]): void {
    for (const p of relativePaths) {
      const raw = p.split('\\').join('/');
      if (this.ignoreRels.includes(raw) || raw === '..' || raw.startsWith('../') || path.posix.isAbsolute(raw)) {
        this.needsWalk = true;
        continue;
      }
      const rel = normalizeRel(raw);
      if (this.ignoreRels.includes(rel)) this.needsWalk = true;
      else if (rel === '') this.invalidAll = true;
      else this.invalid.add(rel);
    }
  }

  snapshot(options: SnapshotOptions = {}): Promise<ContextSnapshot> {
    const next = this.tail.then(() => this.takeSnapshot(options.patch === true));
    this.tail = next.catch(() => undefined);
    return next;
  }

  private async takeSnapshot(patch: boolean): Promise<ContextSnapshot> {
    this.counting = { hashedFiles: 0, reusedFiles: 0, statCalls: 0 };
    const base = this.last;
    const rules = this.lastRules;
    const invalid = new Set(this.invalid);
    const canPatch = patch && base !== undefined && rules !== undefined && !this.invalidAll && !this.needsWalk && invalid.size <= MAX_PATCH_PATHS;
    if (canPatch && invalid.size === 0) {
      this.lastStats = { ...this.counting };
      return base;
    }
    const startMs = performance.timeOrigin + performance.now();
    if (canPatch) {
      this.invalid.clear();
      const s = await this.patchSnapshot(base, rules, invalid, startMs);
      if (s !== undefined) return s;
      // A change the patch cannot follow (beneath an ignored folder with exceptions): walk.
      for (const p of invalid) this.invalid.add(p);
    }
    return this.walkSnapshot(startMs);
  }

  private async walkSnapshot(startMs: number): Promise<ContextSnapshot> {
    const problems: string[] = [];
    const { file: ignoreFile, rules } = await this.readIgnore(problems);
    const run = this.newRun(rules, problems, startMs);
    this.invalid.clear();
    this.invalidAll = false;
    this.needsWalk = false;
    let rootMode = 0;
    try {
      const st = this.lstat(this.root);
      rootMode = st.mode;
      if (!st.isDirectory()) problems.push(`the build context ${this.root} is not a directory`);
      else await this.walk(run, this.list(run, '', this.root));
    } catch (e) {
      problems.push(`cannot read the build context ${this.root}: ${errMessage(e)}`);
    }
    const base = this.last;
    const snapshot: ContextSnapshot = {
      root: this.root,
      entries: EntryTable.of(run.entries),
      rootMode,
      ignoreFile,
      ignorePatterns: rules.patterns,
      problems,
    };
    if (base !== undefined) {
      // Tell the index what differs from the last snapshot: it carries the rest over.
      const changed: string[] = [];
      let trustChanged = false;
      for (const [rel, e] of snapshot.entries) {
        const was = base.entries.get(rel);
        if (!sameEntry(was, e)) changed.push(rel);
        else if (was?.mtimeMs !== e.mtimeMs) trustChanged = true;
      }
      for (const rel of base.entries.keys()) if (!snapshot.entries.has(rel)) changed.push(rel);
      if (changed.length === 0 && !trustChanged && rootMode === base.rootMode && sameList(problems, base.problems) && sameList(rules.patterns, base.ignorePatterns) && ignoreFile === base.ignoreFile) {
        return this.finish(run, base, rules);
      }
      notePatch(snapshot, base, changed);
    }
    return this.finish(run, snapshot, rules);
  }

  /**
   * The last snapshot with the invalidated paths read again: each is stat'ed and (a directory)
   * walked; entries beneath it that are gone are dropped. Undefined when a walk is needed instead.
   */
  private async patchSnapshot(base: ContextSnapshot, rules: IgnoreRules, invalid: Set<string>, startMs: number): Promise<ContextSnapshot | undefined> {
    const run = this.newRun(rules, [], startMs);
    run.invalid = invalid;
    const hasExceptions = rules.patterns.some((p) => p.startsWith('!'));
    const ignored = (rel: string): boolean => {
      for (let p = rel; p !== ''; p = parentOf(p)) if (rules.ignores?.(p) === true) return true;
      return false;
    };
    // The outermost changed paths; for a new folder, the outermost folder that is new.
    const seeds: string[] = [];
    for (const p of [...invalid].sort((a, b) => a.length - b.length)) {
      let seed = p;
      for (let a = parentOf(p); a !== ''; a = parentOf(a)) if (!base.entries.has(a)) seed = a;
      if (seeds.some((s) => isUnder(seed, s))) continue;
      if (hasExceptions && ignored(seed)) return undefined;
      seeds.push(seed);
    }
    const changes = new Map<string, ContextEntry | null>();
    const seedDirs = seeds.filter((s) => base.entries.get(s)?.type === 'dir');
    for (const s of seeds) if (base.entries.has(s)) changes.set(s, null);
    if (seedDirs.length > 0) {
      for (const rel of base.entries.keys()) if (seedDirs.some((d) => rel.startsWith(d + '/'))) changes.set(rel, null);
    }
    const tasks: Task[] = [];
    for (const seed of seeds) {
      if (ignored(seed)) continue;
      tasks.push({ rel: seed, abs: path.join(this.root, ...seed.split('/')), isDir: undefined });
    }
    run.discovered = tasks.length;
    await this.walk(run, tasks);
    if (run.pendingDirs.size > 0) return undefined;
    for (const [rel, e] of run.entries) changes.set(rel, e);
    // Unchanged entries (a save that wrote the same bytes) are not changes.
    for (const [rel, e] of changes) if (sameEntry(base.entries.get(rel), e ?? undefined)) changes.delete(rel);
    const problems = base.problems.filter((p) => {
      const at = problemPath(p);
      return at === undefined || !seeds.some((s) => isUnder(at, s));
    });
    problems.push(...run.problems);
    const snapshot: ContextSnapshot = { ...base, entries: (base.entries as EntryTable).with(changes), problems };
    notePatch(snapshot, base, changes.keys());
    return this.finish(run, snapshot, rules);
  }

  private newRun(rules: IgnoreRules, problems: string[], startMs: number): WalkRun {
    return {
      entries: new Map(),
      pendingDirs: new Map(),
      problems,
      rules,
      invalidAll: this.invalidAll,
      invalid: new Set(this.invalid),
      startMs,
      discovered: 0,
      done: 0,
      lastProgress: 0,
    };
  }

  private finish(run: WalkRun, snapshot: ContextSnapshot, rules: IgnoreRules): ContextSnapshot {
    this.last = snapshot;
    this.lastRules = rules;
    this.lastStats = { ...this.counting };
    this.onProgress?.(run.done, run.discovered);
    return snapshot;
  }

  // --- seams for tests (a subclass can make a read fail the way a non-root user would see it) ---

  protected readDir(abs: string): fs.Dirent[] {
    return fs.readdirSync(abs, { withFileTypes: true });
  }

  /** Opens a file without blocking on a FIFO swapped in after lstat, and without following a link. */
  protected openFile(abs: string): number {
    return fs.openSync(abs, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW);
  }

  // ---

  /** BuildKit's dockerui: `<Dockerfile>.dockerignore` (beside the Dockerfile) replaces the context's `.dockerignore` when it exists. */
  private ignoreCandidates(): string[] {
    return [...(this.dockerfile === undefined ? [] : [this.dockerfile + '.dockerignore']), path.join(this.root, '.dockerignore')];
  }

  private async readIgnore(problems: string[]): Promise<{ file: string | undefined; rules: IgnoreRules }> {
    for (const file of this.ignoreCandidates()) {
      let text: string;
      try {
        text = await fsp.readFile(file, 'utf8');
      } catch (e) {
        if (VANISHED.has(errCode(e))) continue;
        problems.push(`cannot read ${file}: ${errMessage(e)}`);
        return { file, rules: compileIgnore([], []) };
      }
      const rules = parseIgnoreFile(text, path.basename(file));
      problems.push(...rules.problems);
      return { file, rules };
    }
    return { file: undefined, rules: compileIgnore([], []) };
  }

  private lstat(abs: string): fs.Stats {
    this.counting.statCalls++;
    return fs.lstatSync(abs);
  }

  /** Yields to the event loop when this slice of synchronous work is used up. */
  private async pause(run: WalkRun | undefined): Promise<void> {
    if (performance.now() - this.sliceStart < SLICE_MS) return;
    if (run !== undefined) this.progress(run);
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.sliceStart = performance.now();
  }

  private progress(run: WalkRun): void {
    if (this.onProgress === undefined) return;
    const now = Date.now();
    if (now - run.lastProgress < 100) return;
    run.lastProgress = now;
    this.onProgress(run.done, run.discovered);
  }

  /**
   * Visits every entry, depth first (what waits is one folder's listing per level, not a whole
   * level of the tree), yielding between slices.
   */
  private async walk(run: WalkRun, first: Task[]): Promise<void> {
    const stack: Task[] = first.reverse();
    this.sliceStart = performance.now();
    for (let task = stack.pop(); task !== undefined; task = stack.pop()) {
      try {
        const r = this.visit(run, task);
        const children = Array.isArray(r) ? r : await r;
        for (let i = children.length - 1; i >= 0; i--) stack.push(children[i] as Task);
      } catch (e) {
        run.problems.push(`${task.rel}: ${errMessage(e)}; left out`);
      }
      run.done++;
      await this.pause(run);
    }
    if (run.pendingDirs.size > 0) {
      // fsutil sends an ignored directory just before the first entry it lets through beneath it.
      const emitted = new Set<string>();
      for (const rel of [...run.entries.keys()]) {
        for (let p = parentOf(rel); p !== ''; p = parentOf(p)) {
          if (emitted.has(p)) break;
          const d = run.pendingDirs.get(p);
          if (d === undefined) continue;
          emitted.add(p);
          run.entries.set(p, d);
        }
      }
    }
  }

  /** The entries of one directory as tasks. */
  private list(run: WalkRun, rel: string, abs: string, ignored = false): Task[] {
    let dirents: fs.Dirent[];
    try {
      dirents = this.readDir(abs);
    } catch (e) {
      // fsutil passes over a permission error on a path it would not send anyway.
      if (ignored && (errCode(e) === 'EACCES' || errCode(e) === 'EPERM')) return [];
      const what = rel === '' ? 'the context root' : rel;
      if (VANISHED.has(errCode(e))) run.problems.push(`${what}: removed while reading the context; left out`);
      else run.problems.push(`${what}: cannot list the directory (${errCode(e)}); BuildKit fails the build when it cannot send it`);
      return [];
    }
    run.discovered += dirents.length;
    return dirents.map((d) => ({ rel: rel === '' ? d.name : `${rel}/${d.name}`, abs: path.join(abs, d.name), isDir: d.isDirectory() }));
  }

  /**
   * One entry: lstat once, then hash it (or reuse the hash); a directory returns its children. A
   * large file is read in slices (a promise); everything else synchronously.
   */
  private visit(run: WalkRun, { rel, abs, isDir }: Task): Task[] | Promise<Task[]> {
    const ignored = run.rules.ignores?.(rel) ?? false;
    if (ignored && isDir === false) return [];
    if (ignored && isDir === true && run.rules.canPrune(rel)) return [];
    let st: fs.Stats;
    try {
      st = this.lstat(abs);
    } catch (e) {
      // A path named by a file event that is gone: deleted, nothing to say.
      if (isDir === undefined && VANISHED.has(errCode(e))) return [];
      if (VANISHED.has(errCode(e))) run.problems.push(`${rel}: removed while reading the context; left out`);
      else run.problems.push(`${rel}: cannot stat (${errCode(e)}); left out`);
      return [];
    }
    if (st.isDirectory()) {
      if (ignored && run.rules.canPrune(rel)) return [];
      const entry = this.entryFor(rel, st, undefined, sha256Hex(tarsumHeader(headerFor(st, undefined))), false);
      // An ignored directory is walked only for exception patterns that may reach inside it.
      if (ignored) run.pendingDirs.set(rel, entry);
      else run.entries.set(rel, entry);
      return this.list(run, rel, abs, ignored);
    }
    if (ignored) return [];
    const cached = this.reusable(run, rel, st);
    if (st.isSymbolicLink()) {
      let target = cached?.linkTarget;
      if (target === undefined) {
        try {
          target = fs.readlinkSync(abs);
          if (process.platform === 'win32') target = target.replace(/\\/g, '/'); // the client sends it with `/`
        } catch (e) {
          if (VANISHED.has(errCode(e)) || errCode(e) === 'EINVAL') run.problems.push(`${rel}: removed while reading the context; left out`);
          else run.problems.push(`${rel}: cannot read the link (${errCode(e)}); left out`);
          return [];
        }
      }
      const hash = sha256Hex(tarsumHeader(headerFor(st, target)));
      run.entries.set(rel, this.entryFor(rel, st, target, hash, this.trustable(run, st)));
      return [];
    }
    if (!st.isFile()) {
      // FIFOs, sockets, devices: header only, never opened.
      run.entries.set(rel, this.entryFor(rel, st, undefined, sha256Hex(tarsumHeader(headerFor(st, undefined))), false));
      return [];
    }
    if (cached !== undefined) {
      this.counting.reusedFiles++;
      run.entries.set(rel, this.entryFor(rel, st, undefined, cached.hash, this.trustable(run, st)));
      return [];
    }
    const done = (r: HashResult): Task[] => {
      if (r.problem !== undefined) run.problems.push(r.problem);
      if (r.hash === undefined) return [];
      this.counting.hashedFiles++;
      run.entries.set(rel, this.entryFor(rel, st, undefined, r.hash, r.cacheable && this.trustable(run, st)));
      return [];
    };
    const r = this.hashFile(run, rel, abs, st);
    return r instanceof Promise ? r.then(done) : done(r);
  }

  /** `reusable`: the stat fields that let the next snapshot trust this hash without reading the file. */
  private entryFor(rel: string, st: fs.Stats, linkTarget: string | undefined, hash: string, reusable: boolean): ContextEntry {
    const type = entryType(st);
    const entry: ContextEntry = { path: rel, type, mode: st.mode, size: headerFor(st, linkTarget).size, hash, linkTarget };
    if (reusable) {
      entry.statSize = st.size;
      entry.mtimeMs = st.mtimeMs;
      entry.ino = st.ino;
    }
    return entry;
  }

  /** Git's "racily clean" rule: a file modified in the same clock tick as this snapshot could
   * change again without its mtime moving, so its hash is not trusted next time. */
  private trustable(run: WalkRun, st: fs.Stats): boolean {
    return st.mtimeMs < run.startMs;
  }

  /** The last snapshot's entry when size, mtime, inode and mode are unchanged and nothing invalidated it. */
  private reusable(run: WalkRun, rel: string, st: fs.Stats): ContextEntry | undefined {
    if (run.invalidAll) return undefined;
    const c = this.last?.entries.get(rel);
    if (c?.mtimeMs === undefined) return undefined;
    if (c.statSize !== st.size || c.mtimeMs !== st.mtimeMs || c.ino !== st.ino || c.mode !== st.mode) return undefined;
    if (run.invalid.size > 0) {
      for (let p = rel; ; p = p.slice(0, p.lastIndexOf('/'))) {
        if (run.invalid.has(p)) return undefined;
        if (!p.includes('/')) break;
      }
    }
    return c;
  }

  /**
   * Header + content of a regular file. A vanished file is dropped; an unreadable one is hashed
   * with an empty body, as the client sends it (fsutil's sender ignores the open error). A file
   * larger than one chunk is read chunk by chunk between pauses (a promise).
   */
  private hashFile(run: WalkRun, rel: string, abs: string, st: fs.Stats): HashResult | Promise<HashResult> {
    const header = tarsumHeader(headerFor(st, undefined));
    if (st.size === 0) return { hash: sha256Hex(header), cacheable: true };
    let fd: number;
    try {
      fd = this.openFile(abs);
    } catch (e) {
      const code = errCode(e);
      if (VANISHED.has(code) || code === 'ELOOP') return { hash: undefined, cacheable: false, problem: `${rel}: removed or replaced while reading the context; left out` };
      return {
        hash: sha256Hex(header),
        cacheable: false,
        problem: `${rel}: cannot be read (${code}); BuildKit receives it empty, so its content is not part of the cache key`,
      };
    }
    const buf = this.buffer;
    // Regular files give short reads only at the end, so asking for one byte more than lstat's
    // size usually reads a small file in one call.
    const first = Math.min(buf.length, st.size + 1);
    let bytesRead: number;
    try {
      bytesRead = fs.readSync(fd, buf, 0, first, null);
    } catch (e) {
      closeQuietly(fd);
      return { hash: undefined, cacheable: false, problem: `${rel}: read failed (${errCode(e)}); left out` };
    }
    if (bytesRead < first && bytesRead === st.size) {
      // Read whole in one call at lstat's size: trusted without another stat (a write during the
      // read leaves an mtime the next snapshot's lstat does not trust).
      closeQuietly(fd);
      const hb = Buffer.from(header, 'latin1');
      return { hash: sha256Hex(Buffer.concat([hb, buf.subarray(0, bytesRead)], hb.length + bytesRead)), cacheable: true };
    }
    const h = createHash('sha256').update(header).update(buf.subarray(0, bytesRead));
    if (bytesRead < first) return this.finishRead(rel, fd, st, h);
    return this.readRest(run, rel, fd, st, h);
  }

  /** The chunks after the first, with pauses between them. */
  private async readRest(run: WalkRun, rel: string, fd: number, st: fs.Stats, h: ReturnType<typeof createHash>): Promise<HashResult> {
    // The walk waits for this file before the next entry: the one buffer is free.
    const buf = this.buffer;
    try {
      for (;;) {
        await this.pause(run);
        const n = fs.readSync(fd, buf, 0, buf.length, null);
        if (n === 0) break;
        h.update(buf.subarray(0, n));
        if (n < buf.length) break;
      }
    } catch (e) {
      closeQuietly(fd);
      return { hash: undefined, cacheable: false, problem: `${rel}: read failed (${errCode(e)}); left out` };
    }
    return this.finishRead(rel, fd, st, h);
  }

  /** One fstat after reading: the same file (not swapped, not a FIFO) and unchanged meanwhile. */
  private finishRead(rel: string, fd: number, st: fs.Stats, h: ReturnType<typeof createHash>): HashResult {
    try {
      this.counting.statCalls++;
      const after = fs.fstatSync(fd);
      if (!after.isFile() || after.ino !== st.ino) {
        return { hash: undefined, cacheable: false, problem: `${rel}: replaced while reading the context; left out` };
      }
      const changed = after.size !== st.size || after.mtimeMs !== st.mtimeMs;
      return {
        hash: h.digest('hex'),
        cacheable: !changed,
        ...(changed ? { problem: `${rel}: changed while being read; its hash may not match what BuildKit receives` } : {}),
      };
    } catch (e) {
      return { hash: undefined, cacheable: false, problem: `${rel}: read failed (${errCode(e)}); left out` };
    } finally {
      closeQuietly(fd);
    }
  }
}

interface HashResult {
  hash: string | undefined;
  cacheable: boolean;
  problem?: string;
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // Nothing to do: the descriptor is gone either way.
  }
}

function parentOf(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i < 0 ? '' : rel.slice(0, i);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** 'a/b', './a/b/', '/a/b' -> 'a/b'; '.', '' -> ''. */
function normalizeRel(p: string): string {
  const c = path.posix.normalize('/' + p);
  return c === '/' ? '' : c.replace(/^\/+/, '').replace(/\/+$/, '');
}
