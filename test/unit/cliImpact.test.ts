/**
 * `dockerfile-cache-lens impact` through the bundled CLI, on real git repositories made in temp
 * directories: what reruns and why, the output formats, --fail-on, and each bad input with its
 * message and exit code. No Docker: DOCKER_HOST points nowhere (no recorded durations then).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EXIT } from '../../server/src/exitCodes';

const CLI = path.join(__dirname, '..', '..', 'dist', 'cli.js');
const GIT_ENV = {
  GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.invalid', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.invalid',
  GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1',
};

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, ...GIT_ENV }, stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

function tmp(prefix: string): string {
  return fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
}

function write(dir: string, files: Record<string, string>): void {
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), content);
  }
}

const NODE_DOCKERFILE = 'FROM node:20\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci\nCOPY . .\nRUN npm run build\n';

/** A repository on main with a node project, committed. */
function nodeRepo(): string {
  const dir = tmp('dcl-impact-');
  git(dir, 'init', '-q', '-b', 'main');
  write(dir, {
    'Dockerfile': NODE_DOCKERFILE, 'package.json': '{"name":"x"}\n', 'package-lock.json': '{"v":1}\n', 'src/index.js': 'one\n',
    '.dockerignore': 'node_modules\n.git\n', '.gitignore': 'node_modules\n',
  });
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'one');
  return dir;
}

interface Run { code: number | null; out: string; err: string }

function impact(cwd: string, ...args: string[]): Run {
  const r = spawnSync(process.execPath, [CLI, 'impact', ...args], {
    cwd, encoding: 'utf8', env: { ...process.env, ...GIT_ENV, DOCKER_HOST: 'unix:///nonexistent.sock' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

interface Report {
  base: { commit: string; how: string };
  head: { commit: string | null };
  configurations: Array<{ name: string; total: number; steps: Array<{ vertex: string; prediction: string; reason: string; firstInStage: boolean }> }>;
}

function json(r: Run): Report {
  assert.equal(r.code, 0, r.err);
  return JSON.parse(r.out) as Report;
}

function reruns(r: Report, config = 0): Array<[string, string]> {
  return (r.configurations[config]?.steps ?? []).map((s) => [s.vertex, s.reason]);
}

test('a lock-file change on a branch: the install and everything after it rerun, against the merge base with main', () => {
  const dir = nodeRepo();
  git(dir, 'checkout', '-qb', 'feature');
  write(dir, { 'package-lock.json': '{"v":2}\n' });
  // Files git ignores are the builder's, not the change's; a permission git does not keep is the same on both sides.
  write(dir, { 'node_modules/left-over.js': 'x\n' });
  fs.chmodSync(path.join(dir, 'src/index.js'), 0o664);
  const r = json(impact(dir, '--json'));
  assert.match(r.base.how, /merge base with main/);
  assert.equal(r.base.commit, git(dir, 'rev-parse', 'main'));
  assert.equal(r.head.commit, null);
  assert.deepEqual(reruns(r), [
    ['[3/6] COPY package.json package-lock.json ./', 'package-lock.json changed'],
    ['[4/6] RUN npm ci', 'previous step rebuilds'],
    ['[5/6] COPY . .', 'previous step rebuilds'],
    ['[6/6] RUN npm run build', 'previous step rebuilds'],
  ]);
  assert.deepEqual(r.configurations[0]?.steps.map((s) => s.firstInStage), [true, false, false, false]);
  assert.equal(r.configurations[0]?.total, 6);
});

test('a source change reruns only from COPY . .; an untracked file counts as part of the change', () => {
  const dir = nodeRepo();
  write(dir, { 'src/new.js': 'new\n' });
  const r = json(impact(dir, '--json', '--base', 'HEAD'));
  assert.deepEqual(reruns(r), [['[5/6] COPY . .', 'src/new.js added'], ['[6/6] RUN npm run build', 'previous step rebuilds']]);
});

test('nothing changed: nothing reruns, exit 0 even with --fail-on', () => {
  const dir = nodeRepo();
  const r = impact(dir, '--base', 'HEAD', '--fail-on', 'npm ci');
  assert.equal(r.code, EXIT.ok, r.err);
  assert.match(r.out, /nothing reruns/);
});

test('two commits: exec bit, symlink, ARG default and a reordered step, each with its reason', () => {
  const dir = tmp('dcl-impact-');
  git(dir, 'init', '-q', '-b', 'main');
  write(dir, {
    'Dockerfile': 'FROM alpine:3.20\nARG LEVEL=1\nRUN echo level $LEVEL\nCOPY run.sh /run.sh\nCOPY d /d\nRUN echo a\nRUN echo b\n',
    'run.sh': 'echo hi\n',
  });
  fs.mkdirSync(path.join(dir, 'd'));
  fs.symlinkSync('x', path.join(dir, 'd', 'l'));
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'one');
  const before = git(dir, 'rev-parse', 'HEAD');

  fs.chmodSync(path.join(dir, 'run.sh'), 0o755);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'chmod');
  assert.deepEqual(reruns(json(impact(dir, '--json', '--base', before, '--head', 'HEAD'))).slice(0, 1), [['[3/6] COPY run.sh /run.sh', 'run.sh changed']]);

  fs.rmSync(path.join(dir, 'd', 'l'));
  fs.symlinkSync('y', path.join(dir, 'd', 'l'));
  git(dir, 'commit', '-qam', 'link');
  assert.deepEqual(reruns(json(impact(dir, '--json', '--base', 'HEAD~1', '--head', 'HEAD')))[0], ['[4/6] COPY d /d', 'd/l changed']);

  write(dir, { 'Dockerfile': 'FROM alpine:3.20\nARG LEVEL=2\nRUN echo level $LEVEL\nCOPY run.sh /run.sh\nCOPY d /d\nRUN echo b\nRUN echo a\n' });
  git(dir, 'commit', '-qam', 'arg and order');
  const r = json(impact(dir, '--json', '--base', 'HEAD~1', '--head', 'HEAD'));
  assert.deepEqual(reruns(r)[0], ['[2/6] RUN echo level 2', 'ARG LEVEL changed 1 -> 2']);

  write(dir, { 'Dockerfile': 'FROM alpine:3.20\nARG LEVEL=2\nRUN echo level $LEVEL\nCOPY run.sh /run.sh\nCOPY d /d\nRUN echo a\nRUN echo b\n' });
  git(dir, 'commit', '-qam', 'order back');
  assert.deepEqual(reruns(json(impact(dir, '--json', '--base', 'HEAD~1', '--head', 'HEAD'))), [
    ['[5/6] RUN echo a', 'instruction moved'], ['[6/6] RUN echo b', 'previous step rebuilds'],
  ]);
});

test('--format markdown: a table per configuration, one row per step that reruns; --target gives one configuration each', () => {
  const dir = tmp('dcl-impact-');
  git(dir, 'init', '-q', '-b', 'main');
  write(dir, { 'Dockerfile': 'FROM alpine:3.20 AS a\nCOPY a.txt /\nFROM alpine:3.20 AS b\nCOPY b.txt /\n', 'a.txt': '1\n', 'b.txt': '1\n' });
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'one');
  write(dir, { 'a.txt': '2\n' });
  const r = impact(dir, '--format', 'markdown', '--base', 'HEAD', '--target', 'a', '--target', 'b');
  assert.equal(r.code, EXIT.ok, r.err);
  const tables = r.out.split('### Cache impact').slice(1);
  assert.equal(tables.length, 2);
  assert.match(tables[0] ?? '', /\(--target a\)/);
  assert.match(tables[0] ?? '', /\| `\[a 2\/2\] COPY a\.txt \/` \(first in `a`\) \| a\.txt changed \| – \|/);
  assert.match(tables[1] ?? '', /\(--target b\)[\s\S]*nothing reruns/);
  assert.doesNotMatch(tables[1] ?? '', /\| Step/);
});

test('--fail-on: exit 6 when a matching step reruns, 0 when only others do; a regex too', () => {
  const dir = nodeRepo();
  write(dir, { 'package-lock.json': '{"v":3}\n' });
  const hit = impact(dir, '--base', 'HEAD', '--fail-on', 'RUN npm ci');
  assert.equal(hit.code, EXIT.rerun);
  assert.match(hit.err, /--fail-on: reruns: default: \[4\/6\] RUN npm ci/);
  assert.equal(impact(dir, '--base', 'HEAD', '--fail-on', '/^RUN npm c[i]$/').code, EXIT.rerun);
  git(dir, 'commit', '-qam', 'lock');
  write(dir, { 'src/index.js': 'two\n' });
  assert.equal(impact(dir, '--base', 'HEAD', '--fail-on', 'RUN npm ci').code, EXIT.ok);
});

test('bad input: not a git repository', () => {
  const dir = tmp('dcl-impact-nogit-');
  write(dir, { Dockerfile: 'FROM alpine\n' });
  const r = impact(dir, '--base', 'HEAD');
  assert.equal(r.code, EXIT.notARepository);
  assert.match(r.err, /is not in a git repository/);
});

test('bad input: an unknown revision', () => {
  const dir = nodeRepo();
  const r = impact(dir, '--base', 'no-such-branch');
  assert.equal(r.code, EXIT.unknownRevision);
  assert.match(r.err, /unknown base revision: no-such-branch/);
  const h = impact(dir, '--base', 'HEAD', '--head', 'deadbeef');
  assert.equal(h.code, EXIT.unknownRevision);
  assert.match(h.err, /unknown head revision: deadbeef/);
});

test('bad input: a shallow clone without the base', () => {
  const origin = nodeRepo();
  const first = git(origin, 'rev-parse', 'HEAD');
  write(origin, { 'src/index.js': 'two\n' });
  git(origin, 'commit', '-qam', 'two');
  write(origin, { 'src/index.js': 'three\n' });
  git(origin, 'commit', '-qam', 'three');
  const parent = tmp('dcl-impact-shallow-');
  git(parent, 'clone', '-q', '--depth', '1', `file://${origin}`, 'clone');
  const clone = path.join(parent, 'clone');
  const r = impact(clone, '--base', first);
  assert.equal(r.code, EXIT.shallow);
  assert.match(r.err, /not in this shallow clone; fetch its history first/);
  const d = impact(clone, '--base', 'HEAD~2');
  assert.equal(d.code, EXIT.shallow);
});

test('bad input: the Dockerfile does not exist at the base revision', () => {
  const dir = nodeRepo();
  write(dir, { 'docker/api.Dockerfile': 'FROM alpine\nCOPY . .\n' });
  const r = impact(dir, '--base', 'HEAD', '-f', 'docker/api.Dockerfile', '.');
  assert.equal(r.code, EXIT.notFound);
  assert.match(r.err, /docker\/api\.Dockerfile does not exist at HEAD/);
});

test('submodules: read from their own objects; without them, a clear error', () => {
  const sub = tmp('dcl-impact-sub-');
  git(sub, 'init', '-q', '-b', 'main');
  write(sub, { 'lib.txt': 'v1\n' });
  git(sub, 'add', '-A');
  git(sub, 'commit', '-qm', 'v1');
  const dir = nodeRepo();
  git(dir, '-c', 'protocol.file.allow=always', 'submodule', '-q', 'add', `file://${sub}`, 'vendor/lib');
  git(dir, 'commit', '-qm', 'submodule');
  write(path.join(dir, 'vendor/lib'), { 'lib.txt': 'v2\n' });
  git(path.join(dir, 'vendor/lib'), 'commit', '-qam', 'v2');
  git(dir, 'commit', '-qam', 'submodule v2');
  const r = json(impact(dir, '--json', '--base', 'HEAD~1', '--head', 'HEAD'));
  assert.deepEqual(reruns(r)[0], ['[5/6] COPY . .', 'vendor/lib/lib.txt changed']);

  const parent = tmp('dcl-impact-nosub-');
  git(parent, 'clone', '-q', `file://${dir}`, 'clone');
  const missing = impact(path.join(parent, 'clone'), '--base', 'HEAD~1', '--head', 'HEAD');
  assert.equal(missing.code, EXIT.submodule);
  assert.match(missing.err, /submodule vendor\/lib: its commit [0-9a-f]{12} is not in any local repository \(run git submodule update --init vendor\/lib/);
});
