/**
 * Builds as the `dockerfile-cache-lens` task runs them: client/src/buildFlow.ts with the real
 * language server process (dist/server.js over LSP) and the real engine (scripts/engine.sh).
 * A build is recorded, an edit flips exactly the predicted steps, a failure lands on its line, a
 * cancelled build keeps the earlier record, and a second engine keeps its own cache.
 * Contexts live in temp dirs outside the repository with a marker unique to this run; every test
 * waits on messages and events.
 */
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DidChangeWatchedFilesNotification, FileChangeType } from 'vscode-languageserver-protocol/node';
import { probeDocker, runBuild } from '../../server/src/build/docker';
import type { VertexResult } from '../../server/src/cache/types';
import {
  BUILD_FINISHED_REQUEST, PREPARE_BUILD_REQUEST,
  type BuildFinishedParams, type BuildFinishedResult, type PrepareBuildParams, type PrepareBuildResult,
} from '../../shared/src/protocol';
import { EXIT_CANCELLED, startBuildFlow, type BuildFlowResult, type BuildRequest, type BuildServer } from '../../client/src/buildFlow';
import { renderReport } from '../../client/src/report';
import { TestClient } from '../helpers/lspClient';
import { startEngine, startTcpEngine, stopTcpEngine } from '../helpers/engine';

const TIMEOUT = { timeout: 240_000 };
const TCP_PORT = 23761;

let env: NodeJS.ProcessEnv;
let client: TestClient;
let manifests: string;
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'dcl-buildtask-'));
const marker = `${process.pid}-${randomBytes(4).toString('hex')}`;

function serverOf(c: TestClient): BuildServer {
  return {
    prepare: (p: PrepareBuildParams) => c.connection.sendRequest<PrepareBuildResult>(PREPARE_BUILD_REQUEST, p),
    finished: (p: BuildFinishedParams) => c.connection.sendRequest<BuildFinishedResult>(BUILD_FINISHED_REQUEST, p),
  };
}

/** A context dir with files (MARKER replaced); returns the Dockerfile's path and URI. */
function project(name: string, files: Record<string, string>): { dir: string; file: string; uri: string } {
  const dir = path.join(tmpRoot, name);
  fs.mkdirSync(dir, { recursive: true });
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text.replaceAll('MARKER', marker));
  }
  const file = path.join(dir, 'Dockerfile');
  return { dir, file, uri: pathToFileURL(file).toString() };
}

interface Run { result: BuildFlowResult; text: string }

/** One build through buildFlow, as the task's pseudoterminal runs it. */
async function build(request: BuildRequest, opts: { c?: TestClient; env?: NodeJS.ProcessEnv; onVertex?: (v: VertexResult, cancel: () => void) => void } = {}): Promise<Run> {
  let text = '';
  const flow = startBuildFlow({
    server: serverOf(opts.c ?? client),
    write: (t) => { text += t; },
    docker: { probeDocker, runBuild },
    env: opts.env ?? env,
    request,
    onVertex: opts.onVertex === undefined ? undefined : (v) => { opts.onVertex?.(v, () => { flow.cancel(); }); },
  });
  const result = await flow.result;
  return { result, text };
}

async function prepare(uri: string, c: TestClient = client): Promise<PrepareBuildResult> {
  return serverOf(c).prepare({ uri });
}

function predictions(p: PrepareBuildResult): string[] {
  return p.steps.map((s) => s.prediction);
}

/** Processes whose command line mentions `needle` (not this `ps`). */
function processes(needle: string): string[] {
  return execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).split('\n')
    .filter((l) => l.includes(needle) && !/^\s*\d+\s+ps /.test(l));
}

before(async () => {
  env = await startEngine();
  manifests = fs.mkdtempSync(path.join(os.tmpdir(), 'dcl-buildtask-m-'));
  client = new TestClient(env);
  client.settings.set('*', { manifestDirectory: manifests });
  await client.initialize();
});

after(async () => {
  await client.shutdown();
  fs.rmSync(tmpRoot, { recursive: true, force: true });
  fs.rmSync(manifests, { recursive: true, force: true });
});

describe('a Node project', () => {
  const app = project('app', {
    'Dockerfile': [
      'FROM node:20-alpine',
      'WORKDIR /app',
      'COPY package.json ./',
      'RUN npm ci',
      'COPY . .',
      'RUN npm run build',
      '',
    ].join('\n'),
    'package.json': JSON.stringify({ name: 'build-task-test', marker: 'MARKER' }) + '\n',
    'src/index.ts': 'export const a = 1;\n',
    '.dockerignore': 'node_modules\n',
  });

  test('never built: every step is a miss; the build records a manifest and the next prepare says hit everywhere', TIMEOUT, async () => {
    const before = await prepare(app.uri);
    assert.equal(before.steps.length, 6);
    assert.ok(predictions(before).every((p) => p === 'miss'), predictions(before).join());

    const { result, text } = await build({ uri: app.uri });
    assert.equal(result.status, 'succeeded', text);
    assert.equal(result.exitCode, 0);
    assert.equal(result.finished?.recorded, true);
    assert.equal(result.finished?.failure, undefined);
    // The first step with the run's marker is COPY package.json: BuildKit may hold WORKDIR from other runs.
    assert.deepEqual(result.finished?.disagreements.filter((d) => !d.vertex.endsWith('WORKDIR /app')), []);
    assert.ok((result.finished?.built ?? 0) >= 4, JSON.stringify(result.finished));
    // The terminal: the plan, the prediction, BuildKit's progress, the result.
    assert.match(text, new RegExp(`Dockerfile  ${app.file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.match(text, /Predicted:\n {2}↻ \[1\/6\] FROM/);
    assert.match(text, /0 of 6 steps cached, 6 will run/);
    assert.match(text, /\$ \S*docker buildx build --progress=rawjson/);
    assert.match(text, /#\d+ \[4\/6\] RUN npm ci/);
    assert.match(text, /\nBuilt: \d+ step\(s\) cached, \d+ run in /);

    const again = await prepare(app.uri);
    assert.deepEqual(predictions(again), ['hit', 'hit', 'hit', 'hit', 'hit', 'hit']);
  });

  test('a source edit flips exactly the predicted steps, and BuildKit agrees', TIMEOUT, async () => {
    fs.writeFileSync(path.join(app.dir, 'src', 'index.ts'), 'export const a = 22;\n');
    await client.connection.sendNotification(DidChangeWatchedFilesNotification.type, {
      changes: [{ uri: pathToFileURL(path.join(app.dir, 'src', 'index.ts')).toString(), type: FileChangeType.Changed }],
    });
    const edited = await prepare(app.uri);
    assert.deepEqual(edited.steps.map((s) => [s.vertex.replace(/^\[\d\/6\] /, ''), s.prediction]).slice(1), [
      ['WORKDIR /app', 'hit'],
      ['COPY package.json ./', 'hit'],
      ['RUN npm ci', 'hit'],
      ['COPY . .', 'miss'],
      ['RUN npm run build', 'miss'],
    ]);
    assert.match(edited.steps[4]?.reason ?? '', /src\/index\.ts changed/);

    const { result, text } = await build({ uri: app.uri });
    assert.equal(result.status, 'succeeded', text);
    assert.deepEqual(result.finished?.disagreements, [], text);
    const cached = (name: string): boolean | undefined => result.vertices.find((v) => v.name.endsWith(name))?.cached;
    assert.equal(cached('RUN npm ci'), true);
    assert.equal(cached('COPY . .'), false);
    assert.equal(cached('RUN npm run build'), false);
    assert.match(text, /Every step went as predicted/);
    assert.deepEqual(predictions(await prepare(app.uri)), ['hit', 'hit', 'hit', 'hit', 'hit', 'hit']);
  });
});

test('a failing RUN: the failure is on its line, in the result, the terminal and a diagnostic', TIMEOUT, async () => {
  const text = 'FROM busybox\nRUN echo MARKER-ok\nRUN echo MARKER-failing && exit 3\nRUN echo never\n'.replaceAll('MARKER', marker);
  const p = project('failing', { 'Dockerfile': text });
  await client.open(p.uri, text, 1);
  const { result, text: out } = await build({ uri: p.uri });
  assert.equal(result.status, 'failed', out);
  assert.notEqual(result.exitCode, 0);
  assert.equal(result.finished?.failure?.line, 3);
  assert.match(result.finished?.failure?.vertex ?? '', /RUN echo .*-failing && exit 3$/);
  assert.match(result.finished?.failure?.message ?? '', /exit code: 3/);
  assert.ok(out.includes(`${p.file}:3: error: `), out);
  // The cache report (Show Cache Report) of the same result: each step, predicted and actual.
  const report = renderReport({ time: new Date().toISOString(), label: 'failing/Dockerfile', result });
  assert.match(report, /\| `\[3\/4\] RUN echo \S+-failing && exit 3` \| ↻ rebuilds \| failed \|/);
  assert.match(report, /## Failure\n\nLine 3: /);
  const diags = await client.waitForDiagnostics(p.uri, (d) => d.diagnostics.some((x) => x.code === 'build/failed'));
  const failed = diags.diagnostics.find((x) => x.code === 'build/failed');
  assert.equal(failed?.range.start.line, 2);
  const message = failed?.message;
  assert.match(typeof message === 'string' ? message : message?.value ?? '', /exit code: 3/);
  await client.close(p.uri);
});

test('a cancelled build keeps the earlier successful build and leaves no docker process', TIMEOUT, async () => {
  const p = project('cancel', { 'Dockerfile': 'FROM busybox\nRUN echo MARKER-first > /first\n' });
  const first = await build({ uri: p.uri });
  assert.equal(first.result.status, 'succeeded', first.text);
  assert.deepEqual(predictions(await prepare(p.uri)), ['hit', 'hit']);

  const sleeper = `echo ${marker}-sleep && sleep 30`;
  fs.writeFileSync(p.file, `FROM busybox\nRUN echo ${marker}-first > /first\nRUN ${sleeper}\n`);
  assert.deepEqual(predictions(await prepare(p.uri)), ['hit', 'hit', 'miss']);
  const { result, text } = await build({ uri: p.uri }, {
    onVertex: (v, cancel) => { if (v.started && v.name.includes('sleep 30')) cancel(); },
  });
  assert.equal(result.status, 'cancelled', text);
  assert.equal(result.exitCode, EXIT_CANCELLED);
  assert.equal(result.outcome?.cancelled, true);
  assert.equal(result.finished?.recorded, true);
  assert.equal(result.finished?.failure, undefined);
  // The docker CLI and its buildx plugin are gone (they named the context dir).
  assert.deepEqual(processes(p.dir), []);
  // The step's container: BuildKit stops it asynchronously (poll, bounded).
  const deadline = Date.now() + 15_000;
  while (processes(sleeper).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(processes(sleeper), []);
  // The manifest of the earlier build is intact: its steps are still predicted cached.
  const after = await prepare(p.uri);
  assert.deepEqual(predictions(after), ['hit', 'hit', 'miss']);
});

describe('a second engine over tcp (a remote one)', () => {
  let tcpEnv: NodeJS.ProcessEnv;
  let tcpClient: TestClient;
  before(async () => {
    tcpEnv = await startTcpEngine(TCP_PORT);
    // The server as VS Code would start it with DOCKER_HOST set: same manifest directory.
    tcpClient = new TestClient(tcpEnv);
    tcpClient.settings.set('*', { manifestDirectory: manifests });
    await tcpClient.initialize();
  });
  after(async () => {
    await tcpClient.shutdown();
    await stopTcpEngine();
  });

  test('builds there, with its builder identity; the main engine\'s prediction is unaffected', TIMEOUT, async () => {
    const p = project('remote', { 'Dockerfile': 'FROM alpine\nRUN echo MARKER-remote\n' });
    const { result, text } = await build({ uri: p.uri }, { c: tcpClient, env: tcpEnv });
    assert.equal(result.status, 'succeeded', text);
    assert.equal(result.docker?.endpoint, `tcp://127.0.0.1:${TCP_PORT}`);
    assert.match(text, new RegExp(`at tcp://127\\.0\\.0\\.1:${TCP_PORT}`));
    assert.deepEqual(predictions(await prepare(p.uri, tcpClient)), ['hit', 'hit']);
    // Recorded for the tcp builder only: the main engine has never built it.
    const main = await prepare(p.uri);
    assert.equal(main.steps[1]?.prediction, 'miss', main.steps[1]?.reason);
  });
});
