/**
 * The real server process with DOCKER_HOST pointing at nothing (Docker not running):
 * - a never-built Dockerfile says `never built`, as it does with an engine: no lens says `unknown`
 *   or repeats that the engine is missing; the stopped engine is said once (DOCKER_STATUS_NOTIFICATION);
 * - a build's buildFinished answer comes after the new state is computed and the lenses were asked
 *   to refresh: a client that reads the lenses once the answer is in sees the build.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CodeLensRequest, type CodeLens } from 'vscode-languageserver-protocol/node';
import {
  BUILD_FINISHED_REQUEST, DOCKER_STATUS_NOTIFICATION, PREPARE_BUILD_REQUEST, type BuildFinishedParams, type BuildFinishedResult,
  type DockerStatusParams, type PrepareBuildParams, type PrepareBuildResult,
} from '../../shared/src/protocol';
import { TestClient } from '../helpers/lspClient';

const NOWHERE = 'unix:///nonexistent/docker.sock';
const EXAMPLE = path.join(__dirname, '..', '..', 'examples', 'node-app');

let dir: string;
let client: TestClient;
let dockerStatus: Promise<DockerStatusParams>;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcl-nodocker-'));
  fs.cpSync(EXAMPLE, path.join(dir, 'app'), { recursive: true });
  client = new TestClient({ ...process.env, DOCKER_HOST: NOWHERE });
  client.settings.set('*', { manifestDirectory: path.join(dir, 'manifests') });
  dockerStatus = new Promise((resolve) => {
    client.connection.onNotification(DOCKER_STATUS_NOTIFICATION, (p: DockerStatusParams) => resolve(p));
  });
  await client.initialize();
});

after(async () => {
  assert.equal(await client.shutdown(), 0);
  fs.rmSync(dir, { recursive: true, force: true });
});

function titles(lenses: CodeLens[] | null): string[] {
  return (lenses ?? []).map((l) => l.command?.title ?? '');
}

/** Lenses once they are predictions (the first scan of the context answers `hashing…`). */
async function predictedLenses(uri: string): Promise<string[]> {
  for (;;) {
    const refreshed = client.nextLensRefresh();
    const t = titles(await client.connection.sendRequest(CodeLensRequest.type, { textDocument: { uri } }));
    if (t.length > 0 && !t.some((x) => x.includes('hashing build context'))) return t;
    await refreshed;
  }
}

const dockerfileUri = (): string => pathToFileURL(path.join(dir, 'app', 'Dockerfile')).toString();

test('without Docker, a never-built Dockerfile says never built; the stopped engine is said once, apart', async () => {
  const uri = dockerfileUri();
  await client.open(uri, fs.readFileSync(path.join(dir, 'app', 'Dockerfile'), 'utf8'));
  const shown = await predictedLenses(uri);
  const status = await dockerStatus;
  assert.equal(status.running, false);
  assert.match(status.notice ?? '', /Docker is not running/);
  assert.ok((status.problem ?? '').includes(NOWHERE), status.problem);

  const summaries = shown.filter((t) => /^\d+ of \d+ steps cached/.test(t));
  const steps = shown.filter((t) => !summaries.includes(t));
  assert.ok(summaries.length >= 2, JSON.stringify(shown));
  for (const s of summaries) assert.match(s, /^0 of \d+ steps cached · never built$/, s);
  assert.ok(steps.length >= 9, JSON.stringify(shown));
  // Nothing is recorded: every step runs, the FROM lines because the file was never built.
  assert.ok(steps.every((t) => t.startsWith('↻')), JSON.stringify(steps));
  assert.ok(steps.some((t) => /never built/.test(t)), JSON.stringify(steps));
  assert.ok(!shown.some((t) => /unknown|Docker|engine/i.test(t)), JSON.stringify(shown));
});

test('buildFinished is answered after the new prediction is in place and the lenses were refreshed', async () => {
  const uri = dockerfileUri();
  await predictedLenses(uri);
  const prepared = await client.connection.sendRequest<PrepareBuildResult>(PREPARE_BUILD_REQUEST, { uri } satisfies PrepareBuildParams);
  assert.ok(prepared.steps.length > 0);
  // No engine here by design (the subject is the order of messages): the vertices are those a
  // build of these steps reports, each run.
  const vertices = prepared.steps.map((s) => ({
    name: s.vertex, digest: `sha256:${Buffer.from(s.vertex).toString('hex').padEnd(64, '0').slice(0, 64)}`, cached: false,
    durationMs: 1200, started: true, completed: true, error: undefined, logTail: [],
  }));
  const before = client.lensRefreshes;
  let refreshesAtAnswer = -1;
  const finished = await client.connection.sendRequest<BuildFinishedResult>(BUILD_FINISHED_REQUEST, {
    buildId: prepared.buildId, success: true, cancelled: false, durationMs: 5000, vertices,
  } satisfies BuildFinishedParams).then((r) => {
    refreshesAtAnswer = client.lensRefreshes;
    return r;
  });
  assert.equal(finished.recorded, true);
  assert.ok(refreshesAtAnswer > before, `the lens refresh came after the answer (refreshes: ${before} before, ${refreshesAtAnswer} at the answer)`);
  // Read at once, the lenses show the recorded build.
  const shown = titles(await client.connection.sendRequest(CodeLensRequest.type, { textDocument: { uri } }));
  const summaries = shown.filter((t) => /^\d+ of \d+ steps cached/.test(t));
  assert.ok(summaries.length >= 2, JSON.stringify(shown));
  for (const s of summaries) assert.match(s, /last built just now$/, s);
});
