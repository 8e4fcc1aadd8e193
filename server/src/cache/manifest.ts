/**
 * The recorded builds: what BuildKit did with each step, per build configuration, kept on disk so
 * that the next prediction knows which cache keys the builder has seen.
 *
 * Layout: `<dir>/<sha256(builder)[:16]>/<sha256(canonical config)>.json`, one file per config, so a
 * damaged file only costs that configuration's history. Writes are atomic (temp file, fsync,
 * rename) and serialised by a lock file, under which the file is re-read and merged, so two
 * builds finishing together (even in two processes) both stay recorded.
 */

import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as zlib from 'node:zlib';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BuildConfig, BuildRecord, StepRecord, StepResult } from './types';

export const MANIFEST_VERSION = 1;
/** Builds kept per configuration. */
export const MAX_BUILDS = 10;
/**
 * A step that selected more files than this keeps their list beside the manifest
 * (`files/<id>.json.gz` in the builder's folder, shared by every record with the same list), so
 * that reading the manifest, which happens on every prediction, stays cheap.
 */
export const INLINE_FILES = 256;
/** Hex digits of each file's hash kept in a list: enough to tell that a file changed. */
export const LIST_HASH_DIGITS = 16;
const FILE_LIST_VERSION = 1;
/** A list no manifest names is deleted only after this long (another process may be about to name it). */
const LIST_GRACE_MS = 10 * 60_000;

/** The identity of a file list: equal lists, equal ids. */
export function fileListId(files: ReadonlyArray<{ path: string; hash: string }>): string {
  const h = createHash('sha256');
  for (const f of files) h.update(`${f.path}\0${f.hash.slice(0, LIST_HASH_DIGITS)}\n`);
  return h.digest('hex');
}

export interface ManifestFile {
  version: 1;
  config: BuildConfig;
  /** Newest first. */
  builds: BuildRecord[];
}

export type KnownStep = StepRecord & { time: string };

export type ManifestErrorCode = 'newer-version' | 'locked' | 'io';

/** What `record` and `forget` throw: a message for the user, a code for the caller. */
export class ManifestError extends Error {
  constructor(readonly code: ManifestErrorCode, message: string, readonly file: string) {
    super(message);
    this.name = 'ManifestError';
  }
}

export interface ManifestStoreOptions {
  /** Give up waiting for another writer's lock after this long (default 10 s). */
  lockTimeoutMs?: number;
  /** A lock older than this is abandoned (default 30 s; a write holds it for milliseconds). */
  staleLockMs?: number;
  /** Builds kept per configuration (default MAX_BUILDS). */
  maxBuilds?: number;
  /** A file list no record names is deleted once older than this (default 10 min). */
  listGraceMs?: number;
}

// ------------------------------------------------------------------------------------------------
// Pure helpers
// ------------------------------------------------------------------------------------------------

/** JSON with object keys sorted and undefined members dropped: equal configs, equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : sortKeys(v)));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function configHash(config: BuildConfig): string {
  return sha256(canonicalJson(config));
}

export function builderHash(builder: string): string {
  return sha256(builder).slice(0, 16);
}

function timeOf(t: string): number {
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? 0 : ms;
}

/** Newest first; at most MAX_BUILDS, but the newest successful build stays even when older. */
export function capBuilds(builds: readonly BuildRecord[], max = MAX_BUILDS): BuildRecord[] {
  const seen = new Set<string>();
  const unique = builds.filter((b) => {
    const key = canonicalJson(b);
    if (seen.has(key)) return false; // the same record twice (a retried record())
    seen.add(key);
    return true;
  });
  // Stable: among equal times the caller's order (new record first) wins.
  const sorted = unique.map((b, i) => ({ b, i })).sort((x, y) => timeOf(y.b.time) - timeOf(x.b.time) || x.i - y.i).map((x) => x.b);
  const kept = sorted.slice(0, max);
  if (!kept.some((b) => b.success)) {
    // A run of failures must not erase the last good build: it is what "what changed" compares to.
    const lastGood = sorted.slice(max).find((b) => b.success);
    if (lastGood !== undefined) kept.push(lastGood);
  }
  return kept;
}

const RESULTS: readonly StepResult[] = ['cached', 'built', 'failed', 'not-run'];
const ENGINES = ['buildkit', 'legacy'];

type Parsed =
  | { kind: 'ok'; manifest: ManifestFile }
  | { kind: 'newer'; version: number }
  | { kind: 'invalid'; reason: string };

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

/** Checks the shape of a manifest file's text (enough that the rest of the code can trust it). */
export function parseManifest(text: string): Parsed {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // V8 words a cut-off file in several ways; say plainly that it ends too early.
    const at = /at position (\d+)/.exec(message);
    const truncated = /end of JSON/i.test(message) || (at !== null && Number(at[1]) >= text.trimEnd().length);
    if (text.trim() === '') return { kind: 'invalid', reason: 'the file is empty' };
    return { kind: 'invalid', reason: truncated ? 'unexpected end of JSON: the file is truncated' : lowerFirst(message) };
  }
  if (!isRecord(value)) return { kind: 'invalid', reason: 'not a JSON object' };
  const version = value.version;
  if (typeof version !== 'number') return { kind: 'invalid', reason: 'no version' };
  if (Number.isInteger(version) && version > MANIFEST_VERSION) return { kind: 'newer', version };
  if (version !== MANIFEST_VERSION) return { kind: 'invalid', reason: `unknown version ${version}` };
  const c = value.config;
  if (!isRecord(c) || typeof c.dockerfile !== 'string' || typeof c.context !== 'string' || typeof c.builder !== 'string'
    || typeof c.engine !== 'string' || !ENGINES.includes(c.engine) || !isRecord(c.buildArgs)) {
    return { kind: 'invalid', reason: 'no valid build configuration' };
  }
  if (!Array.isArray(value.builds)) return { kind: 'invalid', reason: 'no list of builds' };
  for (const [i, b] of (value.builds as unknown[]).entries()) {
    if (!isRecord(b) || typeof b.time !== 'string' || typeof b.success !== 'boolean' || typeof b.engine !== 'string'
      || !ENGINES.includes(b.engine) || !Array.isArray(b.steps)) {
      return { kind: 'invalid', reason: `build ${i + 1} is malformed` };
    }
    for (const s of b.steps as unknown[]) {
      if (!isRecord(s) || typeof s.key !== 'string' || typeof s.result !== 'string' || !RESULTS.includes(s.result as StepResult) || !isRecord(s.inputs)) {
        return { kind: 'invalid', reason: `a step of build ${i + 1} is malformed` };
      }
      // The id names a file: nothing but a hash may reach the file system.
      const ref = isRecord(s.inputs) ? s.inputs.filesRef : undefined;
      if (ref !== undefined && (typeof ref !== 'string' || !/^[0-9a-f]{64}$/.test(ref))) {
        return { kind: 'invalid', reason: `a step of build ${i + 1} names a malformed file list` };
      }
    }
  }
  // JSON drops `undefined`: give the declared-but-undefined members back so a loaded record
  // equals the one recorded.
  const manifest = value as unknown as ManifestFile;
  manifest.config = { ...manifest.config, target: manifest.config.target ?? undefined, platform: manifest.config.platform ?? undefined };
  manifest.builds = manifest.builds.map((b) => ({
    ...b,
    steps: b.steps.map((st) => ({ ...st, parentKey: st.parentKey ?? undefined, durationMs: st.durationMs ?? undefined })),
  }));
  return { kind: 'ok', manifest };
}

// ------------------------------------------------------------------------------------------------
// Default location
// ------------------------------------------------------------------------------------------------

const APP = 'dockerfile-cache-lens';

function nonEmpty(s: string | undefined): s is string {
  return s !== undefined && s !== '';
}

// ------------------------------------------------------------------------------------------------
// Files
// ------------------------------------------------------------------------------------------------

function errnoCode(err: unknown): string | undefined {
  return isRecord(err) && typeof err.code === 'string' ? err.code : undefined;
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await fsp.readFile(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Windows refuses to replace a file another process has open for a moment: retry briefly. */
async function renameRetry(from: string, to: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await fsp.rename(from, to);
      return;
    } catch (err) {
      const code = errnoCode(err);
      if (attempt >= 20 || (code !== 'EPERM' && code !== 'EBUSY' && code !== 'EACCES')) throw err;
      await sleep(10 + attempt * 10);
    }
  }
}

/** Temp file in the same directory, fsync, rename: readers see the old file or the new one. */
async function writeAtomic(file: string, text: string | Buffer): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const fh = await fsp.open(tmp, 'w');
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await renameRetry(tmp, file);
  } catch (err) {
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  if (process.platform !== 'win32') {
    // Make the rename itself durable; not possible (nor needed) on every filesystem.
    try {
      const dir = await fsp.open(path.dirname(file), 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    } catch {
      // Best effort.
    }
  }
}

/** A name next to `file` that does not exist yet: `file.corrupt`, then `file.corrupt.2` ... */
async function asideName(file: string): Promise<string> {
  for (let n = 1; ; n++) {
    const candidate = n === 1 ? `${file}.corrupt` : `${file}.corrupt.${n}`;
    try {
      await fsp.access(candidate);
    } catch {
      return candidate;
    }
  }
}

interface LockInfo {
  pid: number;
  host: string;
  time: string;
  token: string;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === 'EPERM'; // exists, owned by someone else
  }
}

// ------------------------------------------------------------------------------------------------
// The store
// ------------------------------------------------------------------------------------------------

export class ManifestStore {
  readonly dir: string;
  private readonly lockTimeoutMs: number;
  private readonly staleLockMs: number;
  private readonly maxBuilds: number;
  private readonly listGraceMs: number;
  /** Writers of this process queue here first, so they do not poll each other's lock file. */
  private readonly queues = new Map<string, Promise<void>>();
  /** Parsed manifest files by path, with the size and mtime they had. */
  private readonly parsed = new Map<string, { size: number; mtimeMs: number; ino: number; manifest: ManifestFile | undefined }>();
  /** The last knownKeys() answer and the files it was made from. */
  private lastKnown: { signature: string; known: Map<string, KnownStep> } | undefined;
  /** File lists read lately (explaining a miss reads the same one on every keystroke). */
  private readonly lists = new Map<string, ReadonlyMap<string, string> | undefined>();

  constructor(dir?: string, options: ManifestStoreOptions = {}) {
    this.dir = dir ?? ManifestStore.defaultDir();
    this.lockTimeoutMs = options.lockTimeoutMs ?? 10_000;
    this.staleLockMs = options.staleLockMs ?? 30_000;
    this.maxBuilds = options.maxBuilds ?? MAX_BUILDS;
    this.listGraceMs = options.listGraceMs ?? LIST_GRACE_MS;
  }

  /**
   * `$DOCKERFILE_CACHE_LENS_HOME/manifests` if set, else the user's cache directory
   * (XDG_CACHE_HOME or ~/.cache on Linux, ~/Library/Caches on macOS, %LOCALAPPDATA% on Windows)
   * + `dockerfile-cache-lens/manifests`.
   */
  static defaultDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
    const p = platform === 'win32' ? path.win32 : path.posix;
    if (nonEmpty(env.DOCKERFILE_CACHE_LENS_HOME)) return p.join(env.DOCKERFILE_CACHE_LENS_HOME, 'manifests');
    if (platform === 'win32') {
      const home = env.USERPROFILE ?? os.homedir();
      const local = nonEmpty(env.LOCALAPPDATA) ? env.LOCALAPPDATA : p.join(home, 'AppData', 'Local');
      return p.join(local, APP, 'manifests');
    }
    const home = nonEmpty(env.HOME) ? env.HOME : os.homedir();
    if (platform === 'darwin') return p.join(home, 'Library', 'Caches', APP, 'manifests');
    // XDG: a relative XDG_CACHE_HOME is invalid and must be ignored.
    const cache = nonEmpty(env.XDG_CACHE_HOME) && p.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : p.join(home, '.cache');
    return p.join(cache, APP, 'manifests');
  }

  /** The file of one configuration. */
  fileFor(config: BuildConfig): string {
    return path.join(this.dir, builderHash(config.builder), `${configHash(config)}.json`);
  }

  /** The recorded builds of a configuration. Never throws: trouble comes back as `problem`. */
  async load(config: BuildConfig): Promise<{ manifest: ManifestFile | undefined; problem: string | undefined }> {
    const file = this.fileFor(config);
    try {
      // Asked on every prediction: a file unchanged since it was last parsed is not parsed again.
      let st: { size: number; mtimeMs: number; ino: number } | undefined;
      try {
        st = await fsp.stat(file);
      } catch {
        st = undefined;
      }
      const cached = this.parsed.get(file);
      if (st !== undefined && cached?.manifest !== undefined && cached.size === st.size && cached.mtimeMs === st.mtimeMs && cached.ino === st.ino) {
        return this.checkConfig(file, config, cached.manifest);
      }
      const text = await readText(file);
      if (text === undefined) return { manifest: undefined, problem: undefined };
      const parsed = parseManifest(text);
      if (parsed.kind === 'ok') {
        if (st !== undefined) this.parsed.set(file, { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, manifest: parsed.manifest });
        return this.checkConfig(file, config, parsed.manifest);
      }
      if (parsed.kind === 'newer') return { manifest: undefined, problem: newerMessage(file, parsed.version) };
      // Under the lock: a writer may have replaced the file since we read it.
      return await this.withLock(file, async () => {
        const again = await readText(file);
        if (again === undefined) return { manifest: undefined, problem: undefined };
        const reparsed = parseManifest(again);
        if (reparsed.kind === 'ok') return this.checkConfig(file, config, reparsed.manifest);
        if (reparsed.kind === 'newer') return { manifest: undefined, problem: newerMessage(file, reparsed.version) };
        const aside = await this.moveAside(file);
        return { manifest: undefined, problem: corruptMessage(file, reparsed.reason, aside) };
      });
    } catch (err) {
      return { manifest: undefined, problem: `Could not read the build history ${file}: ${errMessage(err)}` };
    }
  }

  /** Where the file lists of a builder's records are kept. */
  listDir(builder: string): string {
    return path.join(this.dir, builderHash(builder), 'files');
  }

  /**
   * Adds a build (newest first, capped), and the file lists its steps name by `filesRef`. Throws a
   * ManifestError when the file belongs to a newer version, or when another writer holds the lock
   * for too long.
   */
  async record(config: BuildConfig, build: BuildRecord, fileLists: ReadonlyMap<string, ReadonlyArray<{ path: string; hash: string }>> = new Map()): Promise<void> {
    const file = this.fileFor(config);
    await fsp.mkdir(path.dirname(file), { recursive: true });
    if (fileLists.size > 0) await this.writeLists(config.builder, fileLists);
    await this.withLock(file, async () => {
      const text = await readText(file);
      let previous: BuildRecord[] = [];
      if (text !== undefined) {
        const parsed = parseManifest(text);
        if (parsed.kind === 'newer') {
          throw new ManifestError('newer-version', `${newerMessage(file, parsed.version)} This build was not recorded.`, file);
        }
        if (parsed.kind === 'invalid') await this.moveAside(file);
        else if (canonicalJson(parsed.manifest.config) === canonicalJson(config)) previous = parsed.manifest.builds;
        else await this.moveAside(file);
      }
      const manifest: ManifestFile = { version: MANIFEST_VERSION, config, builds: capBuilds([build, ...previous], this.maxBuilds) };
      await writeAtomic(file, JSON.stringify(manifest, null, 1) + '\n');
    });
    // Lists no record names any more (builds dropped by the cap, forgotten configurations).
    await this.collectLists(config.builder).catch(() => undefined);
  }

  /**
   * A file list named by a recorded step (path -> the first LIST_HASH_DIGITS hex digits of its
   * hash); undefined when it is gone or unreadable. Synchronous: predictions ask for it while
   * explaining a miss, and it is kept once read.
   */
  fileList(builder: string, ref: string): ReadonlyMap<string, string> | undefined {
    if (!/^[0-9a-f]{64}$/.test(ref)) return undefined;
    const id = `${builder}\0${ref}`;
    if (this.lists.has(id)) return this.lists.get(id);
    let list: Map<string, string> | undefined;
    try {
      const data: unknown = JSON.parse(zlib.gunzipSync(fs.readFileSync(path.join(this.listDir(builder), `${ref}.json.gz`))).toString('utf8'));
      if (isRecord(data) && data.version === FILE_LIST_VERSION && Array.isArray(data.files)) {
        list = new Map();
        for (const f of data.files as unknown[]) {
          if (Array.isArray(f) && typeof f[0] === 'string' && typeof f[1] === 'string') list.set(f[0], f[1]);
        }
      }
    } catch {
      list = undefined;
    }
    if (this.lists.size >= 4) this.lists.delete(this.lists.keys().next().value ?? '');
    this.lists.set(id, list);
    return list;
  }

  private async writeLists(builder: string, lists: ReadonlyMap<string, ReadonlyArray<{ path: string; hash: string }>>): Promise<void> {
    const dir = this.listDir(builder);
    await fsp.mkdir(dir, { recursive: true });
    for (const [ref, files] of lists) {
      const file = path.join(dir, `${ref}.json.gz`);
      try {
        // Already there (the same files as an earlier build): mark it as in use again.
        const now = new Date();
        await fsp.utimes(file, now, now);
        continue;
      } catch {
        // Not there yet.
      }
      const text = JSON.stringify({ version: FILE_LIST_VERSION, files: files.map((f) => [f.path, f.hash.slice(0, LIST_HASH_DIGITS)]) });
      await writeAtomic(file, zlib.gzipSync(text));
    }
  }

  /** Deletes the lists no manifest of this builder names, once they are older than LIST_GRACE_MS. */
  private async collectLists(builder: string): Promise<void> {
    const folder = path.join(this.dir, builderHash(builder));
    const names = await fsp.readdir(path.join(folder, 'files')).catch(() => [] as string[]);
    if (names.length === 0) return;
    const named = new Set<string>();
    for (const name of await fsp.readdir(folder)) {
      if (!/^[0-9a-f]{64}\.json$/.test(name)) continue;
      const text = await readText(path.join(folder, name));
      const parsed = text === undefined ? undefined : parseManifest(text);
      // A file we cannot read may name lists: keep them all.
      if (parsed?.kind !== 'ok') return;
      for (const b of parsed.manifest.builds) for (const st of b.steps) if (st.inputs.filesRef !== undefined) named.add(st.inputs.filesRef);
    }
    const now = Date.now();
    for (const name of names) {
      const m = /^([0-9a-f]{64})\.json\.gz$/.exec(name);
      if (m === null || named.has(m[1] ?? '')) continue;
      const file = path.join(folder, 'files', name);
      const st = await fsp.stat(file).catch(() => undefined);
      if (st !== undefined && now - st.mtimeMs >= this.listGraceMs) await fsp.rm(file, { force: true });
    }
  }

  /**
   * Every step key recorded for this builder, across all configs: BuildKit's cache is shared by
   * all builds on one builder. Value: the most recent record of that key. Steps of failed and
   * cancelled builds count when they completed (`cached`/`built`): their results are in the cache.
   */
  async knownKeys(builder: string, engine: 'buildkit' | 'legacy'): Promise<ReadonlyMap<string, KnownStep>> {
    const known = new Map<string, KnownStep>();
    const folder = path.join(this.dir, builderHash(builder));
    let names: string[];
    try {
      names = await fsp.readdir(folder);
    } catch {
      return known;
    }
    // A file is parsed again only when its size or mtime changed: this runs on every prediction.
    const stamps: string[] = [];
    const manifests = await Promise.all(names.filter((n) => /^[0-9a-f]{64}\.json$/.test(n)).map(async (name) => {
      const file = path.join(folder, name);
      try {
        const st = await fsp.stat(file);
        stamps.push(`${name}:${st.size}:${st.mtimeMs}:${st.ino}`);
        const cached = this.parsed.get(file);
        // Writes are atomic renames: a new inode as well as a new mtime.
        if (cached !== undefined && cached.size === st.size && cached.mtimeMs === st.mtimeMs && cached.ino === st.ino) return cached.manifest;
        const text = await readText(file);
        const parsed = text === undefined ? undefined : parseManifest(text);
        // Damaged files are load()'s business (it reports them); here they just add nothing.
        const manifest = parsed?.kind === 'ok' ? parsed.manifest : undefined;
        this.parsed.set(file, { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, manifest });
        return manifest;
      } catch {
        return undefined;
      }
    }));
    const signature = `${builder}|${engine}|${stamps.sort().join(',')}`;
    // The same answer object while no file changed: callers may remember what they made of it.
    if (this.lastKnown?.signature === signature) return this.lastKnown.known;
    for (const m of manifests) {
      if (m === undefined || m.config.builder !== builder) continue;
      for (const build of m.builds) {
        if (build.engine !== engine) continue;
        for (const step of build.steps) {
          if (step.result !== 'cached' && step.result !== 'built') continue;
          const prev = known.get(step.key);
          if (prev === undefined || timeOf(prev.time) < timeOf(build.time)) known.set(step.key, { ...step, time: build.time });
        }
      }
    }
    this.lastKnown = { signature, known };
    return known;
  }

  /** Deletes one configuration's history, or every history of this store. */
  async forget(config?: BuildConfig): Promise<void> {
    if (config !== undefined) {
      const file = this.fileFor(config);
      try {
        await fsp.access(path.dirname(file));
      } catch {
        return;
      }
      await this.withLock(file, () => fsp.rm(file, { force: true }));
      return;
    }
    let names: string[];
    try {
      names = await fsp.readdir(this.dir);
    } catch {
      return;
    }
    // Only our own folders: the directory may be shared with something else.
    await Promise.all(names.filter((n) => /^[0-9a-f]{16}$/.test(n)).map((n) => fsp.rm(path.join(this.dir, n), { recursive: true, force: true })));
  }

  // -- internals ----------------------------------------------------------------------------------

  private checkConfig(file: string, config: BuildConfig, manifest: ManifestFile): { manifest: ManifestFile | undefined; problem: string | undefined } {
    if (canonicalJson(manifest.config) === canonicalJson(config)) return { manifest, problem: undefined };
    // Same hash, other config: a copied or hand-edited file. record() moves it aside.
    return { manifest: undefined, problem: `${file} holds the history of another build configuration (${manifest.config.dockerfile}); starting a fresh history.` };
  }

  private async moveAside(file: string): Promise<string> {
    const aside = await asideName(file);
    await renameRetry(file, aside);
    return aside;
  }

  /** Runs `fn` holding both this process's queue for `file` and the lock file `file.lock`. */
  private async withLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(file) ?? Promise.resolve();
    let done!: () => void;
    const mine = new Promise<void>((resolve) => { done = resolve; });
    const tail = previous.then(() => mine);
    this.queues.set(file, tail);
    await previous;
    try {
      const release = await this.acquireFileLock(`${file}.lock`);
      try {
        return await fn();
      } finally {
        await release();
      }
    } finally {
      done();
      if (this.queues.get(file) === tail) this.queues.delete(file);
    }
  }

  private async acquireFileLock(lock: string): Promise<() => Promise<void>> {
    const info: LockInfo = { pid: process.pid, host: os.hostname(), time: new Date().toISOString(), token: randomBytes(8).toString('hex') };
    const deadline = Date.now() + this.lockTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        const fh = await fsp.open(lock, 'wx');
        try {
          await fh.writeFile(JSON.stringify(info));
        } finally {
          await fh.close();
        }
        return async () => {
          // Remove it only if it is still ours (it may have been judged stale and taken over).
          const text = await readText(lock).catch(() => undefined);
          if (text !== undefined && text.includes(info.token)) await fsp.rm(lock, { force: true });
        };
      } catch (err) {
        if (errnoCode(err) !== 'EEXIST') throw new ManifestError('io', `Could not lock ${lock}: ${errMessage(err)}`, lock);
      }
      const holder = await this.staleHolder(lock);
      if (holder.stale) {
        await this.breakLock(lock, holder.text);
        continue;
      }
      if (Date.now() >= deadline) {
        throw new ManifestError('locked', `The build history ${lock} is locked${holder.pid !== undefined ? ` by process ${holder.pid}` : ''}; delete the lock file if no Dockerfile Cache Lens is running.`, lock);
      }
      await sleep(Math.min(100, 2 + attempt * 3) * (0.5 + Math.random()));
    }
  }

  /** A lock is stale when its process is gone (same host) or it is older than any write could take. */
  private async staleHolder(lock: string): Promise<{ stale: boolean; text: string | undefined; pid: number | undefined }> {
    let text: string | undefined;
    let mtimeMs: number;
    try {
      text = await fsp.readFile(lock, 'utf8');
      mtimeMs = (await fsp.stat(lock)).mtimeMs;
    } catch {
      return { stale: false, text: undefined, pid: undefined }; // released meanwhile: just retry
    }
    let holder: Partial<LockInfo> = {};
    try {
      const parsed: unknown = JSON.parse(text);
      if (isRecord(parsed)) holder = parsed;
    } catch {
      // Empty or partial: the holder may be writing it right now; only age decides.
    }
    const pid = typeof holder.pid === 'number' ? holder.pid : undefined;
    if (Date.now() - mtimeMs > this.staleLockMs) return { stale: true, text, pid };
    const dead = pid !== undefined && holder.host === os.hostname() && pid !== process.pid && !isAlive(pid);
    return { stale: dead, text, pid };
  }

  /** Takes a stale lock away; if another process replaced it in between, puts theirs back. */
  private async breakLock(lock: string, staleText: string | undefined): Promise<void> {
    const away = `${lock}.${process.pid}.${randomBytes(4).toString('hex')}.stale`;
    try {
      await fsp.rename(lock, away);
    } catch {
      return; // someone else removed it
    }
    const taken = await readText(away).catch(() => undefined);
    if (taken !== staleText) {
      // We grabbed a fresh lock: restore it unless a third writer already holds a new one.
      await fsp.link(away, lock).catch(() => undefined);
    }
    await fsp.rm(away, { force: true });
  }
}

function newerMessage(file: string, version: number): string {
  return `${file} was written by a newer version (${version}) of Dockerfile Cache Lens; it was left untouched. Update the extension to use its history.`;
}

function corruptMessage(file: string, reason: string, aside: string): string {
  return `${file} is not a Dockerfile Cache Lens manifest (${reason}); starting a fresh history, the old file was kept as ${aside}.`;
}
