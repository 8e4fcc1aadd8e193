/**
 * Trees and blobs straight from git's object store (`ls-tree`, `cat-file --batch`, `diff --raw`):
 * what a revision holds, never checked out.
 */

import { spawn } from 'node:child_process';
import { createHash, type Hash } from 'node:crypto';
import { git, GitError, gitOk, splitNul } from './gitCli';

export type TreeKind = 'file' | 'exec' | 'symlink' | 'gitlink';

export interface TreeEntry {
  /** Path from the repository's top level, `/`-separated. */
  path: string;
  kind: TreeKind;
  oid: string;
}

const KINDS: Record<string, TreeKind | undefined> = { '100644': 'file', '100755': 'exec', '120000': 'symlink', '160000': 'gitlink', '100664': 'file' };

/** Every blob, link and gitlink of a revision under `prefix` ('' = all), from the top level. */
export async function lsTree(cwd: string, rev: string, prefix: string): Promise<TreeEntry[]> {
  const out = await gitOk(cwd, ['ls-tree', '-r', '-z', '--full-tree', rev, ...(prefix === '' ? [] : ['--', prefix])]);
  const entries: TreeEntry[] = [];
  for (const rec of splitNul(out)) {
    const tab = rec.indexOf('\t');
    const [mode = '', , oid = ''] = rec.slice(0, tab).split(' ');
    const kind = KINDS[mode];
    if (kind === undefined) continue;
    entries.push({ path: rec.slice(tab + 1), kind, oid });
  }
  return entries;
}

/** One file's content at a revision, or undefined when the revision has no such path. */
export async function showFile(cwd: string, rev: string, repoPath: string): Promise<Buffer | undefined> {
  const r = await git(cwd, ['cat-file', 'blob', `${rev}:${repoPath}`]);
  return r.code === 0 ? r.stdout : undefined;
}

/** Paths whose tracked content or mode differs between a commit and the working tree (`git diff --raw`). */
export async function changedSinceCommit(cwd: string, commit: string): Promise<Array<{ path: string; baseKind: TreeKind | undefined; baseOid: string }>> {
  const out = await gitOk(cwd, ['diff', '--raw', '-z', '--no-renames', '--no-ext-diff', '--ignore-submodules=none', commit, '--']);
  const fields = splitNul(out);
  const changes: Array<{ path: string; baseKind: TreeKind | undefined; baseOid: string }> = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    // ":<srcmode> <dstmode> <srcoid> <dstoid> <status>"
    const [srcMode = '', , srcOid = ''] = (fields[i] ?? '').slice(1).split(' ');
    changes.push({ path: fields[i + 1] ?? '', baseKind: KINDS[srcMode], baseOid: srcOid });
  }
  return changes;
}

/** Untracked files git does not ignore: new in the working tree, so part of the change. */
export async function untrackedFiles(cwd: string): Promise<string[]> {
  return splitNul(await gitOk(cwd, ['ls-files', '-z', '--others', '--exclude-standard', '--full-name', ':/']));
}

export interface BlobRequest {
  oid: string;
  /** Hash the content behind a header for each of these permissions (a blob may appear as 644 and 755). */
  perms: number[];
  /** Keep the content too (link targets): small blobs only. */
  keep?: boolean;
}

export interface BlobResult {
  size: number;
  /** sha256 hex of header + content, per requested permission, in order. */
  hashes: string[];
  content: Buffer | undefined;
}

/**
 * Streams the blobs through one `git cat-file --batch`, hashing each as it comes (content is not
 * kept unless asked). A missing object is a GitError naming it.
 */
export function hashBlobs(
  cwd: string, requests: readonly BlobRequest[], header: (perm: number, size: number) => string,
): Promise<Map<string, BlobResult>> {
  return new Promise((resolve, reject) => {
    const results = new Map<string, BlobResult>();
    if (requests.length === 0) {
      resolve(results);
      return;
    }
    const child = spawn('git', ['cat-file', '--batch'], { cwd, env: { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let next = 0;
    let pending: Buffer = Buffer.alloc(0);
    let current: { req: BlobRequest; size: number; left: number; hashes: Hash[]; parts: Buffer[] | undefined } | undefined;
    let failed: Error | undefined;
    let stderr = '';
    const fail = (e: Error): void => {
      if (failed !== undefined) return;
      failed = e;
      child.kill('SIGKILL');
    };
    const onData = (chunk: Buffer): void => {
      let buf: Buffer = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      pending = Buffer.alloc(0);
      while (buf.length > 0 && failed === undefined) {
        if (current === undefined) {
          const nl = buf.indexOf(10);
          if (nl < 0) {
            pending = buf;
            return;
          }
          const line = buf.subarray(0, nl).toString('utf8');
          buf = buf.subarray(nl + 1);
          const req = requests[next++];
          if (req === undefined) return fail(new GitError('failed', `git cat-file said more than was asked: ${line}`));
          const [, type, sizeText] = line.split(' ');
          if (type !== 'blob' || sizeText === undefined) {
            return fail(new GitError('missing-file', `object ${req.oid} is not in this repository (${line.trim()})`));
          }
          const size = Number(sizeText);
          current = { req, size, left: size + 1, hashes: req.perms.map((p) => createHash('sha256').update(header(p, size))), parts: req.keep === true ? [] : undefined };
        }
        const take = Math.min(current.left, buf.length);
        // The content, then one LF that ends the record.
        const body = buf.subarray(0, Math.min(take, current.left - 1));
        for (const h of current.hashes) h.update(body);
        current.parts?.push(Buffer.from(body));
        current.left -= take;
        buf = buf.subarray(take);
        if (current.left === 0) {
          results.set(current.req.oid, { size: current.size, hashes: current.hashes.map((h) => h.digest('hex')), content: current.parts === undefined ? undefined : Buffer.concat(current.parts) });
          current = undefined;
        }
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString('utf8');
    });
    child.on('error', (e) => fail(e));
    child.on('close', (code) => {
      if (failed !== undefined) reject(failed);
      else if (next < requests.length || current !== undefined) reject(new GitError('failed', `git cat-file --batch stopped early (exit ${code ?? 'signal'}): ${stderr.trim()}`));
      else resolve(results);
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(requests.map((r) => r.oid).join('\n') + '\n');
  });
}
