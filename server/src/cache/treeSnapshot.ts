/**
 * A context snapshot from a list of paths rather than a walk of the disk: the files of a git
 * revision. The same ignore semantics as ContextHasher's walk (an ignored directory is skipped
 * unless an exception pattern may reach inside it, and then sent only when something beneath is),
 * and the same tarsum headers, so sourceSelection computes BuildKit's checksums unchanged.
 *
 * What git does not keep is the same on both sides by construction: the header has uid/gid 0 (the
 * client resets them) and no mtime (BuildKit never hashes it), and this module builds it with the
 * same tarsumHeader as the disk walk.
 */

import { sha256Hex, tarsumHeader, type ContextSnapshot } from './contextHash';
import { EntryTable } from './entryTable';
import type { IgnoreRules } from './sourceSelection';
import type { ContextEntry } from './types';

/** Permission of a directory git creates on checkout, and of files by their git mode (umask 022). */
export const DIR_PERM = 0o755;
export const FILE_PERM = 0o644;
export const EXEC_PERM = 0o755;
/** Linux gives every symlink 0777. */
export const LINK_PERM = 0o777;

const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

function parentOf(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i < 0 ? '' : rel.slice(0, i);
}

/**
 * Which of these paths (files and links, relative to the context; their directories implied) the
 * client sends after the ignore rules: the leaves and the directories, as the walk would find them.
 */
export function selectTreePaths(leaves: Iterable<string>, rules: IgnoreRules): { leaves: string[]; dirs: string[] } {
  const ignores = rules.ignores;
  const list = [...leaves];
  if (ignores === undefined) {
    const dirs = new Set<string>();
    for (const p of list) for (let d = parentOf(p); d !== '' && !dirs.has(d); d = parentOf(d)) dirs.add(d);
    return { leaves: list, dirs: [...dirs] };
  }
  // A directory: 'in' (sent), 'pending' (ignored, walked for exceptions), 'pruned' (skipped).
  const dirState = new Map<string, 'in' | 'pending' | 'pruned'>();
  const stateOf = (dir: string): 'in' | 'pending' | 'pruned' => {
    if (dir === '') return 'in';
    const known = dirState.get(dir);
    if (known !== undefined) return known;
    const up = stateOf(parentOf(dir));
    let s: 'in' | 'pending' | 'pruned';
    if (up === 'pruned') s = 'pruned';
    else if (!ignores(dir)) s = 'in';
    else s = rules.canPrune(dir) ? 'pruned' : 'pending';
    dirState.set(dir, s);
    return s;
  };
  const kept: string[] = [];
  const sentDirs = new Set<string>();
  const sendUp = (dir: string): void => {
    // An ignored directory goes along with the first entry sent beneath it.
    for (let d = dir; d !== '' && !sentDirs.has(d); d = parentOf(d)) sentDirs.add(d);
  };
  for (const p of list) {
    const dir = parentOf(p);
    if (stateOf(dir) === 'pruned' || ignores(p)) continue;
    kept.push(p);
    sendUp(dir);
  }
  for (const [d, s] of dirState) if (s === 'in') sendUp(d);
  return { leaves: kept, dirs: [...sentDirs] };
}

export function dirEntry(rel: string, perm = DIR_PERM): ContextEntry {
  const hash = sha256Hex(tarsumHeader({ perm, size: 0, typeflag: '5', linkname: '', devmajor: 0, devminor: 0 }));
  return { path: rel, type: 'dir', mode: S_IFDIR | perm, size: 0, hash, linkTarget: undefined };
}

export function linkEntry(rel: string, target: string): ContextEntry {
  const hash = sha256Hex(tarsumHeader({ perm: LINK_PERM, size: 0, typeflag: '2', linkname: target, devmajor: 0, devminor: 0 }));
  return { path: rel, type: 'symlink', mode: S_IFLNK | LINK_PERM, size: 0, hash, linkTarget: target };
}

/** A regular file whose hash (header + content) is already known. */
export function fileEntry(rel: string, perm: number, size: number, hash: string): ContextEntry {
  return { path: rel, type: 'file', mode: S_IFREG | perm, size, hash, linkTarget: undefined };
}

/** The header a regular file of this permission and size is hashed behind. */
export function fileHeader(perm: number, size: number): string {
  return tarsumHeader({ perm, size, typeflag: '0', linkname: '', devmajor: 0, devminor: 0 });
}

/** A snapshot from entries (any order; kept sorted by path, as nothing may depend on walk order). */
export function snapshotOf(input: {
  root: string; entries: Iterable<ContextEntry>; ignoreFile: string | undefined; rules: IgnoreRules; problems: string[];
}): ContextSnapshot {
  const sorted = [...input.entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const map = new Map<string, ContextEntry>();
  for (const e of sorted) map.set(e.path, e);
  return {
    root: input.root,
    entries: EntryTable.of(map),
    rootMode: S_IFDIR | DIR_PERM,
    ignoreFile: input.ignoreFile,
    ignorePatterns: input.rules.patterns,
    problems: [...input.rules.problems, ...input.problems],
  };
}

/** Whether the walk skips this directory altogether (it, or a directory above it, is ignored with no exception reaching inside). */
export function isPruned(dir: string, rules: IgnoreRules): boolean {
  const ignores = rules.ignores;
  if (ignores === undefined) return false;
  const parts = dir.split('/');
  for (let i = 1; i <= parts.length; i++) {
    const d = parts.slice(0, i).join('/');
    if (ignores(d) && rules.canPrune(d)) return true;
  }
  return false;
}
