/**
 * The legacy step model (legacySteps.ts) against the real legacy builder (`DOCKER_BUILDKIT=0
 * docker build` on the private engine of scripts/engine.sh): build, edit, predict, build again;
 * every step's prediction must be what the builder did, under exactly the name it printed.
 *
 * Each test's Dockerfile starts with a LABEL carrying a random marker, so no earlier build (of this
 * run or another, the legacy cache being the shared image store) can serve its steps.
 *
 *   node --import tsx --test test/engine/legacy.test.ts
 */
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runBuild } from '../../server/src/build/docker';
import { inspectImages } from '../../server/src/build/images';
import { ManifestStore } from '../../server/src/cache/manifest';
import { buildConfig, Predictor, type PredictionRun } from '../../server/src/cache/predictor';
import type { BuildConfig, Prediction } from '../../server/src/cache/types';
import { startEngine } from '../helpers/engine';

const TIMEOUT = { timeout: 300_000 };
const skip = typeof process.getuid === 'function' && process.getuid() !== 0 && process.env.DCL_USE_EXISTING_DOCKER !== '1'
  ? 'the private engine needs root (or DCL_USE_EXISTING_DOCKER=1)' : false;

let env: NodeJS.ProcessEnv = {};
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'dcl-legacy-test-'));
const store = new ManifestStore(path.join(tmpRoot, 'manifests'));
const predictor = new Predictor({ store, images: (refs) => inspectImages(refs, env) });

interface Row { vertex: string; predicted: Prediction; actual: 'cached' | 'built' | 'not printed'; reason: string }

/** Predicts, builds, records; the rows of every reachable non-FROM step, and the names printed. */
async function predictAndBuild(config: BuildConfig): Promise<{ rows: Row[]; printed: string[]; run: PredictionRun }> {
  const run = await predictor.run(config, fs.readFileSync(config.dockerfile, 'utf8'));
  const outcome = await runBuild({
    dockerfile: config.dockerfile, context: config.context, target: config.target, buildArgs: config.buildArgs, engine: 'legacy', env,
  }).result;
  assert.ok(outcome.success, `build failed: ${outcome.errorMessage ?? ''}`);
  await predictor.record(run, outcome);
  const byName = new Map(outcome.vertices.map((v) => [v.name, v]));
  const rows = run.result.steps.filter((p) => p.step.reachable && p.step.kind !== 'from').map((p): Row => {
    const v = byName.get(p.step.vertex);
    return { vertex: p.step.vertex, predicted: p.prediction, actual: v === undefined ? 'not printed' : v.cached ? 'cached' : 'built', reason: p.reason };
  });
  // The ARGs before the first FROM are printed as steps but look nothing up: not planned.
  const printed = outcome.vertices.map((v) => v.name);
  const firstFrom = printed.findIndex((n) => / : FROM /i.test(n));
  return { rows, printed: printed.slice(Math.max(0, firstFrom)), run };
}

function assertAgrees(result: { rows: Row[]; printed: string[]; run: PredictionRun }, what: string): void {
  const planned = result.run.plan.steps.filter((s) => s.reachable).map((s) => s.vertex);
  assert.deepEqual(planned, result.printed, `${what}: the planned names are the printed ones`);
  const wrong = result.rows.filter((r) => (r.predicted === 'hit') !== (r.actual === 'cached') || r.predicted === 'unknown' || r.predicted === 'skipped');
  assert.deepEqual(wrong, [], `${what}: predictions that differ from the legacy builder`);
}

/** A context with a unique marker; `edit` changes it between the two builds. */
async function scenario(
  name: string,
  files: Record<string, string>,
  edit: (dir: string) => void,
  options: { buildArgs?: Record<string, string>; editedArgs?: Record<string, string>; target?: string; expectHits: number; expectMisses: number },
): Promise<Row[]> {
  const marker = randomBytes(8).toString('hex');
  const dir = fs.mkdtempSync(path.join(tmpRoot, `${name}-`));
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), content.replaceAll('MARKER', marker));
  }
  const config = (buildArgs: Record<string, string> | undefined): BuildConfig => buildConfig({
    dockerfile: path.join(dir, 'Dockerfile'), context: dir, target: options.target, buildArgs: buildArgs ?? {}, builder: 'legacy-test', engine: 'legacy',
  });
  const first = await predictAndBuild(config(options.buildArgs));
  assert.deepEqual(first.run.plan.steps.filter((s) => s.reachable).map((s) => s.vertex), first.printed, `${name}: first build names`);
  assert.deepEqual(first.rows.filter((r) => r.actual !== 'built'), [], `${name}: the first build is uncached`);
  // Unchanged: everything cached, and predicted so.
  assertAgrees(await predictAndBuild(config(options.buildArgs)), `${name} (unchanged)`);
  edit(dir);
  const second = await predictAndBuild(config(options.editedArgs ?? options.buildArgs));
  assertAgrees(second, `${name} (edited)`);
  assert.equal(second.rows.filter((r) => r.actual === 'cached').length, options.expectHits, `${name}: hits after the edit ${JSON.stringify(second.rows)}`);
  assert.equal(second.rows.filter((r) => r.actual === 'built').length, options.expectMisses, `${name}: misses after the edit`);
  return second.rows;
}

const rowOf = (rows: Row[], text: string): Row | undefined => rows.find((r) => r.vertex.endsWith(` : ${text}`));

const DOCKERFILE = `FROM alpine AS tools
LABEL tools=MARKER
RUN echo tools-MARKER > /tools.txt
FROM alpine AS base
LABEL marker=MARKER
ARG VERSION=1
ENV APP=/app MODE=dev
WORKDIR $APP
COPY package.json ./
RUN echo "deps $VERSION"
COPY src/ ./src/
EXPOSE 8080
RUN echo build
FROM base AS unused
RUN echo never-needed
FROM base AS final
COPY --from=tools /tools.txt /tools.txt
CMD ["sh"]
`;

const FILES = { 'Dockerfile': DOCKERFILE, 'package.json': '{"name":"MARKER"}\n', 'src/index.js': 'console.log(1)\n', 'src/util.js': 'exports.x = 1\n' };

const edit = (file: string, from: string | RegExp, to: string) => (dir: string): void => {
  const p = path.join(dir, file);
  const text = fs.readFileSync(p, 'utf8');
  const next = text.replace(from, to);
  assert.notEqual(next, text, `edit of ${file} changed nothing`);
  fs.writeFileSync(p, next);
};

describe('legacy builder: predictions vs DOCKER_BUILDKIT=0', { skip }, () => {
  before(async () => {
    env = await startEngine();
  });
  after(() => {
    fs.rmSync(tmpRoot, { recursive: true, force: true });
  });

  // tools: LABEL RUN (2) | base: LABEL ARG ENV WORKDIR COPY RUN COPY EXPOSE RUN (9) | unused: RUN (1) | final: COPY --from CMD (2)

  test('a source file changed: COPY src/ and everything after it rebuild, the stages built FROM it too', TIMEOUT, async () => {
    await scenario('source', FILES, edit('src/util.js', '1', '2'), { expectHits: 8, expectMisses: 6 });
  });

  test('a LABEL changed: every later step rebuilds (metadata steps are cache steps)', TIMEOUT, async () => {
    await scenario('label', { ...FILES, Dockerfile: DOCKERFILE.replace('EXPOSE 8080', 'LABEL version=1\nEXPOSE 8080') },
      edit('Dockerfile', 'version=1', 'version=2'), { expectHits: 9, expectMisses: 6 });
  });

  test('a build arg changed: the ARG and the COPY after it hit, the RUNs miss', TIMEOUT, async () => {
    const rows = await scenario('arg', FILES, () => undefined, { buildArgs: { VERSION: '1' }, editedArgs: { VERSION: '2' }, expectHits: 7, expectMisses: 7 });
    assert.equal(rowOf(rows, 'ARG VERSION=1')?.actual, 'cached');
    assert.equal(rowOf(rows, 'COPY package.json ./')?.actual, 'cached');
    assert.equal(rowOf(rows, 'RUN echo "deps $VERSION"')?.reason, 'ARG VERSION changed 1 -> 2');
  });

  test('a single copied file renamed (same content): misses in legacy', TIMEOUT, async () => {
    const rows = await scenario('rename', FILES, (dir) => {
      fs.renameSync(path.join(dir, 'package.json'), path.join(dir, 'package.jsonc'));
      edit('Dockerfile', 'COPY package.json ./', 'COPY package.jsonc ./package.json')(dir);
    }, { expectHits: 6, expectMisses: 8 });
    assert.equal(rowOf(rows, 'COPY package.jsonc ./package.json')?.actual, 'built');
  });

  test('only mtimes changed: everything is cached', TIMEOUT, async () => {
    await scenario('mtime', FILES, (dir) => {
      const t = new Date('2001-02-03T04:05:06Z');
      for (const f of ['package.json', 'src/index.js', 'src/util.js', 'src']) fs.utimesSync(path.join(dir, f), t, t);
    }, { expectHits: 14, expectMisses: 0 });
  });

  test('an ENV changed: that step and every later one of the stage rebuild', TIMEOUT, async () => {
    await scenario('env', FILES, edit('Dockerfile', 'MODE=dev', 'MODE=prod'), { expectHits: 4, expectMisses: 10 });
  });

  test('--target: stages before it are built even when not needed, stages after it are not', TIMEOUT, async () => {
    await scenario('target', { ...FILES, Dockerfile: DOCKERFILE + 'FROM final AS after\nRUN echo after-target\n' },
      edit('src/index.js', '1', '3'), { target: 'final', expectHits: 8, expectMisses: 6 });
  });
});
