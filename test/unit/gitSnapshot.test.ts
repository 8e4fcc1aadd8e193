/**
 * A revision read from git's objects gives the same context snapshot as the ContextHasher's walk of
 * a checkout of it (made here by git clone, umask 022): the same entries, headers and hashes, so
 * BuildKit's checksums of every selection agree. The checkout is the reference; git's objects are
 * what impact reads.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ContextHasher, selectSources, type ContextSnapshot } from '../../server/src/cache/contextHash';
import { openRepo } from '../../server/src/git/gitRepo';
import { BlobCache, layout, revisionState, baseAgainstWorkingTree, workingTreeState } from '../../server/src/impact/gitStates';

const GIT_ENV = {
  ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.invalid', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.invalid',
  GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1',
};

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: GIT_ENV, stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

function entriesOf(s: ContextSnapshot): Array<[string, string, number, number, string, string | undefined]> {
  return [...s.entries].map(([rel, e]): [string, string, number, number, string, string | undefined] => [rel, e.type, e.mode, e.size, e.hash, e.linkTarget])
    .sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

function checksum(s: ContextSnapshot, sources: string[]): string {
  return selectSources(s, sources, { excludes: [], parents: false, followNestedLinks: true }).checksum;
}

function project(): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'dcl-gitsnap-')));
  git(dir, 'init', '-q', '-b', 'main');
  const files: Record<string, string> = {
    'Dockerfile': 'FROM alpine\nCOPY . /app\n',
    '.dockerignore': '.git\n*.log\ndocs\n!docs/keep.md\nbuild/\n',
    'src/a.js': 'a\n', 'src/deep/b.js': 'b'.repeat(300_000), 'src/empty.txt': '', 'run.sh': '#!/bin/sh\necho hi\n',
    'docs/keep.md': 'keep\n', 'docs/drop.md': 'drop\n', 'x.log': 'log\n', 'build/out.bin': 'out\n', 'ünïcode name.txt': 'u\n',
  };
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), content);
  }
  fs.chmodSync(path.join(dir, 'run.sh'), 0o755);
  fs.symlinkSync('src/a.js', path.join(dir, 'link-to-a'));
  fs.symlinkSync('../nowhere', path.join(dir, 'src/dangling'));
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'one');
  return dir;
}

test('a revision from git objects equals the walk of its checkout (modes, links, ignore exceptions, hashes)', async () => {
  const dir = project();
  const parent = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'dcl-gitsnap-co-')));
  const old = process.umask(0o022);
  try {
    git(parent, 'clone', '-q', dir, 'co');
  } finally {
    process.umask(old);
  }
  const checkout = path.join(parent, 'co');
  const walked = await new ContextHasher(checkout, { dockerfile: path.join(checkout, 'Dockerfile') }).snapshot();

  const repo = await openRepo(dir);
  const l = layout(repo, dir, path.join(dir, 'Dockerfile'));
  const fromGit = (await revisionState(l, git(dir, 'rev-parse', 'HEAD'), 'HEAD', new BlobCache())).snapshot;

  const expected = entriesOf(walked);
  assert.ok(expected.some(([rel]) => rel === 'docs/keep.md') && !expected.some(([rel]) => rel === 'docs/drop.md'), 'the exception pattern reaches inside docs');
  assert.deepEqual(entriesOf(fromGit), expected);
  for (const sources of [['.'], ['src'], ['run.sh', 'link-to-a'], ['docs']]) assert.equal(checksum(fromGit, sources), checksum(walked, sources), sources.join(' '));
});

test('against the working tree: unchanged paths are the working tree\'s own entries; changed ones come from the base', async () => {
  const dir = project();
  const base = git(dir, 'rev-parse', 'HEAD');
  fs.writeFileSync(path.join(dir, 'src/a.js'), 'changed\n');
  fs.mkdirSync(path.join(dir, 'src/new'));
  fs.writeFileSync(path.join(dir, 'src/new/c.js'), 'c\n');
  const repo = await openRepo(dir);
  const l = layout(repo, dir, path.join(dir, 'Dockerfile'));
  const head = await workingTreeState(l);
  const cache = new BlobCache();
  const b = await baseAgainstWorkingTree(l, base, 'HEAD', head, cache);
  // Only the one changed blob was read; the untracked directory is gone from the base with its file.
  assert.equal(cache.blobsRead, 1);
  assert.equal(b.snapshot.entries.has('src/new'), false);
  assert.equal(b.snapshot.entries.has('src/new/c.js'), false);
  assert.equal(b.snapshot.entries.get('src/deep/b.js'), head.snapshot.entries.get('src/deep/b.js'));
  // The base equals a walk of the committed state.
  fs.writeFileSync(path.join(dir, 'src/a.js'), 'a\n');
  fs.rmSync(path.join(dir, 'src/new'), { recursive: true });
  const committed = await new ContextHasher(dir, { dockerfile: path.join(dir, 'Dockerfile') }).snapshot();
  assert.deepEqual(entriesOf(b.snapshot), entriesOf(committed));
});
