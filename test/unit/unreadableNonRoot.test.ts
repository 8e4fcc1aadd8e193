/**
 * A build context with a file and a directory its user cannot read, predicted by the real CLI
 * (dist/cli.js through bin/dockerfile-cache-lens.js) as a user for whom the permissions count.
 * As root, the CLI runs as nobody (uid/gid 65534) through `setpriv`, since chmod 000 does not stop
 * root; as another user it runs directly. No mock: real files, real permissions, real process.
 *
 * What BuildKit's client does with such a context: an unreadable file is sent empty (its content is
 * not part of the cache key), an unreadable directory cannot be sent at all. So the prediction names
 * both with EACCES, and against a build recorded while everything was readable exactly those two
 * paths differ: the unreadable file "changed", the file inside the unreadable directory "removed".
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EXIT } from '../../server/src/cli';
import { ManifestStore } from '../../server/src/cache/manifest';
import { Predictor, buildConfig } from '../../server/src/cache/predictor';
import { probeDocker } from '../../server/src/build/docker';

const CLI = path.join(__dirname, '..', '..', 'bin', 'dockerfile-cache-lens.js');
const NOBODY = 65534;
/** No engine: the prediction needs none, and the child must not reach root's engine. */
const NO_DOCKER = 'unix:///nonexistent/dcl-unreadable/docker.sock';
const DOCKERFILE = 'FROM scratch\nCOPY . /app\n';

const isRoot = process.getuid?.() === 0;
const base = fs.mkdtempSync(path.join(os.tmpdir(), 'dcl-unreadable-'));
const ctx = path.join(base, 'ctx');
const home = path.join(base, 'home');
const manifests = path.join(base, 'manifests');

/** The environment of the child: its own HOME and caches, no route to a Docker engine. */
const childEnv: NodeJS.ProcessEnv = {
  PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
  HOME: home,
  XDG_CACHE_HOME: path.join(home, '.cache'),
  DOCKER_CONFIG: path.join(home, '.docker'),
  DOCKER_HOST: NO_DOCKER,
  LANG: 'C.UTF-8',
};

/** The CLI as the user the permissions apply to (nobody when we are root), or as ourselves. */
function cli(args: string[], as: 'subject' | 'self'): SpawnSyncReturns<string> {
  const argv = [process.execPath, CLI, ...args];
  const [file, ...rest] = as === 'subject' && isRoot
    ? ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', ...argv]
    : argv;
  return spawnSync(file ?? process.execPath, rest, { encoding: 'utf8', env: childEnv, cwd: base, timeout: 60_000 });
}

/** Why this cannot run here, or undefined. */
function unavailable(): string | undefined {
  if (!fs.existsSync(path.join(__dirname, '..', '..', 'dist', 'cli.js'))) return 'dist/cli.js is missing: run `npm run build` first';
  if (process.getuid === undefined) return 'no POSIX users on this platform';
  if (!isRoot) return undefined;
  // The temp dir, node and the CLI must be reachable for uid 65534.
  const probe = cli(['--help'], 'subject');
  if (probe.error !== undefined) return `running as uid ${NOBODY} needs setpriv (util-linux): ${probe.error.message}`;
  if (probe.status !== 0) return `node cannot run the CLI as uid ${NOBODY} here (exit ${probe.status ?? probe.signal}): ${probe.stderr.trim()}`;
  const reach = spawnSync('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', 'test', '-r', path.join(ctx, 'Dockerfile')]);
  if (reach.status !== 0) return `uid ${NOBODY} cannot reach ${ctx}: a parent of ${os.tmpdir()} is not world-traversable`;
  return undefined;
}

interface PredictJson {
  steps: Array<{ vertex: string; prediction: string; reason: string; details: string[] }>;
  problems: string[];
}

function predictJson(r: SpawnSyncReturns<string>): PredictJson {
  assert.equal(r.error, undefined, String(r.error));
  assert.equal(r.signal, null, `killed by ${r.signal ?? ''}: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /internal error|uncaught|unhandled/i);
  // cli.ts: predict exits EXIT.ok when it predicted, problems or not (EXIT.problems is for syntax errors).
  assert.equal(r.status, EXIT.ok, r.stderr);
  return JSON.parse(r.stdout) as PredictJson;
}

before(() => {
  // mkdtemp makes 0700 dirs: everyone must be able to get to the context, as in a real checkout.
  fs.chmodSync(base, 0o755);
  fs.mkdirSync(ctx, { mode: 0o755 });
  fs.mkdirSync(home, { mode: 0o777 });
  fs.mkdirSync(manifests, { mode: 0o777 });
  fs.chmodSync(home, 0o777); // past the umask
  fs.chmodSync(manifests, 0o777);
  fs.writeFileSync(path.join(ctx, 'Dockerfile'), DOCKERFILE, { mode: 0o644 });
  fs.writeFileSync(path.join(ctx, 'readable.txt'), 'anyone may read this\n', { mode: 0o644 });
  // Not empty: an empty file is hashed without being opened.
  fs.writeFileSync(path.join(ctx, 'secret.txt'), 'only the owner may read this\n', { mode: 0o644 });
  fs.mkdirSync(path.join(ctx, 'locked'), { mode: 0o755 });
  fs.writeFileSync(path.join(ctx, 'locked', 'inner.txt'), 'inside a directory nobody may list\n', { mode: 0o644 });
});

after(() => {
  // Permissions back first: as a non-root user rm could not get into locked/.
  for (const [p, mode] of [[path.join(ctx, 'locked'), 0o755], [path.join(ctx, 'secret.txt'), 0o644]] as const) {
    try { fs.chmodSync(p, mode); } catch { /* already gone */ }
  }
  fs.rmSync(base, { recursive: true, force: true });
});

test('an unreadable file and directory in the context: reported with EACCES, and exactly they differ from a build that could read them', async (t) => {
  const why = unavailable();
  if (why !== undefined) {
    t.skip(why);
    return;
  }
  const secret = path.join(ctx, 'secret.txt');
  const locked = path.join(ctx, 'locked');
  const args = ['predict', '--json', '--manifest', manifests, '-f', path.join(ctx, 'Dockerfile'), ctx];
  // A recorded build of this context by someone who could read all of it, under the builder
  // identity the CLI uses when no engine answers. The modes are part of BuildKit's checksum: as
  // root it is recorded with the modes already 000, so only what is read can differ; as another
  // user it has to be recorded before the chmod, and then the modes differ too.
  const record = async (): Promise<void> => {
    const info = await probeDocker(childEnv);
    assert.equal(info.ok, false, `${NO_DOCKER} answered`);
    const builder = `${info.endpoint ?? 'unknown'}|builder=default|driver=docker`;
    const predictor = new Predictor({ store: new ManifestStore(manifests), images: () => Promise.resolve(new Map()), imagesUnavailable: 'no engine in this test' });
    const config = buildConfig({ dockerfile: path.join(ctx, 'Dockerfile'), context: ctx, builder });
    const readable = await predictor.run(config, DOCKERFILE);
    assert.deepEqual(readable.problems, []);
    assert.deepEqual(readable.result.steps.map((s) => s.step.vertex), ['[1/1] COPY . /app']);
    await predictor.record(readable, {
      success: true,
      durationMs: 1000,
      vertices: readable.result.steps.map((s) => ({
        name: s.step.vertex, digest: 'sha256:recorded', cached: false, durationMs: 1000, started: true, completed: true, error: undefined, logTail: [],
      })),
    });
  };
  if (!isRoot) await record();
  fs.chmodSync(secret, 0o000);
  fs.chmodSync(locked, 0o000);
  if (isRoot) {
    await record();
    // Control: root reads through chmod 000, so the CLI as root sees the recorded context: no
    // problem, a hit. (Without it, a miss below could come from the recording, not the permissions.)
    const asRoot = predictJson(cli(args, 'self'));
    assert.deepEqual(asRoot.problems, []);
    assert.deepEqual(asRoot.steps.map((s) => [s.vertex, s.prediction]), [['[1/1] COPY . /app', 'hit']]);
  }

  const r = cli(args, 'subject');
  const json = predictJson(r);
  const problems = json.problems;
  assert.equal(problems.length, 2, problems.join('\n'));
  assert.ok(problems.some((p) => /^secret\.txt: cannot be read \(EACCES\); BuildKit receives it empty\b/.test(p)), problems.join('\n'));
  assert.ok(problems.some((p) => /^locked: cannot list the directory \(EACCES\)/.test(p)), problems.join('\n'));
  // The same problems on stderr for a person.
  assert.match(r.stderr, /secret\.txt: cannot be read \(EACCES\)/);
  assert.match(r.stderr, /locked: cannot list the directory \(EACCES\)/);

  // Sent empty and not sent: the COPY's checksum is not the recorded one, and only these paths
  // account for it (plus, when recorded before the chmod, the directory's own mode); readable.txt
  // and the Dockerfile are the same as recorded.
  assert.equal(json.steps.length, 1);
  const copy = json.steps[0];
  assert.ok(copy);
  assert.equal(copy.vertex, '[1/1] COPY . /app');
  assert.equal(copy.prediction, 'miss', copy.reason);
  assert.deepEqual([...copy.details].sort(), [...(isRoot ? [] : ['locked changed']), 'locked/inner.txt removed', 'secret.txt changed']);
});
