/**
 * The Docker daemon stops in the middle of a build. A private second engine (scripts/engine.sh
 * tcp PORT) is stopped (`engine.sh stop-tcp`: SIGTERM to dockerd, then its tcp forwarder) while a
 * RUN step is running — once through the task's flow (client/src/buildFlow.ts with the real
 * language server process), once through `dockerfile-cache-lens build`.
 * The build must end soon with a failure that says the engine went away, the language server must
 * live on, and the successful build recorded before must stay in the manifest.
 * Waits on progress and exits, never on time; deadlines only bound how long a hang may last.
 */
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { probeDocker, runBuild } from '../../server/src/build/docker';
import { ManifestStore } from '../../server/src/cache/manifest';
import { buildConfig } from '../../server/src/cache/predictor';
import { EXIT } from '../../server/src/cli';
import {
  BUILD_FINISHED_REQUEST, PREPARE_BUILD_REQUEST,
  type BuildFinishedParams, type BuildFinishedResult, type PrepareBuildParams, type PrepareBuildResult,
} from '../../shared/src/protocol';
import { EXIT_CANCELLED, startBuildFlow, type BuildFlowResult, type BuildServer } from '../../client/src/buildFlow';
import { TestClient } from '../helpers/lspClient';
import { startTcpEngine, stopTcpEngine } from '../helpers/engine';

const TIMEOUT = { timeout: 300_000 };
/** Not used by any other test (docker.test.ts: 23750, buildTask.test.ts: 23761). */
const TCP_PORT = 23783;
const ENDPOINT = `tcp://127.0.0.1:${TCP_PORT}`;
/** How long a build may take to end once its engine is gone (a hang fails, it is not waited out). */
const END_WITHIN_MS = 60_000;
const CLI = path.join(__dirname, '..', '..', 'bin', 'dockerfile-cache-lens.js');

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'dcl-daemondies-'));
const manifests = path.join(tmpRoot, 'manifests');
const marker = `${process.pid}-${randomBytes(4).toString('hex')}`;
/** What the failure must say: the engine went away, named by its address. */
const ENGINE_GONE = new RegExp(`Lost the connection to the Docker engine at tcp://127\\.0\\.0\\.1:${TCP_PORT} during the build: the daemon stopped or became unreachable`);

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function serverOf(c: TestClient): BuildServer {
  return {
    prepare: (p: PrepareBuildParams) => c.connection.sendRequest<PrepareBuildResult>(PREPARE_BUILD_REQUEST, p),
    finished: (p: BuildFinishedParams) => c.connection.sendRequest<BuildFinishedResult>(BUILD_FINISHED_REQUEST, p),
  };
}

function project(name: string, dockerfile: string): { dir: string; file: string; uri: string } {
  const dir = path.join(tmpRoot, name);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'Dockerfile');
  fs.writeFileSync(file, dockerfile);
  return { dir, file, uri: pathToFileURL(file).toString() };
}

/** `p`, or a rejection once `ms` have passed (then `onTimeout` runs, e.g. to kill what hangs). */
async function within<T>(p: Promise<T>, ms: number, what: string, onTimeout: () => void = () => undefined): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new Error(`${what} did not happen within ${ms / 1000} s`));
    }, ms);
  });
  try {
    return await Promise.race([p, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** A line `text` of the step's own output (`#N text` in the readable progress), not its name. */
function stepOutput(text: string): RegExp {
  return new RegExp(`^#\\d+ ${escape(text)}$`, 'm');
}

describe('the engine stops during a build', () => {
  let tcpEnv: NodeJS.ProcessEnv;
  let client: TestClient | undefined;

  before(async () => {
    fs.mkdirSync(manifests);
    tcpEnv = await startTcpEngine(TCP_PORT);
    client = new TestClient(tcpEnv);
    client.settings.set('*', { manifestDirectory: manifests });
    await client.initialize();
  });

  after(async () => {
    try {
      if (client !== undefined && client.process.exitCode === null && client.process.signalCode === null) {
        await within(client.shutdown(), 30_000, 'the language server\'s shutdown', () => client?.process.kill());
      }
    } finally {
      try {
        await stopTcpEngine();
      } finally {
        fs.rmSync(tmpRoot, { recursive: true, force: true });
      }
    }
  });

  test('through the build task: a clear failure, the server lives on, the earlier build stays recorded', TIMEOUT, async () => {
    assert.ok(client);
    const c = client;
    const server = serverOf(c);
    const first = `${marker}-first`;
    const p = project('task', `FROM busybox\nRUN echo ${first} > /first\n`);

    // A successful build, recorded.
    let text1 = '';
    const built = await startBuildFlow({
      server, write: (t) => { text1 += t; }, docker: { probeDocker, runBuild }, env: tcpEnv, request: { uri: p.uri },
    }).result;
    assert.equal(built.status, 'succeeded', text1);
    assert.equal(built.docker?.endpoint, ENDPOINT);
    assert.equal(built.finished?.recorded, true);
    const builder = built.docker?.builder;
    assert.ok(builder !== undefined);
    const recordedSteps = built.prepared?.steps.map((s) => s.vertex);
    assert.equal(recordedSteps?.length, 2);
    assert.deepEqual((await server.prepare({ uri: p.uri })).steps.map((s) => s.prediction), ['hit', 'hit']);

    // A second build whose last step runs for long; the engine stops while it runs.
    const sleeper = `${marker}-sleep`;
    fs.writeFileSync(p.file, `FROM busybox\nRUN echo ${first} > /first\nRUN echo ${sleeper} && sleep 30\n`);
    let text = '';
    let sawSleep: () => void = () => undefined;
    const sleeping = new Promise<void>((resolve) => { sawSleep = resolve; });
    const flow = startBuildFlow({
      server,
      write: (t) => {
        text += t;
        if (stepOutput(sleeper).test(text)) sawSleep();
      },
      docker: { probeDocker, runBuild },
      env: tcpEnv,
      request: { uri: p.uri },
    });
    await within(Promise.race([
      sleeping,
      flow.result.then((r) => { throw new Error(`the build ended (${r.status}) before its sleep step ran:\n${text}`); }),
    ]), 120_000, 'the sleep step', () => { flow.cancel(); });

    const stopped = Date.now();
    await stopTcpEngine();
    const result: BuildFlowResult = await within(flow.result, END_WITHIN_MS, 'the end of the build after the engine stopped', () => { flow.cancel(); });
    const endedAfterMs = Date.now() - stopped;

    // A failure (not a success, not a cancel by the user), said as what happened.
    assert.equal(result.status, 'failed', text);
    assert.notEqual(result.exitCode, 0);
    assert.notEqual(result.exitCode, EXIT_CANCELLED);
    assert.equal(result.outcome?.success, false);
    assert.equal(result.outcome?.cancelled, false);
    assert.match(result.outcome?.errorMessage ?? '', ENGINE_GONE, text);
    // The terminal's last word is the same message; it is no step's fault, so no line is blamed.
    assert.match(text, new RegExp(`\\nFailed: .*\\nerror: ${ENGINE_GONE.source}`), text);
    assert.equal(result.finished?.failure, undefined, JSON.stringify(result.finished?.failure));
    // The sleep step had started and did not complete: it is not recorded as built.
    const sleepVertex = result.outcome?.vertices.find((v) => v.name.includes(sleeper));
    assert.ok(sleepVertex, text);
    assert.equal(sleepVertex.started, true);
    assert.equal(sleepVertex.completed, false);
    assert.equal(result.finished?.recorded, true);
    assert.ok(endedAfterMs < END_WITHIN_MS, `${endedAfterMs} ms`);

    // The language server lives on and answers.
    assert.equal(c.process.exitCode, null, c.stderr);
    assert.equal(c.process.signalCode, null, c.stderr);
    const meanwhile = await within(server.prepare({ uri: p.uri }), 30_000, 'an answer of the language server');
    assert.deepEqual(meanwhile.steps.map((s) => s.vertex.replace(/^\[\d\/\d\] /, '')), [
      'FROM docker.io/library/busybox:latest', `RUN echo ${first} > /first`, `RUN echo ${sleeper} && sleep 30`,
    ]);
    assert.deepEqual(c.logs.filter((l) => /uncaught|unhandled/i.test(l)), []);

    // The manifest: the interrupted build on top, the successful one kept below it, step by step.
    const store = new ManifestStore(manifests);
    const loaded = await store.load(buildConfig({ dockerfile: p.file, context: p.dir, builder }));
    assert.equal(loaded.problem, undefined);
    const builds = loaded.manifest?.builds ?? [];
    assert.deepEqual(builds.map((b) => b.success), [false, true]);
    assert.deepEqual(builds[1]?.steps.map((s) => s.vertex), recordedSteps);
    assert.equal(builds[1]?.steps[1]?.result, 'built');
    assert.equal(builds[0]?.steps.find((s) => s.vertex.includes(sleeper))?.result, 'not-run');

    // The engine back (same data): the first build's steps are predicted cached, the interrupted
    // step is not — and BuildKit agrees.
    await startTcpEngine(TCP_PORT);
    const back = await server.prepare({ uri: p.uri });
    assert.deepEqual(back.steps.map((s) => s.prediction), ['hit', 'hit', 'miss'], JSON.stringify(back.steps));
    fs.writeFileSync(p.file, `FROM busybox\nRUN echo ${first} > /first\n`);
    let text3 = '';
    const again = await startBuildFlow({
      server, write: (t) => { text3 += t; }, docker: { probeDocker, runBuild }, env: tcpEnv, request: { uri: p.uri },
    }).result;
    assert.equal(again.status, 'succeeded', text3);
    assert.deepEqual(again.finished?.disagreements, [], text3);
    assert.equal(again.outcome?.vertices.find((v) => v.name.endsWith(`RUN echo ${first} > /first`))?.cached, true, text3);
  });

  test('through the CLI: `build` exits with EXIT.buildFailed and says the engine went away', TIMEOUT, async () => {
    await startTcpEngine(TCP_PORT); // idempotent: the test above leaves it running, unless it failed early
    const sleeper = `${marker}-cli-sleep`;
    const p = project('cli', `FROM busybox\nRUN echo ${marker}-cli > /cli\nRUN echo ${sleeper} && sleep 30\n`);
    const child = spawn(process.execPath, [CLI, 'build', '--manifest', manifests, '-f', p.file, p.dir], {
      env: tcpEnv, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let sawSleep: () => void = () => undefined;
    const sleeping = new Promise<void>((resolve) => { sawSleep = resolve; });
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (stepOutput(sleeper).test(stderr)) sawSleep();
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.on('close', (code, signal) => { resolve({ code, signal }); });
    });
    await within(Promise.race([
      sleeping,
      exited.then((e) => { throw new Error(`the CLI exited (${e.code ?? e.signal ?? '?'}) before the sleep step ran:\n${stderr}`); }),
    ]), 120_000, 'the sleep step', () => { child.kill('SIGINT'); });

    await stopTcpEngine();
    const { code, signal } = await within(exited, END_WITHIN_MS, 'the CLI\'s exit after the engine stopped', () => { child.kill('SIGINT'); });
    assert.equal(signal, null, stderr);
    assert.equal(code, EXIT.buildFailed, stderr);
    assert.match(stderr, new RegExp(`dockerfile-cache-lens: build failed: ${ENGINE_GONE.source}`), stderr);
    assert.doesNotMatch(stderr, /internal error/);
    assert.match(stdout, /^failed: /m, stdout);
  });
});
