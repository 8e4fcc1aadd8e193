/**
 * Docker stops after a build, through the real CLI. The private engine is reached through a
 * symlink to its socket (a DOCKER_HOST of this test's own); the copy of examples/node-app is built
 * there and recorded; then the symlink goes: the same endpoint, and nothing answers (the shared
 * engine itself is never stopped).
 * - Steps recorded as cached are honestly `unknown`: their base image cannot be checked.
 * - A step never recorded is a miss, as with an engine; a never-built copy says `never built`.
 * - The stopped engine is said once, in predict's header (stderr) and its JSON `docker` field.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startEngine } from '../helpers/engine';

const ROOT = path.join(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const TIMEOUT = { timeout: 300_000 };

let dir: string;
let env: NodeJS.ProcessEnv;
let socket: string;

interface Run { code: number; stdout: string; stderr: string }

function cli(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env, timeout: 240_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

interface JsonStep { vertex: string; prediction: string; reason: string; instruction: string }
interface JsonPredict { steps: JsonStep[]; docker: { running: boolean; notice: string; problem: string } | null }

async function predictJson(app: string, manifests: string): Promise<JsonPredict> {
  const r = await cli(['predict', '--json', '--manifest', manifests, app]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as JsonPredict;
}

before(async () => {
  const engineEnv = await startEngine();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcl-nodocker-'));
  socket = path.join(dir, 'docker.sock');
  const real = (engineEnv.DOCKER_HOST ?? '').replace(/^unix:\/\//, '');
  assert.ok(fs.existsSync(real), `no engine socket at ${real}`);
  fs.symlinkSync(real, socket);
  env = { ...engineEnv, DOCKER_HOST: `unix://${socket}` };
  for (const name of ['built', 'never']) fs.cpSync(path.join(ROOT, 'examples', 'node-app'), path.join(dir, name), { recursive: true });
});

after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

test('after a build, with Docker gone: recorded steps unknown, new steps miss, a never-built copy never built; Docker said once', TIMEOUT, async () => {
  const manifests = path.join(dir, 'manifests');
  const built = path.join(dir, 'built');
  const b = await cli(['build', '--manifest', manifests, built]);
  assert.equal(b.code, 0, b.stderr + b.stdout);
  const up = await predictJson(built, manifests);
  assert.equal(up.docker, null);
  assert.ok(up.steps.every((s) => s.prediction === 'hit'), JSON.stringify(up.steps, null, 1));

  fs.rmSync(socket); // the engine at that address is gone
  fs.appendFileSync(path.join(built, 'Dockerfile'), 'RUN echo "not built before" > /tmp/new\n');
  const down = await predictJson(built, manifests);
  assert.equal(down.docker?.running, false);
  assert.match(down.docker?.notice ?? '', /^Docker is not running: base images cannot be checked$/);
  assert.ok((down.docker?.problem ?? '').includes(socket), down.docker?.problem);
  const added = down.steps.find((s) => s.vertex.includes('not built before'));
  assert.equal(added?.prediction, 'miss', JSON.stringify(added));
  const recorded = down.steps.filter((s) => s !== added);
  assert.ok(recorded.length >= 9);
  // Cached when built, and the base image may have moved since: nothing here can say.
  for (const s of recorded) assert.equal(s.prediction, 'unknown', JSON.stringify(s));
  for (const s of recorded.filter((x) => x.instruction === 'FROM')) assert.match(s.reason, /Docker engine cannot be asked/, JSON.stringify(s));

  const never = await predictJson(path.join(dir, 'never'), path.join(dir, 'manifests-none'));
  assert.equal(never.docker?.running, false);
  assert.ok(never.steps.every((s) => s.prediction === 'miss'), JSON.stringify(never.steps, null, 1));
  for (const s of never.steps.filter((x) => x.instruction === 'FROM')) assert.equal(s.reason, 'never built');
  assert.ok(!never.steps.some((s) => /Docker|engine/.test(s.reason)), JSON.stringify(never.steps, null, 1));

  // The text output: the notice once, in the header; the rows do not repeat it.
  const text = await cli(['predict', '--manifest', path.join(dir, 'manifests-none'), path.join(dir, 'never')]);
  assert.equal(text.code, 0, text.stderr);
  assert.equal(text.stderr.split('Docker is not running: base images cannot be checked').length - 1, 1, text.stderr);
  assert.doesNotMatch(text.stdout, /Docker|engine|^\? /m, text.stdout);
  assert.match(text.stdout, /never built/);
});
