/**
 * docs/ci.md's workflow cannot run here; its `Cache impact` command can: taken from the page, with
 * the GitHub expressions filled in, run by bash on a real repository whose pull request changes the
 * lock file (the command's --fail-on then fails the step) or only a source file (it passes).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EXIT } from '../../server/src/exitCodes';

const ROOT = path.join(__dirname, '..', '..');
const GIT_ENV = {
  ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.invalid', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.invalid',
  GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', DOCKER_HOST: 'unix:///nonexistent.sock',
};

function git(cwd: string, ...args: string[]): void {
  execFileSync('git', args, { cwd, env: GIT_ENV, stdio: 'ignore' });
}

/** The `run:` of the step named "Cache impact" in the page's yaml block. */
function documentedCommand(): string {
  const page = fs.readFileSync(path.join(ROOT, 'docs', 'ci.md'), 'utf8');
  const yaml = /```yaml\n([\s\S]*?)```/.exec(page)?.[1] ?? '';
  const m = /- name: Cache impact\n\s+run: (.+)\n/.exec(yaml);
  assert.ok(m?.[1] !== undefined, 'docs/ci.md has a "Cache impact" step with a run: line');
  return m[1];
}

/** A clone as actions/checkout leaves it (fetch-depth 0, a pull request's head checked out, origin/main). */
function pullRequest(change: Record<string, string>): string {
  const origin = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'dcl-ci-origin-')));
  git(origin, 'init', '-q', '-b', 'main');
  const files: Record<string, string> = {
    'Dockerfile': 'FROM node:20\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci\nCOPY . .\nRUN npm run build\n',
    'package.json': '{"name":"x"}\n', 'package-lock.json': '{"v":1}\n', 'src/index.js': 'one\n', '.dockerignore': '.git\n',
  };
  for (const [rel, c] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(origin, rel)), { recursive: true });
    fs.writeFileSync(path.join(origin, rel), c);
  }
  git(origin, 'add', '-A');
  git(origin, 'commit', '-qm', 'base');
  git(origin, 'checkout', '-qb', 'pr');
  for (const [rel, c] of Object.entries(change)) fs.writeFileSync(path.join(origin, rel), c);
  git(origin, 'commit', '-qam', 'change');
  const parent = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'dcl-ci-')));
  git(parent, 'clone', '-q', '--branch', 'pr', `file://${origin}`, 'work');
  return path.join(parent, 'work');
}

function runStep(dir: string): { code: number | null; summary: string; stderr: string } {
  // The CLI on PATH under its published name, as `npm install --global` puts it.
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'dcl-ci-bin-'));
  fs.writeFileSync(path.join(bin, 'dockerfile-cache-lens'), `#!/bin/sh\nexec "${process.execPath}" "${path.join(ROOT, 'dist', 'cli.js')}" "$@"\n`, { mode: 0o755 });
  const summary = path.join(bin, 'summary.md');
  fs.writeFileSync(summary, '');
  const command = documentedCommand().replace(/\$\{\{ github\.base_ref \}\}/g, 'main');
  const r = spawnSync('bash', ['-e', '-c', command], { cwd: dir, encoding: 'utf8', env: { ...GIT_ENV, PATH: `${bin}:${process.env.PATH ?? ''}`, GITHUB_STEP_SUMMARY: summary } });
  return { code: r.status, summary: fs.readFileSync(summary, 'utf8'), stderr: r.stderr };
}

test('docs/ci.md: a pull request that changes the lock file fails the step, with the reruns in the summary', () => {
  const r = runStep(pullRequest({ 'package-lock.json': '{"v":2}\n' }));
  assert.equal(r.code, EXIT.rerun, r.stderr);
  assert.match(r.summary, /### Cache impact: `Dockerfile`/);
  assert.match(r.summary, /\| `\[3\/6\] COPY package\.json package-lock\.json \.\/` \(first in `stage-0`\) \| package-lock\.json changed \|/);
  assert.match(r.summary, /\| `\[4\/6\] RUN npm ci` \| previous step rebuilds \|/);
});

test('docs/ci.md: a source-only change passes, and the summary names the one copy that reruns', () => {
  const r = runStep(pullRequest({ 'src/index.js': 'two\n' }));
  assert.equal(r.code, EXIT.ok, r.stderr);
  assert.match(r.summary, /\| `\[5\/6\] COPY \. \.` \(first in `stage-0`\) \| src\/index\.js changed \|/);
  assert.doesNotMatch(r.summary, /npm ci/);
});
