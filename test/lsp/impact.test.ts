/**
 * The impact request over real LSP (the bundled server): what "Compare Cache with Branch…" and the
 * status bar show, computed by the server for an open Dockerfile with its settings; a folder that
 * is no repository is an answer with a reason, not a failed request. No Docker: DOCKER_HOST points nowhere.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { IMPACT_REQUEST, type ImpactParams, type ImpactResult } from '../../shared/src/protocol';
import { impactStatusText } from '../../client/src/impactStatus';
import { TestClient } from '../helpers/lspClient';

const GIT_ENV = {
  ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.invalid', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.invalid',
  GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1',
};

function git(cwd: string, ...args: string[]): void {
  execFileSync('git', args, { cwd, env: GIT_ENV, stdio: 'ignore' });
}

let client: TestClient;

before(async () => {
  client = new TestClient({ ...GIT_ENV, DOCKER_HOST: 'unix:///nonexistent.sock' });
  await client.initialize();
});

after(async () => {
  assert.equal(await client.shutdown(), 0);
});

function repo(): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'dcl-lsp-impact-')));
  git(dir, 'init', '-q', '-b', 'main');
  fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM node:20 AS app\nWORKDIR /app\nCOPY package.json ./\nRUN npm ci\nCOPY . .\nFROM app AS test\nRUN npm test\n');
  fs.writeFileSync(path.join(dir, 'package.json'), '{"v":1}\n');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'one');
  git(dir, 'checkout', '-qb', 'feature');
  fs.writeFileSync(path.join(dir, 'package.json'), '{"v":2}\n');
  return dir;
}

test('the server answers the impact request for the open Dockerfile, with its target setting, since main', async () => {
  const dir = repo();
  const uri = pathToFileURL(path.join(dir, 'Dockerfile')).toString();
  client.settings.set(uri, { target: 'app' });
  await client.open(uri, fs.readFileSync(path.join(dir, 'Dockerfile'), 'utf8'));
  const r = await client.connection.sendRequest<ImpactResult>(IMPACT_REQUEST, { uri } satisfies ImpactParams);
  assert.ok(r.ok, r.ok ? '' : r.message);
  assert.equal(r.report.base.branch, 'main');
  const c = r.report.configurations[0];
  assert.equal(c?.target, 'app');
  // The target stage only: `RUN npm test` of the later stage is not built.
  assert.deepEqual(c?.steps.map((s) => [s.vertex, s.reason]), [
    ['[app 3/5] COPY package.json ./', 'package.json changed'],
    ['[app 4/5] RUN npm ci', 'previous step rebuilds'],
    ['[app 5/5] COPY . .', 'previous step rebuilds'],
  ]);
  assert.match(r.markdown, /\| `\[app 4\/5\] RUN npm ci` \| previous step rebuilds \|/);
  assert.equal(impactStatusText(r.report), 'since main: RUN npm ci reruns (+2)');
});

test('a Dockerfile outside any repository: an answer that says so', async () => {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'dcl-lsp-nogit-')));
  fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM alpine\n');
  const uri = pathToFileURL(path.join(dir, 'Dockerfile')).toString();
  await client.open(uri, 'FROM alpine\n');
  const r = await client.connection.sendRequest<ImpactResult>(IMPACT_REQUEST, { uri, base: 'HEAD' } satisfies ImpactParams);
  assert.equal(r.ok, false);
  assert.ok(!r.ok && r.kind === 'not-a-repository' && /is not in a git repository/.test(r.message));
});
