/**
 * Recorded file lists: a step that copies many files keeps their list beside the manifest (the
 * manifest is read on every prediction and stays small), a later miss still names the changed
 * file from it, a lost list gives an honest reason, unused lists are collected, and a manifest
 * cannot make the store read a path of its choosing. Real contexts, the real Predictor and store.
 */
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ManifestStore, INLINE_FILES, parseManifest } from '../../server/src/cache/manifest';
import { Predictor, buildConfig, type PredictionRun } from '../../server/src/cache/predictor';
import type { VertexResult } from '../../server/src/cache/types';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dcl-lists-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const FILES = 600;
const BUILDER = 'unix:///test.sock|builder=default|driver=docker';

function makeContext(name: string): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(path.join(dir, 'src'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM scratch\nCOPY package.json /app/\nCOPY . /app/\n');
  fs.writeFileSync(path.join(dir, 'package.json'), '{"name":"x"}\n');
  for (let i = 0; i < FILES; i++) fs.writeFileSync(path.join(dir, 'src', `f${i}.txt`), `file ${i}\n`);
  const past = new Date('2020-01-01T00:00:00Z');
  for (let i = 0; i < FILES; i++) fs.utimesSync(path.join(dir, 'src', `f${i}.txt`), past, past);
  return dir;
}

function predictorFor(store: ManifestStore): Predictor {
  return new Predictor({ store, images: () => Promise.resolve(new Map()), imagesUnavailable: 'no engine in this test' });
}

/** Records the run as BuildKit having built every step. */
async function recordBuilt(p: Predictor, run: PredictionRun): Promise<void> {
  const vertices: VertexResult[] = run.result.steps.map((s) => ({
    name: s.step.vertex, digest: `sha256:${s.step.index}`, cached: false, durationMs: 1000, started: true, completed: true, error: undefined, logTail: [],
  }));
  await p.record(run, { vertices, success: true, durationMs: 5000 });
}

function stepOf(run: PredictionRun, text: string): PredictionRun['result']['steps'][number] {
  const s = run.result.steps.find((x) => x.step.instruction.original.trim() === text);
  assert.ok(s, `no step ${text}`);
  return s;
}

test('many files: listed beside the manifest, and a later miss still names the changed file', async () => {
  const ctx = makeContext('ctx1');
  const store = new ManifestStore(path.join(tmp, 'store1'));
  const config = buildConfig({ dockerfile: path.join(ctx, 'Dockerfile'), builder: BUILDER });
  const text = fs.readFileSync(config.dockerfile, 'utf8');
  const p = predictorFor(store);
  await recordBuilt(p, await p.run(config, text));

  const manifestText = fs.readFileSync(store.fileFor(config), 'utf8');
  const parsed = parseManifest(manifestText);
  assert.equal(parsed.kind, 'ok');
  const steps = parsed.kind === 'ok' ? parsed.manifest.builds[0]?.steps ?? [] : [];
  const big = steps.find((s) => s.inputs.text === 'COPY . /app/');
  const small = steps.find((s) => s.inputs.text === 'COPY package.json /app/');
  assert.ok(big !== undefined && small !== undefined);
  assert.ok(FILES > INLINE_FILES);
  // src, its 600 files, the Dockerfile and package.json.
  assert.equal(big.inputs.fileCount, FILES + 3);
  assert.match(big.inputs.filesRef ?? '', /^[0-9a-f]{64}$/);
  assert.equal(big.inputs.files, undefined);
  assert.deepEqual(Object.keys(small.inputs.files ?? {}), ['package.json']);
  assert.equal(manifestText.includes('src/f17.txt'), false, 'no file list in the manifest');
  assert.ok(fs.existsSync(path.join(store.listDir(BUILDER), `${big.inputs.filesRef ?? ''}.json.gz`)));

  // One file changes: a fresh predictor (as after a restart) reads the list to say which.
  fs.appendFileSync(path.join(ctx, 'src', 'f17.txt'), 'more\n');
  const again = await predictorFor(new ManifestStore(store.dir)).run(config, text);
  assert.equal(stepOf(again, 'COPY package.json /app/').prediction, 'hit');
  const copy = stepOf(again, 'COPY . /app/');
  assert.equal(copy.prediction, 'miss');
  assert.equal(copy.reason, 'src/f17.txt changed');
  assert.deepEqual(copy.details, ['src/f17.txt changed']);

  // The list is gone (deleted by hand): the miss says so instead of naming every file.
  fs.rmSync(store.listDir(BUILDER), { recursive: true });
  fs.appendFileSync(path.join(ctx, 'src', 'f18.txt'), 'more\n');
  const lost = stepOf(await predictorFor(new ManifestStore(store.dir)).run(config, text), 'COPY . /app/');
  assert.equal(lost.prediction, 'miss');
  assert.equal(lost.reason, 'the copied files changed');
});

test('lists no record names are collected; the ones still named stay', async () => {
  const ctx = makeContext('ctx2');
  const dir = path.join(tmp, 'store2');
  const config = buildConfig({ dockerfile: path.join(ctx, 'Dockerfile'), builder: BUILDER });
  const text = fs.readFileSync(config.dockerfile, 'utf8');
  const lists = (): string[] => fs.readdirSync(new ManifestStore(dir).listDir(BUILDER)).sort();
  const build = async (maxBuilds: number): Promise<void> => {
    const p = predictorFor(new ManifestStore(dir, { maxBuilds, listGraceMs: 0 }));
    await recordBuilt(p, await p.run(config, text));
  };
  await build(2);
  fs.appendFileSync(path.join(ctx, 'src', 'f1.txt'), 'x\n');
  await build(2);
  assert.equal(lists().length, 2, 'two builds kept, two lists named');
  fs.appendFileSync(path.join(ctx, 'src', 'f2.txt'), 'x\n');
  await build(1);
  const left = lists();
  assert.equal(left.length, 1, 'only the newest build is kept: only its list stays');
  const manifest = JSON.parse(fs.readFileSync(new ManifestStore(dir).fileFor(config), 'utf8')) as { builds: Array<{ steps: Array<{ inputs: { filesRef?: string } }> }> };
  const ref = manifest.builds[0]?.steps.find((s) => s.inputs.filesRef !== undefined)?.inputs.filesRef;
  assert.deepEqual(left, [`${ref ?? ''}.json.gz`]);
});

test('a manifest naming a list by anything but a hash is refused', () => {
  const m = {
    version: 1,
    config: { dockerfile: '/d/Dockerfile', context: '/d', target: null, buildArgs: {}, platform: null, builder: BUILDER, engine: 'buildkit' },
    builds: [{ time: '2026-01-01T00:00:00Z', engine: 'buildkit', success: true, totalMs: 1, steps: [{ key: 'k', result: 'built', inputs: { text: 'COPY . .', filesRef: '../../../etc/passwd' } }] }],
  };
  const parsed = parseManifest(JSON.stringify(m));
  assert.equal(parsed.kind, 'invalid');
  assert.match(parsed.kind === 'invalid' ? parsed.reason : '', /malformed file list/);
  assert.equal(new ManifestStore(path.join(tmp, 'store3')).fileList(BUILDER, '../../../etc/passwd'), undefined);
});

test('after each save the miss is explained from the changes alone, and says what a fresh look says', async () => {
  const ctx = makeContext('ctx4');
  const dir = path.join(tmp, 'store4');
  const config = buildConfig({ dockerfile: path.join(ctx, 'Dockerfile'), builder: BUILDER });
  const text = fs.readFileSync(config.dockerfile, 'utf8');
  const p = predictorFor(new ManifestStore(dir));
  await recordBuilt(p, await p.run(config, text));
  const hasher = p.hasher(config.context, config.dockerfile);
  await hasher.snapshot();
  const original = fs.readFileSync(path.join(ctx, 'src', 'f18.txt'));
  const edits: Array<[string, () => void, string[]]> = [
    ['src/f17.txt', () => fs.appendFileSync(path.join(ctx, 'src', 'f17.txt'), 'x\n'), ['src/f17.txt changed']],
    ['src/f18.txt', () => fs.appendFileSync(path.join(ctx, 'src', 'f18.txt'), 'x\n'), ['src/f17.txt changed', 'src/f18.txt changed']],
    ['src/f17.txt', () => fs.rmSync(path.join(ctx, 'src', 'f17.txt')), ['src/f18.txt changed', 'src/f17.txt removed']],
    ['src/new/a.txt', () => { fs.mkdirSync(path.join(ctx, 'src', 'new')); fs.writeFileSync(path.join(ctx, 'src', 'new', 'a.txt'), 'a'); },
      ['src/f18.txt changed', 'src/new added', 'src/new/a.txt added', 'src/f17.txt removed']],
    // Back to the recorded bytes: no longer a change (the mode and content are what was built).
    ['src/f18.txt', () => fs.writeFileSync(path.join(ctx, 'src', 'f18.txt'), original), ['src/new added', 'src/new/a.txt added', 'src/f17.txt removed']],
  ];
  for (const [rel, edit, expected] of edits) {
    edit();
    hasher.invalidate([rel]);
    const run = await p.run(config, text, { snapshot: await hasher.snapshot({ patch: true }) });
    const copy = stepOf(run, 'COPY . /app/');
    assert.ok(copy.step.selection?.derived !== undefined, 'made again from the patched snapshot');
    assert.deepEqual(copy.details, expected);
    const fresh = stepOf(await predictorFor(new ManifestStore(dir)).run(config, text), 'COPY . /app/');
    assert.equal(fresh.step.selection?.derived, undefined);
    assert.deepEqual([copy.reason, copy.details], [fresh.reason, fresh.details]);
  }
});
