/**
 * The two states impact compares, each as the Dockerfile's text and the context snapshot the
 * planner consumes: a revision read from git's objects, or the working tree (the ContextHasher).
 *
 * Sharing: blob hashes are kept per object id and permission for the whole comparison, so a blob
 * both revisions hold is read and hashed once. Against the working tree, the base is the working
 * tree's snapshot with only the paths git reports as changed (`git diff --raw`, untracked files)
 * read from the base revision; everything else — including files git ignores, which a checkout of
 * the base would leave in place — is the same entry on both sides.
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
import { ContextHasher, parseIgnoreFile, type ContextSnapshot } from '../cache/contextHash';
import { compileIgnore, type IgnoreRules } from '../cache/sourceSelection';
import {
  dirEntry, EXEC_PERM, FILE_PERM, fileEntry, fileHeader, isPruned, linkEntry, selectTreePaths, snapshotOf,
} from '../cache/treeSnapshot';
import type { ContextEntry } from '../cache/types';
import { git, GitError } from '../git/gitCli';
import type { Repo } from '../git/gitRepo';
import { changedSinceCommit, hashBlobs, lsTree, showFile, untrackedFiles, type TreeEntry, type TreeKind } from '../git/gitTree';

export interface State {
  /** `working tree`, or the revision as given. */
  label: string;
  commit: string | undefined;
  dockerfileText: string;
  snapshot: ContextSnapshot;
  /** Said to the user once: how this side was read. */
  notes: string[];
}

export interface Layout {
  repo: Repo;
  /** Absolute (real) paths. */
  context: string;
  dockerfile: string;
  /** The same, from the repository's top level ('' for the top level itself). */
  contextPath: string;
  dockerfilePath: string;
}

function inside(root: string, p: string): string | undefined {
  const rel = path.relative(root, p);
  if (rel === '') return '';
  if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  return rel.split(path.sep).join('/');
}

/** Real paths, so that they compare with git's top level (which git reports resolved). */
function real(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    const dir = path.dirname(p);
    return dir === p ? p : path.join(real(dir), path.basename(p));
  }
}

export function layout(repo: Repo, context: string, dockerfile: string): Layout {
  const ctx = real(context);
  const df = real(dockerfile);
  const contextPath = inside(repo.root, ctx);
  const dockerfilePath = inside(repo.root, df);
  if (contextPath === undefined) throw new GitError('not-a-repository', `the build context ${context} is outside the repository ${repo.root}`);
  if (dockerfilePath === undefined) throw new GitError('not-a-repository', `the Dockerfile ${dockerfile} is outside the repository ${repo.root}`);
  return { repo, context: ctx, dockerfile: df, contextPath, dockerfilePath };
}

/** Blob hashes and link targets shared by both sides of one comparison. */
export class BlobCache {
  readonly hashes = new Map<string, string>();
  readonly sizes = new Map<string, number>();
  readonly links = new Map<string, string>();
  /** Blobs read from git (each once). */
  blobsRead = 0;

  static key(oid: string, perm: number): string {
    return `${oid}:${perm.toString(8)}`;
  }

  /** Reads what is not known yet, per repository directory (a submodule's objects live in its own). */
  async fill(cwd: string, wanted: ReadonlyArray<{ oid: string; perm: number; link: boolean }>): Promise<void> {
    const byOid = new Map<string, { perms: Set<number>; keep: boolean }>();
    for (const w of wanted) {
      if (w.link ? this.links.has(w.oid) : this.hashes.has(BlobCache.key(w.oid, w.perm))) continue;
      let r = byOid.get(w.oid);
      if (r === undefined) {
        r = { perms: new Set(), keep: false };
        byOid.set(w.oid, r);
      }
      if (w.link) r.keep = true;
      else r.perms.add(w.perm);
    }
    if (byOid.size === 0) return;
    const requests = [...byOid].map(([oid, r]) => ({ oid, perms: [...r.perms], keep: r.keep }));
    const got = await hashBlobs(cwd, requests, fileHeader);
    this.blobsRead += got.size;
    for (const req of requests) {
      const g = got.get(req.oid);
      if (g === undefined) continue;
      req.perms.forEach((p, i) => this.hashes.set(BlobCache.key(req.oid, p), g.hashes[i] ?? ''));
      this.sizes.set(req.oid, g.size);
      if (g.content !== undefined) this.links.set(req.oid, g.content.toString('utf8'));
    }
  }
}

/** The ignore rules at a revision: `<Dockerfile>.dockerignore` wins over `<context>/.dockerignore`, as BuildKit's dockerui reads them. */
async function ignoreAt(l: Layout, commit: string): Promise<{ file: string | undefined; rules: IgnoreRules; text: string | undefined }> {
  const candidates = [l.dockerfilePath + '.dockerignore', l.contextPath === '' ? '.dockerignore' : `${l.contextPath}/.dockerignore`];
  for (const c of candidates) {
    const b = await showFile(l.repo.root, commit, c);
    if (b === undefined) continue;
    const text = b.toString('utf8');
    return { file: path.join(l.repo.root, ...c.split('/')), rules: parseIgnoreFile(text, path.posix.basename(c)), text };
  }
  return { file: undefined, rules: compileIgnore([], []), text: undefined };
}

/** The text of the Dockerfile at a revision, or a GitError when it has none. */
export async function dockerfileAt(l: Layout, commit: string, label: string): Promise<string> {
  const b = await showFile(l.repo.root, commit, l.dockerfilePath);
  if (b === undefined) throw new GitError('missing-file', `${l.dockerfilePath} does not exist at ${label}`);
  return b.toString('utf8');
}

// ---------------------------------------------------------------------------------------------
// Submodules
// ---------------------------------------------------------------------------------------------

/** `submodule.<name>.path` from .gitmodules at a commit (git config reads it; names may differ from paths). */
async function submoduleNames(cwd: string, commit: string): Promise<Map<string, string>> {
  const r = await git(cwd, ['config', '-z', '--blob', `${commit}:.gitmodules`, '--get-regexp', '^submodule\\..*\\.path$']);
  const names = new Map<string, string>();
  if (r.code !== 0) return names;
  for (const rec of r.stdout.toString('utf8').split('\0')) {
    const nl = rec.indexOf('\n');
    if (nl < 0) continue;
    const key = rec.slice(0, nl);
    names.set(rec.slice(nl + 1), key.slice('submodule.'.length, -'.path'.length));
  }
  return names;
}

/** The local repository that holds a submodule's commit: `.git/modules/<name>`, or the submodule's own checkout. */
async function submoduleRepo(repoRoot: string, commonDir: string, superCommit: string, subPath: string, commit: string): Promise<string> {
  const name = (await submoduleNames(repoRoot, superCommit)).get(subPath) ?? subPath;
  const candidates = [path.join(commonDir, 'modules', ...name.split('/')), path.join(commonDir, 'modules', ...subPath.split('/')), path.join(repoRoot, ...subPath.split('/'))];
  for (const c of candidates) {
    if (!fs.existsSync(c)) continue;
    const r = await git(c, ['cat-file', '-e', `${commit}^{tree}`]);
    if (r.code === 0) return c;
  }
  throw new GitError('submodule', `submodule ${subPath}: its commit ${commit.slice(0, 12)} is not in any local repository (run git submodule update --init ${subPath}, or fetch it)`);
}

interface Leaf {
  /** Relative to the context. */
  rel: string;
  kind: Exclude<TreeKind, 'gitlink'>;
  oid: string;
  /** The repository whose objects hold the blob. */
  cwd: string;
}

/** The leaves of a tree under the context, with submodules expanded into their own trees (when the walk would enter them). */
async function leavesOf(
  l: Layout, cwd: string, commonDir: string, commit: string, repoPrefix: string, entries: readonly TreeEntry[], rules: IgnoreRules, depth = 0,
): Promise<Leaf[]> {
  const out: Leaf[] = [];
  const cut = l.contextPath === '' ? 0 : l.contextPath.length + 1;
  for (const e of entries) {
    const full = repoPrefix === '' ? e.path : `${repoPrefix}/${e.path}`;
    const rel = full.slice(cut);
    if (e.kind !== 'gitlink') {
      out.push({ rel, kind: e.kind, oid: e.oid, cwd });
      continue;
    }
    if (isPruned(rel, rules)) continue;
    if (depth > 8) throw new GitError('submodule', `submodule ${full}: nested more than 8 deep`);
    const subCwd = await submoduleRepo(cwd, commonDir, commit, e.path, e.oid);
    const subEntries = await lsTree(subCwd, e.oid, '');
    const subCommon = path.resolve(subCwd, (await git(subCwd, ['rev-parse', '--git-common-dir'])).stdout.toString('utf8').trim());
    out.push(...await leavesOf(l, subCwd, subCommon, e.oid, full, subEntries, rules, depth + 1));
  }
  return out;
}

function permOf(kind: Leaf['kind']): number {
  return kind === 'exec' ? EXEC_PERM : FILE_PERM;
}

/** Entries for leaves (already selected), reading what the cache lacks. */
async function entriesFor(leaves: readonly Leaf[], cache: BlobCache, perm: (leaf: Leaf) => number): Promise<ContextEntry[]> {
  const byCwd = new Map<string, Array<{ oid: string; perm: number; link: boolean }>>();
  for (const f of leaves) {
    let list = byCwd.get(f.cwd);
    if (list === undefined) byCwd.set(f.cwd, (list = []));
    list.push({ oid: f.oid, perm: perm(f), link: f.kind === 'symlink' });
  }
  for (const [cwd, wanted] of byCwd) await cache.fill(cwd, wanted);
  return leaves.map((f) => {
    if (f.kind === 'symlink') return linkEntry(f.rel, cache.links.get(f.oid) ?? '');
    const p = perm(f);
    return fileEntry(f.rel, p, cache.sizes.get(f.oid) ?? 0, cache.hashes.get(BlobCache.key(f.oid, p)) ?? '');
  });
}

// ---------------------------------------------------------------------------------------------
// The states
// ---------------------------------------------------------------------------------------------

const SAME_BY_CONSTRUCTION = 'owner and mtime, which git does not keep, are the same on both sides by construction (uid/gid 0 in every file record, mtime never hashed by BuildKit)';

/** A revision, wholly from git's objects (files 644/755 as git keeps them, directories 755). */
export async function revisionState(l: Layout, commit: string, label: string, cache: BlobCache): Promise<State> {
  const dockerfileText = await dockerfileAt(l, commit, label);
  const ignore = await ignoreAt(l, commit);
  const tree = await lsTree(l.repo.root, commit, l.contextPath);
  const leaves = await leavesOf(l, l.repo.root, l.repo.commonDir, commit, '', tree, ignore.rules);
  const picked = selectTreePaths(leaves.map((f) => f.rel), ignore.rules);
  const keep = new Set(picked.leaves);
  const chosen = leaves.filter((f) => keep.has(f.rel));
  const entries = await entriesFor(chosen, cache, (f) => permOf(f.kind));
  entries.push(...picked.dirs.map((d) => dirEntry(d)));
  const snapshot = snapshotOf({ root: l.context, entries, ignoreFile: ignore.file, rules: ignore.rules, problems: [] });
  return {
    label, commit, dockerfileText, snapshot,
    notes: [`${label}: read from git's objects (files 644/755 as git keeps them, directories 755; empty directories, which git does not keep, are absent); ${SAME_BY_CONSTRUCTION}`],
  };
}

/** The working tree, as the predictor reads it (`hasher`: one kept between calls re-reads only files whose stat changed). */
export async function workingTreeState(l: Layout, hasher?: ContextHasher): Promise<State> {
  const text = fs.readFileSync(l.dockerfile, 'utf8');
  const h = hasher !== undefined && hasher.root === l.context ? hasher : new ContextHasher(l.context, { dockerfile: l.dockerfile });
  const snapshot = await h.snapshot();
  return { label: 'working tree', commit: undefined, dockerfileText: text, snapshot, notes: [] };
}

function isUnder(rel: string, dir: string): boolean {
  return rel === dir || rel.startsWith(dir + '/');
}

function readOr(file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * The base revision against the working tree: the working tree's entries where git sees no
 * change (their real permissions, ignored files left in place), the base's objects where it does.
 * When the ignore file itself changed, the base is read wholly from git instead.
 */
export async function baseAgainstWorkingTree(l: Layout, commit: string, label: string, head: State, cache: BlobCache): Promise<State> {
  const dockerfileText = await dockerfileAt(l, commit, label);
  const ignore = await ignoreAt(l, commit);
  if (ignore.file !== head.snapshot.ignoreFile || ignore.text !== readOr(head.snapshot.ignoreFile)) {
    const s = await revisionState(l, commit, label, cache);
    s.notes.push(`${label}: its .dockerignore differs from the working tree's, so files git ignores are not carried over to the base`);
    return s;
  }
  const cut = l.contextPath === '' ? 0 : l.contextPath.length + 1;
  const inContext = (p: string): boolean => l.contextPath === '' || isUnder(p, l.contextPath);
  const changes = (await changedSinceCommit(l.repo.root, commit)).filter((c) => inContext(c.path));
  const untracked = (await untrackedFiles(l.repo.root)).filter(inContext);
  const dropped = [...changes.map((c) => c.path.slice(cut)), ...untracked.map((u) => u.slice(cut))];
  const droppedSet = new Set(dropped);
  const changedGitlinks = new Set(changes.filter((c) => c.baseKind === 'gitlink').map((c) => c.path.slice(cut)));
  const headEntries = head.snapshot.entries;
  const isDropped = (rel: string): boolean => {
    if (droppedSet.has(rel)) return true;
    // Beneath a changed path: a submodule moved to another commit (its .git file stays), a file that became a directory.
    for (let p = rel; p.includes('/');) {
      p = p.slice(0, p.lastIndexOf('/'));
      if (droppedSet.has(p)) return !(changedGitlinks.has(p) && rel === `${p}/.git`);
    }
    return false;
  };
  const kept = new Map<string, ContextEntry>();
  for (const [rel, e] of headEntries) if (!isDropped(rel)) kept.set(rel, e);

  // What the base holds at the changed paths, from its objects.
  const baseTree: TreeEntry[] = changes.filter((c) => c.baseKind !== undefined).map((c) => ({ path: c.path, kind: c.baseKind as TreeKind, oid: c.baseOid }));
  const leaves = await leavesOf(l, l.repo.root, l.repo.commonDir, commit, '', baseTree, ignore.rules);
  const picked = selectTreePaths(leaves.map((f) => f.rel), ignore.rules);
  const keep = new Set(picked.leaves);
  const chosen = leaves.filter((f) => keep.has(f.rel));
  // A file whose content alone changed keeps the working tree's permission (git keeps only the x bit).
  const perm = (f: Leaf): number => {
    const h = headEntries.get(f.rel);
    if (h?.type === 'file' && ((h.mode & 0o111) !== 0) === (f.kind === 'exec')) return h.mode & 0o7777;
    return permOf(f.kind);
  };
  for (const e of await entriesFor(chosen, cache, perm)) kept.set(e.path, e);
  for (const d of picked.dirs) {
    if (kept.has(d)) continue;
    const h = headEntries.get(d);
    kept.set(d, h?.type === 'dir' ? h : dirEntry(d));
  }

  // Directories that only held what the change added do not exist at the base.
  const ancestors = (rels: Iterable<string>): Set<string> => {
    const set = new Set<string>();
    for (const rel of rels) {
      for (let p = rel; p.includes('/');) {
        p = p.slice(0, p.lastIndexOf('/'));
        if (set.has(p)) break;
        set.add(p);
      }
    }
    return set;
  };
  const hadChildren = ancestors(headEntries.keys());
  // Counted from leaves and directories empty in the working tree: a directory holding only an added directory goes too.
  const hasChildren = ancestors([...kept].filter(([rel, e]) => e.type !== 'dir' || !hadChildren.has(rel)).map(([rel]) => rel));
  const addedUnder = ancestors(dropped);
  for (const [rel, e] of kept) if (e.type === 'dir' && hadChildren.has(rel) && !hasChildren.has(rel) && addedUnder.has(rel)) kept.delete(rel);

  const snapshot = snapshotOf({ root: l.context, entries: kept.values(), ignoreFile: ignore.file, rules: ignore.rules, problems: [] });
  return {
    label, commit, dockerfileText, snapshot,
    notes: [`${label}: the working tree where git sees no change, and git's objects at the ${changes.length + untracked.length} path(s) that differ; ${SAME_BY_CONSTRUCTION}`],
  };
}
