/**
 * probeDocker and runBuild against the private test engine (scripts/engine.sh): real builds,
 * cache hits, failures, cancellation, a second engine over tcp, the legacy builder.
 * Build contexts live in temp dirs outside the repository; every test waits on events, not time.
 */
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { probeDocker, runBuild, type BuildOptions, type DockerReady } from '../../server/src/build/docker';
import type { VertexResult } from '../../server/src/cache/types';
import { startEngine, startProfile, startTcpEngine, stopTcpEngine } from '../helpers/engine';

const TCP_PORT = 23750;
const TIMEOUT = { timeout: 180_000 };

let env: NodeJS.ProcessEnv = {};
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'dcl-docker-test-'));

/** A build context with a Dockerfile and files; a random marker keeps its first build uncached. */
function context(dockerfile: string, files: Record<string, string> = {}): { dir: string; dockerfile: string; marker: string } {
  const marker = randomBytes(6).toString('hex');
  const dir = fs.mkdtempSync(path.join(tmpRoot, 'ctx-'));
  const text = dockerfile.replaceAll('MARKER', marker);
  fs.writeFileSync(path.join(dir, 'Dockerfile'), text);
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content.replaceAll('MARKER', marker));
  return { dir, dockerfile: path.join(dir, 'Dockerfile'), marker };
}

function options(ctx: { dir: string; dockerfile: string }, extra: Partial<BuildOptions> = {}): BuildOptions {
  return { dockerfile: ctx.dockerfile, context: ctx.dir, env, ...extra };
}

function names(vs: VertexResult[]): string[] {
  return vs.map((v) => v.name);
}

function assertReady(info: Awaited<ReturnType<typeof probeDocker>>): asserts info is DockerReady {
  assert.ok(info.ok, info.ok ? '' : info.problem.message);
}

/** Processes still in a process group, or whose command line mentions `needle`. */
function leftovers(pgid: number, needle: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid=,pgid=,args='], { encoding: 'utf8' });
  return out.split('\n').filter((l) => {
    const m = /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(l);
    return m !== null && (Number(m[2]) === pgid || ((m[3] ?? '').includes(needle) && !(m[3] ?? '').startsWith('ps ')));
  });
}

before(async () => {
  env = await startEngine();
});

after(() => {
  fs.rmSync(tmpRoot, { recursive: true, force: true });
});

describe('probeDocker', () => {
  test('the main engine: buildx, docker driver, classic store without merge ops', TIMEOUT, async () => {
    const info = await probeDocker(env);
    assertReady(info);
    assert.match(info.serverVersion, /^26\./);
    assert.ok(info.buildxVersion?.includes('0.13'));
    assert.equal(info.engine, 'buildkit');
    assert.equal(info.endpoint, env.DOCKER_HOST);
    assert.equal(info.builderName, 'default');
    assert.equal(info.builderDriver, 'docker');
    assert.equal(info.imageStore, 'classic');
    assert.equal(info.mergeOps, false);
    assert.equal(info.baseNamesPinned, false);
    assert.equal(info.builder, `${env.DOCKER_HOST}|builder=default|driver=docker`);
    assert.deepEqual(info.notes, []);
  });

  test('Docker 28.5 with the containerd store: merge ops, pinned FROM names, a builder identity of its own', TIMEOUT, async () => {
    const cenv = await startProfile('28-containerd');
    const info = await probeDocker(cenv);
    assertReady(info);
    assert.match(info.serverVersion, /^28\.5\./);
    assert.equal(info.builderDriver, 'docker');
    assert.equal(info.imageStore, 'containerd');
    assert.equal(info.mergeOps, true);
    assert.equal(info.baseNamesPinned, true);
    assert.equal(info.builder, `${cenv.DOCKER_HOST}|builder=default|driver=docker|store=containerd`);
    const classic = await probeDocker(await startProfile('28'));
    assertReady(classic);
    assert.equal(classic.imageStore, 'classic');
    assert.equal(classic.mergeOps, false);
    assert.equal(classic.baseNamesPinned, false);
  });

  test('DOCKER_HOST pointing at a dead socket: daemon-unreachable with the CLI\'s message', TIMEOUT, async () => {
    const dead = `unix://${path.join(tmpRoot, 'nobody-home.sock')}`;
    const info = await probeDocker({ ...env, DOCKER_HOST: dead });
    assert.equal(info.ok, false);
    if (info.ok) return;
    assert.equal(info.problem.kind, 'daemon-unreachable');
    assert.ok(info.problem.message.includes(`DOCKER_HOST=${dead}`), info.problem.message);
    assert.match(info.problem.detail ?? '', /Cannot connect to the Docker daemon/);
  });

  test('a daemon that never answers: daemon-unreachable after the timeout', TIMEOUT, async () => {
    const silent = net.createServer(() => { /* accept and say nothing */ });
    await new Promise<void>((resolve) => { silent.listen(0, '127.0.0.1', resolve); });
    try {
      const { port } = silent.address() as net.AddressInfo;
      const info = await probeDocker({ ...env, DOCKER_HOST: `tcp://127.0.0.1:${port}` }, { timeoutMs: 1500 });
      assert.equal(info.ok, false);
      if (info.ok) return;
      assert.equal(info.problem.kind, 'daemon-unreachable');
      assert.match(info.problem.message, /no answer within 2 s/);
    } finally {
      silent.close();
    }
  });

  test('PATH without docker: no-docker', TIMEOUT, async () => {
    const info = await probeDocker({ ...env, PATH: tmpRoot });
    assert.equal(info.ok, false);
    if (info.ok) return;
    assert.equal(info.problem.kind, 'no-docker');
    assert.equal(info.problem.message, 'Docker CLI not found on PATH: install Docker or set PATH.');
  });

  test('no buildx plugin (empty DOCKER_CONFIG): works, with a no-buildx note and the legacy engine', TIMEOUT, async () => {
    const emptyConfig = fs.mkdtempSync(path.join(tmpRoot, 'config-'));
    const info = await probeDocker({ ...env, DOCKER_CONFIG: emptyConfig });
    assertReady(info);
    assert.equal(info.buildxVersion, undefined);
    assert.equal(info.engine, 'legacy');
    assert.deepEqual(info.notes.map((n) => n.kind), ['no-buildx']);
  });
});

describe('runBuild with BuildKit', () => {
  test('vertices of a build, then the same build from the cache', TIMEOUT, async () => {
    const ctx = context('FROM busybox\nCOPY a.txt /a.txt\nRUN echo built-MARKER && cat /a.txt\n', { 'a.txt': 'hello MARKER\n' });
    const first = runBuild(options(ctx));
    const events: VertexResult[] = [];
    const logs: string[] = [];
    let output = '';
    first.onVertex((v) => events.push(v));
    first.onLog((name, text) => logs.push(`${name}: ${text}`));
    first.onOutput((t) => { output += t; });
    const r1 = await first.result;
    assert.equal(r1.success, true, r1.errorMessage);
    assert.equal(r1.exitCode, 0);
    assert.equal(r1.cancelled, false);
    assert.equal(r1.engine, 'buildkit');
    const steps = r1.vertices.filter((v) => /^\[\d/.test(v.name));
    assert.deepEqual(names(steps), [
      '[1/3] FROM docker.io/library/busybox:latest',
      '[2/3] COPY a.txt /a.txt',
      `[3/3] RUN echo built-${ctx.marker} && cat /a.txt`,
    ]);
    assert.deepEqual(steps.slice(1).map((v) => v.cached), [false, false]);
    assert.deepEqual(steps[2]?.logTail, [`built-${ctx.marker}`, `hello ${ctx.marker}`]);
    assert.ok(steps.every((v) => v.completed && v.durationMs !== undefined));
    assert.ok(events.some((v) => v.name.startsWith('[3/3]') && v.completed));
    assert.ok(logs.some((l) => l.startsWith('[3/3] RUN') && l.includes(`built-${ctx.marker}`)));
    assert.match(output, /#\d+ \[3\/3\] RUN/);

    const r2 = await runBuild(options(ctx)).result;
    assert.equal(r2.success, true);
    const again = r2.vertices.filter((v) => /^\[\d/.test(v.name));
    assert.deepEqual(names(again), names(steps));
    assert.deepEqual(again.slice(1).map((v) => v.cached), [true, true]);

    // --no-cache and a build arg reach BuildKit.
    const r3 = await runBuild(options(ctx, { noCache: true, buildArgs: { UNUSED: 'x y' } })).result;
    assert.equal(r3.success, true, r3.errorMessage);
    assert.ok(r3.vertices.filter((v) => /^\[[23]/.test(v.name)).every((v) => !v.cached));
  });

  test('a failing RUN: failedVertex with its name, the error message', TIMEOUT, async () => {
    const ctx = context('FROM busybox\nRUN echo MARKER >&2 && exit 3\nRUN echo never\n');
    const r = await runBuild(options(ctx)).result;
    assert.equal(r.success, false);
    assert.equal(r.cancelled, false);
    assert.notEqual(r.exitCode, 0);
    assert.equal(r.failedVertex?.name, `[2/3] RUN echo ${ctx.marker} >&2 && exit 3`);
    assert.match(r.failedVertex?.error ?? '', /exit code: 3/);
    assert.deepEqual(r.failedVertex?.logTail, [ctx.marker]);
    assert.match(r.errorMessage ?? '', /^failed to solve: .*exit code: 3/);
    const never = r.vertices.find((v) => v.name === '[3/3] RUN echo never');
    assert.ok(never === undefined || !never.started);
  });

  test('cancel(): the outcome says cancelled and no process of the build is left', TIMEOUT, async () => {
    const ctx = context('FROM busybox\nRUN echo MARKER && sleep 120\n');
    const handle = runBuild(options(ctx));
    // Cancel once the long step is really running.
    await new Promise<void>((resolve) => {
      handle.onLog((name) => { if (name.includes('sleep 120')) resolve(); });
    });
    const pid = handle.pid;
    assert.ok(pid !== undefined);
    assert.ok(leftovers(pid, ctx.dir).some((l) => l.includes('docker-buildx')), 'the buildx plugin runs in the group');
    handle.cancel();
    const r = await handle.result;
    assert.equal(r.cancelled, true);
    assert.equal(r.success, false);
    assert.equal(r.failedVertex, undefined);
    assert.equal(r.errorMessage, 'Build cancelled.');
    assert.deepEqual(leftovers(pid, ctx.dir), []);
    // BuildKit stops the step's container too (asynchronously: poll, bounded).
    const deadline = Date.now() + 15_000;
    while (leftovers(-1, `echo ${ctx.marker} && sleep 120`).length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.deepEqual(leftovers(-1, `echo ${ctx.marker} && sleep 120`), []);
  });

  test('a docker CLI that does not exist: a failed outcome, not an exception', TIMEOUT, async () => {
    const ctx = context('FROM busybox\n');
    const r = await runBuild(options(ctx, { docker: path.join(tmpRoot, 'no-docker-here') })).result;
    assert.equal(r.success, false);
    assert.match(r.errorMessage ?? '', /Docker CLI not found/);
  });
});

describe('a second engine over tcp (stand-in for a remote one)', () => {
  let tcpEnv: NodeJS.ProcessEnv = {};
  before(async () => {
    tcpEnv = await startTcpEngine(TCP_PORT);
  });
  after(async () => {
    await stopTcpEngine();
  });

  test('builds like the local one, with its own builder identity and cache', TIMEOUT, async () => {
    const [local, remote] = await Promise.all([probeDocker(env), probeDocker(tcpEnv)]);
    assertReady(local);
    assertReady(remote);
    assert.equal(remote.endpoint, `tcp://127.0.0.1:${TCP_PORT}`);
    assert.notEqual(remote.builder, local.builder);
    assert.notEqual(remote.daemonId, local.daemonId);

    const ctx = context('FROM alpine\nRUN echo MARKER\n');
    const onLocal = await runBuild({ ...options(ctx), env }).result;
    assert.equal(onLocal.success, true, onLocal.errorMessage);
    // Cached locally, but the other engine has never seen it.
    const onRemote = await runBuild({ ...options(ctx), env: tcpEnv }).result;
    assert.equal(onRemote.success, true, onRemote.errorMessage);
    const run = onRemote.vertices.find((v) => v.name.includes(`RUN echo ${ctx.marker}`));
    assert.equal(run?.cached, false);
    assert.equal(run?.logTail[0], ctx.marker);
    const twice = await runBuild({ ...options(ctx), env: tcpEnv }).result;
    assert.equal(twice.vertices.find((v) => v.name.includes(`RUN echo ${ctx.marker}`))?.cached, true);
  });
});

describe('the legacy builder', () => {
  test('DOCKER_BUILDKIT=0 docker build: steps, then Using cache', TIMEOUT, async () => {
    const ctx = context('FROM busybox\nCOPY a.txt /a.txt\nRUN echo legacy-MARKER\n', { 'a.txt': 'MARKER' });
    const handle = runBuild(options(ctx, { engine: 'legacy' }));
    assert.equal(handle.command.includes('--progress=rawjson'), false);
    const r1 = await handle.result;
    assert.equal(r1.success, true, r1.errorMessage);
    assert.equal(r1.engine, 'legacy');
    assert.deepEqual(names(r1.vertices), ['Step 1/3 : FROM busybox', 'Step 2/3 : COPY a.txt /a.txt', `Step 3/3 : RUN echo legacy-${ctx.marker}`]);
    assert.deepEqual(r1.vertices.map((v) => v.cached), [false, false, false]);
    assert.deepEqual(r1.vertices[2]?.logTail, [`legacy-${ctx.marker}`]);
    assert.ok(r1.notes.some((n) => n.startsWith('DEPRECATED:')), 'the CLI warns that the legacy builder is deprecated');
    const r2 = await runBuild(options(ctx, { engine: 'legacy' })).result;
    assert.deepEqual(r2.vertices.map((v) => v.cached), [false, true, true]);
  });

  test('a failing step: failedVertex and the CLI\'s message', TIMEOUT, async () => {
    const ctx = context('FROM busybox\nRUN echo MARKER && exit 3\n');
    const r = await runBuild(options(ctx, { engine: 'legacy' })).result;
    assert.equal(r.success, false);
    assert.equal(r.exitCode, 3);
    assert.equal(r.failedVertex?.name, `Step 2/2 : RUN echo ${ctx.marker} && exit 3`);
    assert.match(r.errorMessage ?? '', /returned a non-zero code: 3/);
    assert.match(r.failedVertex?.error ?? '', /returned a non-zero code: 3/);
  });

  test('BuildKit requested but no buildx plugin: falls back to the legacy builder, with a note', TIMEOUT, async () => {
    const emptyConfig = fs.mkdtempSync(path.join(tmpRoot, 'config-'));
    const ctx = context('FROM busybox\nRUN echo MARKER\n');
    const r = await runBuild(options(ctx, { env: { ...env, DOCKER_CONFIG: emptyConfig }, buildx: false })).result;
    assert.equal(r.success, true, r.errorMessage);
    assert.equal(r.engine, 'legacy');
    assert.deepEqual(names(r.vertices), ['Step 1/2 : FROM busybox', `Step 2/2 : RUN echo ${ctx.marker}`]);
    assert.match(r.notes[0] ?? '', /buildx is not installed/);
  });
});
