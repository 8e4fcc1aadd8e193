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

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { ContextEntry } from './types';
import { cleanPattern, compileIgnore, type IgnoreRules } from './sourceSelection';

export {
  selectSources, goPathMatch, validateGoPattern, compileIgnore, escapeForBalena,
  type SourceSelection, type SelectOptions, type IgnoreRules,
} from './sourceSelection';

export interface ContextSnapshot {
  /** Absolute context directory. */
  root: string;
  /** Every entry BuildKit would receive (after `.dockerignore`), keyed by relative path; the root ('') is not included. */
  entries: Map<string, ContextEntry>;
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
  /** File system operations in flight at once (default 16). */
  concurrency?: number;
}

/** What a warm snapshot needs to trust an earlier hash. */
interface CachedStat {
  size: number;
  mtimeMs: number;
  ino: number;
  mode: number;
  hash: string;
  linkTarget: string | undefined;
}

const CACHE_VERSION = 1;
const READ_CHUNK = 1 << 20;
const MAX_POOLED_BUFFERS = 32;

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

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

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

/** One directory entry to visit. */
interface Task {
  rel: string;
  abs: string;
  dirent: fs.Dirent;
}

interface WalkRun {
  entries: Map<string, ContextEntry>;
  /** Ignored directories walked for exception patterns: sent only if something beneath is. */
  pendingDirs: Map<string, ContextEntry>;
  problems: string[];
  rules: IgnoreRules;
  nextCache: Map<string, CachedStat>;
  /** What invalidate() had marked when this snapshot started (later calls wait for the next one). */
  invalidAll: boolean;
  invalid: Set<string>;
  startMs: number;
  discovered: number;
  done: number;
  lastProgress: number;
}

export class ContextHasher {
  readonly root: string;
  private readonly dockerfile: string | undefined;
  private readonly onProgress: ((done: number, total: number) => void) | undefined;
  private readonly concurrency: number;
  private cache = new Map<string, CachedStat>();
  private readonly invalid = new Set<string>();
  private invalidAll = false;
  private readonly buffers: Buffer[] = [];
  private lastStats: HasherStats = { hashedFiles: 0, reusedFiles: 0, statCalls: 0 };
  /** snapshot() calls run one after another: they share the stat cache and the counters. */
  private tail: Promise<unknown> = Promise.resolve();
  private counting: HasherStats = { hashedFiles: 0, reusedFiles: 0, statCalls: 0 };

  constructor(root: string, options: ContextHasherOptions = {}) {
    this.root = path.resolve(root);
    this.dockerfile = options.dockerfile === undefined ? undefined : path.resolve(this.root, options.dockerfile);
    this.onProgress = options.onProgress;
    this.concurrency = Math.max(1, Math.floor(options.concurrency ?? 16));
  }

  /** Counters of the last snapshot(). */
  get stats(): HasherStats {
    return { ...this.lastStats };
  }

  /** The next snapshot re-hashes these paths (a directory: everything beneath it too). */
  invalidate(relativePaths: readonly string[]): void {
    for (const p of relativePaths) {
      const rel = normalizeRel(p);
      if (rel === '') this.invalidAll = true;
      else this.invalid.add(rel);
    }
  }

  exportCache(): unknown {
    const entries: Array<[string, number, number, number, number, string, string | null]> = [];
    for (const [rel, c] of this.cache) entries.push([rel, c.size, c.mtimeMs, c.ino, c.mode, c.hash, c.linkTarget ?? null]);
    return { version: CACHE_VERSION, root: this.root, entries };
  }

  /** Takes a cache written by exportCache(); anything malformed (or for another root) is ignored. */
  importCache(data: unknown): void {
    if (typeof data !== 'object' || data === null) return;
    const d = data as { version?: unknown; root?: unknown; entries?: unknown };
    if (d.version !== CACHE_VERSION || d.root !== this.root || !Array.isArray(d.entries)) return;
    const next = new Map<string, CachedStat>();
    for (const e of d.entries as unknown[]) {
      if (!Array.isArray(e) || e.length !== 7) continue;
      const [rel, size, mtimeMs, ino, mode, hash, link] = e as unknown[];
      if (typeof rel !== 'string' || rel === '' || normalizeRel(rel) !== rel) continue;
      if (!isNum(size) || !isNum(mtimeMs) || !isNum(ino) || !isNum(mode)) continue;
      if (typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash)) continue;
      if (link !== null && typeof link !== 'string') continue;
      next.set(rel, { size, mtimeMs, ino, mode, hash, linkTarget: link ?? undefined });
    }
    this.cache = next;
  }

  snapshot(): Promise<ContextSnapshot> {
    const next = this.tail.then(() => this.takeSnapshot());
    this.tail = next.catch(() => undefined);
    return next;
  }

  private async takeSnapshot(): Promise<ContextSnapshot> {
    this.counting = { hashedFiles: 0, reusedFiles: 0, statCalls: 0 };
    const problems: string[] = [];
    const { file: ignoreFile, rules } = await this.readIgnore(problems);
    const run: WalkRun = {
      entries: new Map(),
      pendingDirs: new Map(),
      problems,
      rules,
      nextCache: new Map(),
      invalidAll: this.invalidAll,
      invalid: new Set(this.invalid),
      startMs: performance.timeOrigin + performance.now(),
      discovered: 0,
      done: 0,
      lastProgress: 0,
    };
    this.invalid.clear();
    this.invalidAll = false;
    let rootMode = 0;
    try {
      const st = await this.lstat(this.root);
      rootMode = st.mode;
      if (!st.isDirectory()) problems.push(`the build context ${this.root} is not a directory`);
      else await this.walk(run);
    } catch (e) {
      problems.push(`cannot read the build context ${this.root}: ${errMessage(e)}`);
    }
    this.cache = run.nextCache;
    this.lastStats = { ...this.counting };
    this.onProgress?.(run.done, run.discovered);
    return {
      root: this.root,
      entries: run.entries,
      rootMode,
      ignoreFile,
      ignorePatterns: rules.patterns,
      problems,
    };
  }

  // --- seams for tests (a subclass can make a read fail the way a non-root user would see it) ---

  protected readDir(abs: string): Promise<fs.Dirent[]> {
    return fsp.readdir(abs, { withFileTypes: true });
  }

  /** Opens a file without blocking on a FIFO swapped in after lstat, and without following a link. */
  protected openFile(abs: string): Promise<fsp.FileHandle> {
    return fsp.open(abs, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW);
  }

  // ---

  private async readIgnore(problems: string[]): Promise<{ file: string | undefined; rules: IgnoreRules }> {
    // BuildKit's dockerui: `<Dockerfile>.dockerignore` (read beside the Dockerfile) replaces the
    // context's `.dockerignore` when it exists.
    const candidates = [...(this.dockerfile === undefined ? [] : [this.dockerfile + '.dockerignore']), path.join(this.root, '.dockerignore')];
    for (const file of candidates) {
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

  private async lstat(abs: string): Promise<fs.Stats> {
    this.counting.statCalls++;
    return fsp.lstat(abs);
  }

  private progress(run: WalkRun): void {
    if (this.onProgress === undefined) return;
    const now = Date.now();
    if (now - run.lastProgress < 100) return;
    run.lastProgress = now;
    this.onProgress(run.done, run.discovered);
  }

  /**
   * Visits every entry with at most `concurrency` visits (each a few file system calls) in flight,
   * from one queue: no promise per waiting entry, which matters at 100k files.
   */
  private async walk(run: WalkRun): Promise<void> {
    let queue: Array<Task | undefined> = await this.list(run, '', this.root);
    let head = 0;
    let running = 0;
    await new Promise<void>((resolve) => {
      const pump = (): void => {
        while (running < this.concurrency && head < queue.length) {
          const task = queue[head];
          queue[head++] = undefined;
          if (task === undefined) continue;
          running++;
          void this.visit(run, task)
            .then(
              (children) => {
                for (const c of children) queue.push(c);
              },
              (e: unknown) => {
                run.problems.push(`${task.rel}: ${errMessage(e)}; left out`);
              },
            )
            .finally(() => {
              running--;
              run.done++;
              this.progress(run);
              if (head > 4096 && head * 2 > queue.length) {
                queue = queue.slice(head);
                head = 0;
              }
              if (running === 0 && head >= queue.length) resolve();
              else pump();
            });
        }
      };
      pump();
      if (running === 0) resolve();
    });
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
  private async list(run: WalkRun, rel: string, abs: string, ignored = false): Promise<Task[]> {
    let dirents: fs.Dirent[];
    try {
      dirents = await this.readDir(abs);
    } catch (e) {
      // fsutil passes over a permission error on a path it would not send anyway.
      if (ignored && (errCode(e) === 'EACCES' || errCode(e) === 'EPERM')) return [];
      const what = rel === '' ? 'the context root' : rel;
      if (VANISHED.has(errCode(e))) run.problems.push(`${what}: removed while reading the context; left out`);
      else run.problems.push(`${what}: cannot list the directory (${errCode(e)}); BuildKit fails the build when it cannot send it`);
      return [];
    }
    run.discovered += dirents.length;
    return dirents.map((d) => ({ rel: rel === '' ? d.name : `${rel}/${d.name}`, abs: path.join(abs, d.name), dirent: d }));
  }

  /** One entry: lstat once, then hash it (or reuse the hash); a directory returns its children. */
  private async visit(run: WalkRun, { rel, abs, dirent }: Task): Promise<Task[]> {
    const ignored = run.rules.ignores?.(rel) ?? false;
    if (ignored && (!dirent.isDirectory() || run.rules.canPrune(rel))) return [];
    let st: fs.Stats;
    try {
      st = await this.lstat(abs);
    } catch (e) {
      if (VANISHED.has(errCode(e))) run.problems.push(`${rel}: removed while reading the context; left out`);
      else run.problems.push(`${rel}: cannot stat (${errCode(e)}); left out`);
      return [];
    }
    if (st.isDirectory()) {
      const entry = this.entryFor(rel, st, undefined, sha256Hex(tarsumHeader(headerFor(st, undefined))));
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
          target = await fsp.readlink(abs);
          if (process.platform === 'win32') target = target.replace(/\\/g, '/'); // the client sends it with `/`
        } catch (e) {
          if (VANISHED.has(errCode(e)) || errCode(e) === 'EINVAL') run.problems.push(`${rel}: removed while reading the context; left out`);
          else run.problems.push(`${rel}: cannot read the link (${errCode(e)}); left out`);
          return [];
        }
      }
      const hash = sha256Hex(tarsumHeader(headerFor(st, target)));
      run.entries.set(rel, this.entryFor(rel, st, target, hash));
      this.remember(run, rel, st, hash, target);
      return [];
    }
    if (!st.isFile()) {
      // FIFOs, sockets, devices: header only, never opened.
      run.entries.set(rel, this.entryFor(rel, st, undefined, sha256Hex(tarsumHeader(headerFor(st, undefined)))));
      return [];
    }
    if (cached !== undefined) {
      this.counting.reusedFiles++;
      run.entries.set(rel, this.entryFor(rel, st, undefined, cached.hash));
      this.remember(run, rel, st, cached.hash, undefined);
      return [];
    }
    const r = await this.hashFile(rel, abs, st);
    if (r.problem !== undefined) run.problems.push(r.problem);
    if (r.hash === undefined) return [];
    this.counting.hashedFiles++;
    run.entries.set(rel, this.entryFor(rel, st, undefined, r.hash));
    if (r.cacheable) this.remember(run, rel, st, r.hash, undefined);
    return [];
  }

  private entryFor(rel: string, st: fs.Stats, linkTarget: string | undefined, hash: string): ContextEntry {
    const type = entryType(st);
    return { path: rel, type, mode: st.mode, size: headerFor(st, linkTarget).size, hash, linkTarget };
  }

  /** The cached hash when size, mtime, inode and mode are unchanged and nothing invalidated it. */
  private reusable(run: WalkRun, rel: string, st: fs.Stats): CachedStat | undefined {
    if (run.invalidAll) return undefined;
    const c = this.cache.get(rel);
    if (c === undefined) return undefined;
    if (c.size !== st.size || c.mtimeMs !== st.mtimeMs || c.ino !== st.ino || c.mode !== st.mode) return undefined;
    if (run.invalid.size > 0) {
      for (let p = rel; ; p = p.slice(0, p.lastIndexOf('/'))) {
        if (run.invalid.has(p)) return undefined;
        if (!p.includes('/')) break;
      }
    }
    return c;
  }

  private remember(run: WalkRun, rel: string, st: fs.Stats, hash: string, linkTarget: string | undefined): void {
    // Git's "racily clean" rule: a file modified in the same clock tick as this snapshot could
    // change again without its mtime moving, so it is not trusted next time.
    if (st.mtimeMs >= run.startMs) return;
    run.nextCache.set(rel, { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, mode: st.mode, hash, linkTarget });
  }

  private takeBuffer(): Buffer {
    return this.buffers.pop() ?? Buffer.allocUnsafe(READ_CHUNK);
  }

  private giveBuffer(b: Buffer): void {
    if (this.buffers.length < MAX_POOLED_BUFFERS) this.buffers.push(b);
  }

  /** Header + content of a regular file. A vanished file is dropped; an unreadable one is hashed
   * with an empty body, as the client sends it (fsutil's sender ignores the open error). */
  private async hashFile(rel: string, abs: string, st: fs.Stats): Promise<{ hash: string | undefined; cacheable: boolean; problem?: string }> {
    const h = createHash('sha256').update(tarsumHeader(headerFor(st, undefined)));
    if (st.size === 0) return { hash: h.digest('hex'), cacheable: true };
    let fh: fsp.FileHandle;
    try {
      fh = await this.openFile(abs);
    } catch (e) {
      const code = errCode(e);
      if (VANISHED.has(code) || code === 'ELOOP') return { hash: undefined, cacheable: false, problem: `${rel}: removed or replaced while reading the context; left out` };
      return {
        hash: h.digest('hex'),
        cacheable: false,
        problem: `${rel}: cannot be read (${code}); BuildKit receives it empty, so its content is not part of the cache key`,
      };
    }
    const buf = this.takeBuffer();
    try {
      // Regular files give short reads only at the end, so asking for one byte more than lstat's
      // size usually reads a small file in one call.
      let want = Math.min(buf.length, st.size + 1);
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, want, null);
        if (bytesRead === 0) break;
        h.update(buf.subarray(0, bytesRead));
        if (bytesRead < want) break;
        want = buf.length;
      }
      // One fstat after reading: the same file (not swapped, not a FIFO) and unchanged meanwhile.
      this.counting.statCalls++;
      const after = await fh.stat();
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
      this.giveBuffer(buf);
      await fh.close().catch(() => undefined);
    }
  }
}

function parentOf(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i < 0 ? '' : rel.slice(0, i);
}

function isNum(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** 'a/b', './a/b/', '/a/b' -> 'a/b'; '.', '' -> ''. */
function normalizeRel(p: string): string {
  const c = path.posix.normalize('/' + p);
  return c === '/' ? '' : c.replace(/^\/+/, '').replace(/\/+$/, '');
}
