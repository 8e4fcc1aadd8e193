/**
 * The manifest store: round trip, the cap, knownKeys per builder, failed builds, damaged and
 * newer files, locks, concurrent writers (in one process and in two), the default directory.
 */
import { after, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  MAX_BUILDS,
  ManifestError,
  ManifestStore,
  builderHash,
  capBuilds,
  configHash,
} from '../../server/src/cache/manifest';
import type { BuildConfig, BuildRecord, StepRecord, StepResult } from '../../server/src/cache/types';

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'dcl-manifest-test-'));
after(() => { fs.rmSync(tmpRoot, { recursive: true, force: true }); });

function newStore(options?: ConstructorParameters<typeof ManifestStore>[1]): ManifestStore {
  return new ManifestStore(fs.mkdtempSync(path.join(tmpRoot, 'store-')), options);
}

const BUILDER_A = 'unix:///var/run/docker.sock|builder=default|driver=docker';
const BUILDER_B = 'tcp://10.0.0.2:2375|builder=default|driver=docker';

function config(over: Partial<BuildConfig> = {}): BuildConfig {
  return {
    dockerfile: '/src/app/Dockerfile',
    context: '/src/app',
    target: undefined,
    buildArgs: { VERSION: '1.2' },
    platform: undefined,
    builder: BUILDER_A,
    engine: 'buildkit',
    ...over,
  };
}

function step(key: string, result: StepResult = 'built', line = 1): StepRecord {
  return {
    key,
    parentKey: undefined,
    vertex: `[1/1] RUN ${key}`,
    stage: 'stage-0',
    line,
    instruction: `RUN ${key}`,
    inputs: { text: `RUN ${key}` },
    result,
    durationMs: result === 'built' ? 12 : undefined,
  };
}

/** A build finished `n` seconds after a fixed time. */
function build(n: number, steps: StepRecord[] = [step(`k${n}`)], success = true, engine: 'buildkit' | 'legacy' = 'buildkit'): BuildRecord {
  return { time: new Date(Date.UTC(2025, 0, 1, 0, 0, n)).toISOString(), engine, success, steps, totalMs: 100 + n };
}

describe('ManifestStore', () => {
  test('round trip, one file per config in a folder per builder', async () => {
    const store = newStore();
    const cfg = config();
    assert.deepEqual(await store.load(cfg), { manifest: undefined, problem: undefined });
    await store.record(cfg, build(1));
    await store.record(cfg, build(2));
    const { manifest, problem } = await store.load(cfg);
    assert.equal(problem, undefined);
    assert.equal(manifest?.version, 1);
    assert.deepEqual(manifest?.config, cfg);
    assert.deepEqual(manifest?.builds, [build(2), build(1)]); // newest first
    assert.equal(store.fileFor(cfg), path.join(store.dir, builderHash(BUILDER_A), `${configHash(cfg)}.json`));
    // Key order and undefined members do not change the identity of a config.
    const reordered: BuildConfig = { platform: undefined, engine: 'buildkit', builder: BUILDER_A, buildArgs: { VERSION: '1.2' }, context: '/src/app', target: undefined, dockerfile: '/src/app/Dockerfile' };
    assert.equal(configHash(reordered), configHash(cfg));
    assert.notEqual(configHash(config({ target: 'test' })), configHash(cfg));
    // No temp or lock files stay behind.
    assert.deepEqual(fs.readdirSync(path.dirname(store.fileFor(cfg))), [`${configHash(cfg)}.json`]);
  });

  test(`keeps the last ${MAX_BUILDS} builds, failed ones included`, async () => {
    const store = newStore();
    const cfg = config();
    for (let i = 1; i <= 12; i++) await store.record(cfg, build(i, [step(`k${i}`)], i % 3 !== 0));
    const builds = (await store.load(cfg)).manifest?.builds ?? [];
    assert.equal(builds.length, MAX_BUILDS);
    assert.deepEqual(builds.map((b) => b.totalMs - 100), [12, 11, 10, 9, 8, 7, 6, 5, 4, 3]);
  });

  test('a run of failures never pushes out the last successful build', () => {
    const builds = [build(1), ...Array.from({ length: 12 }, (_, i) => build(i + 2, [], false))].reverse();
    const kept = capBuilds(builds);
    assert.equal(kept.length, MAX_BUILDS + 1);
    assert.deepEqual(kept[MAX_BUILDS], build(1));
    assert.ok(kept.slice(0, MAX_BUILDS).every((b) => !b.success));
    // The same record twice (a retry) is kept once.
    assert.equal(capBuilds([build(1), build(1)]).length, 1);
  });

  test('knownKeys: every config of the builder, not another builder, not another engine; newest record wins', async () => {
    const store = newStore();
    const app = config();
    const tests = config({ dockerfile: '/src/app/test.Dockerfile', target: 'test' });
    const remote = config({ builder: BUILDER_B });
    const legacy = config({ engine: 'legacy', dockerfile: '/src/app/legacy.Dockerfile' });
    await store.record(app, build(1, [step('base', 'built', 1), step('deps', 'built', 2)]));
    await store.record(tests, build(2, [step('base', 'cached', 1), step('test', 'built', 3)]));
    await store.record(remote, build(3, [step('remote-only')]));
    await store.record(legacy, build(4, [step('legacy-only')], true, 'legacy'));
    const known = await store.knownKeys(BUILDER_A, 'buildkit');
    assert.deepEqual([...known.keys()].sort(), ['base', 'deps', 'test']);
    assert.equal(known.get('base')?.time, build(2).time);
    assert.equal(known.get('base')?.result, 'cached');
    assert.equal(known.get('deps')?.line, 2);
    assert.deepEqual([...(await store.knownKeys(BUILDER_B, 'buildkit')).keys()], ['remote-only']);
    assert.deepEqual([...(await store.knownKeys(BUILDER_A, 'legacy')).keys()], ['legacy-only']);
    assert.equal((await store.knownKeys('nobody', 'buildkit')).size, 0);
  });

  test('a failed build is recorded, keeps the earlier successful ones, and its completed steps count', async () => {
    const store = newStore();
    const cfg = config();
    await store.record(cfg, build(1, [step('a'), step('b'), step('c')]));
    await store.record(cfg, build(2, [step('a', 'cached'), step('b2'), step('c2', 'failed'), step('d2', 'not-run')], false));
    const builds = (await store.load(cfg)).manifest?.builds ?? [];
    assert.deepEqual(builds.map((b) => b.success), [false, true]);
    const known = await store.knownKeys(BUILDER_A, 'buildkit');
    assert.deepEqual([...known.keys()].sort(), ['a', 'b', 'b2', 'c']);
    assert.equal(known.get('a')?.time, build(2).time);
  });

  test('a corrupt file: problem, moved aside (never deleted), fresh history; knownKeys skips it', async () => {
    const store = newStore();
    const cfg = config();
    const other = config({ dockerfile: '/src/other/Dockerfile' });
    await store.record(other, build(1, [step('other')]));
    const file = store.fileFor(cfg);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, 'this is { not json');
    assert.deepEqual([...(await store.knownKeys(BUILDER_A, 'buildkit')).keys()], ['other']);
    const r = await store.load(cfg);
    assert.equal(r.manifest, undefined);
    assert.equal(r.problem, `${file} is not a Dockerfile Cache Lens manifest (unexpected token 'h', "this is { not json" is not valid JSON); starting a fresh history, the old file was kept as ${file}.corrupt.`);
    assert.equal(fs.readFileSync(`${file}.corrupt`, 'utf8'), 'this is { not json');
    assert.equal(fs.existsSync(file), false);
    assert.deepEqual(await store.load(cfg), { manifest: undefined, problem: undefined });
    // A second bad file does not overwrite the first one kept aside.
    fs.writeFileSync(file, '');
    assert.match((await store.load(cfg)).problem ?? '', /\(the file is empty\).*kept as .*\.corrupt\.2\.$/);
    await store.record(cfg, build(3));
    assert.deepEqual((await store.load(cfg)).manifest?.builds, [build(3)]);
    assert.equal(fs.readFileSync(`${file}.corrupt`, 'utf8'), 'this is { not json');
    // The other config's history is intact.
    assert.deepEqual((await store.load(other)).manifest?.builds, [build(1, [step('other')])]);
  });

  test('truncated, foreign and malformed files are each reported', async () => {
    const store = newStore();
    const cfg = config();
    await store.record(cfg, build(1));
    const file = store.fileFor(cfg);
    const good = fs.readFileSync(file, 'utf8');
    const cases: Array<[string, RegExp]> = [
      [good.slice(0, Math.floor(good.length / 2)), /\(unexpected end of JSON: the file is truncated\)/],
      [good.trimEnd().slice(0, -1), /\(unexpected end of JSON: the file is truncated\)/],
      ['{"name": "some-other-tool", "entries": []}', /\(no version\)/],
      ['[1, 2, 3]', /\(not a JSON object\)/],
      ['{"version": 0, "config": {}, "builds": []}', /\(unknown version 0\)/],
      [JSON.stringify({ ...JSON.parse(good) as object, builds: [{ time: 1 }] }), /\(build 1 is malformed\)/],
    ];
    for (const [text, reason] of cases) {
      fs.writeFileSync(file, text);
      const r = await store.load(cfg);
      assert.equal(r.manifest, undefined);
      assert.match(r.problem ?? '', reason);
      assert.match(r.problem ?? '', /starting a fresh history, the old file was kept as /);
      assert.equal(fs.existsSync(file), false);
    }
    const aside = fs.readdirSync(path.dirname(file)).filter((n) => n.includes('.corrupt'));
    assert.equal(aside.length, cases.length);
  });

  test('a file from a newer version: left untouched, record() refuses with a ManifestError', async () => {
    const store = newStore();
    const cfg = config();
    const file = store.fileFor(cfg);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const future = JSON.stringify({ version: 2, config: cfg, builds: [], somethingNew: true });
    fs.writeFileSync(file, future);
    const r = await store.load(cfg);
    assert.equal(r.manifest, undefined);
    assert.match(r.problem ?? '', /written by a newer version \(2\) of Dockerfile Cache Lens; it was left untouched/);
    await assert.rejects(store.record(cfg, build(1)), (err: unknown) => {
      assert.ok(err instanceof ManifestError);
      assert.equal(err.code, 'newer-version');
      assert.match(err.message, /newer version \(2\).*not recorded/);
      return true;
    });
    assert.equal(fs.readFileSync(file, 'utf8'), future);
    assert.deepEqual(fs.readdirSync(path.dirname(file)), [path.basename(file)]);
    assert.equal((await store.knownKeys(BUILDER_A, 'buildkit')).size, 0);
  });

  test('20 concurrent record() calls lose nothing (cap raised; and with the default cap the 10 newest)', async () => {
    const big = newStore({ maxBuilds: 100 });
    const cfg = config();
    await Promise.all(Array.from({ length: 20 }, (_, i) => big.record(cfg, build(i + 1))));
    assert.deepEqual((await big.load(cfg)).manifest?.builds.map((b) => b.totalMs - 100), Array.from({ length: 20 }, (_, i) => 20 - i));

    const capped = newStore();
    await Promise.all(Array.from({ length: 20 }, (_, i) => capped.record(cfg, build(i + 1))));
    assert.deepEqual((await capped.load(cfg)).manifest?.builds.map((b) => b.totalMs - 100), [20, 19, 18, 17, 16, 15, 14, 13, 12, 11]);
    // Two stores (as two windows would have) on the same directory.
    const twin = new ManifestStore(big.dir, { maxBuilds: 100 });
    await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? big : twin).record(cfg, build(100 + i))));
    assert.equal((await big.load(cfg)).manifest?.builds.length, 30);
  });

  test('two processes writing at once lose nothing', { timeout: 60_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(tmpRoot, 'store-'));
    const cfg = config();
    const script = path.join(tmpRoot, 'writer.ts');
    const manifestModule = path.join(__dirname, '..', '..', 'server', 'src', 'cache', 'manifest.ts');
    fs.writeFileSync(script, `
      import { ManifestStore } from ${JSON.stringify(manifestModule)};
      const [dir, who, cfg] = [process.argv[2]!, Number(process.argv[3]), JSON.parse(process.argv[4]!)];
      const store = new ManifestStore(dir, { maxBuilds: 100 });
      void (async () => {
        for (let i = 0; i < 15; i++) {
          const time = new Date(Date.UTC(2025, 0, 1, 0, who, i)).toISOString();
          await store.record(cfg, { time, engine: 'buildkit', success: true, steps: [], totalMs: who * 100 + i });
        }
      })();
    `);
    const runWriter = (who: number): Promise<number | null> => new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', script, dir, String(who), JSON.stringify(cfg)], { stdio: ['ignore', 'inherit', 'inherit'] });
      child.on('error', reject);
      child.on('exit', resolve);
    });
    assert.deepEqual(await Promise.all([runWriter(1), runWriter(2)]), [0, 0]);
    const builds = (await new ManifestStore(dir).load(cfg)).manifest?.builds ?? [];
    assert.equal(builds.length, 30);
    assert.deepEqual(builds.map((b) => b.totalMs).sort((a, b) => a - b), [
      ...Array.from({ length: 15 }, (_, i) => 100 + i), ...Array.from({ length: 15 }, (_, i) => 200 + i),
    ]);
  });

  test('locks: a dead holder\'s or an old lock is taken over; a live one makes record() give up', async () => {
    const store = newStore({ lockTimeoutMs: 300 });
    const cfg = config();
    const lock = `${store.fileFor(cfg)}.lock`;
    fs.mkdirSync(path.dirname(lock), { recursive: true });
    // A process that has exited: its pid is free.
    const dead = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, ['-e', '0']);
      child.on('exit', () => { resolve(child.pid ?? 0); });
    });
    fs.writeFileSync(lock, JSON.stringify({ pid: dead, host: os.hostname(), time: new Date().toISOString(), token: 'x' }));
    await store.record(cfg, build(1));
    assert.equal(fs.existsSync(lock), false);

    // Alive (pid 1 always is) but on this host: wait, then give up with a clear error.
    fs.writeFileSync(lock, JSON.stringify({ pid: 1, host: os.hostname(), time: new Date().toISOString(), token: 'y' }));
    await assert.rejects(store.record(cfg, build(2)), (err: unknown) => err instanceof ManifestError && err.code === 'locked' && /locked by process 1/.test(err.message));
    // load() never throws, even then: the file itself is fine.
    assert.equal((await store.load(cfg)).manifest?.builds.length, 1);

    // The same lock, an hour old: stale.
    const hourAgo = new Date(Date.now() - 3_600_000);
    fs.utimesSync(lock, hourAgo, hourAgo);
    await store.record(cfg, build(3));
    assert.deepEqual((await store.load(cfg)).manifest?.builds.map((b) => b.totalMs - 100), [3, 1]);
  });

  test('forget: one config, or everything', async () => {
    const store = newStore();
    const a = config();
    const b = config({ builder: BUILDER_B });
    await store.record(a, build(1));
    await store.record(b, build(2));
    await store.forget(a);
    assert.equal((await store.load(a)).manifest, undefined);
    assert.equal((await store.load(b)).manifest?.builds.length, 1);
    await store.forget();
    assert.equal((await store.load(b)).manifest, undefined);
    assert.deepEqual(fs.readdirSync(store.dir), []);
    await store.forget(); // nothing left: fine
    await new ManifestStore(path.join(tmpRoot, 'never-created')).forget(a);
  });
});

describe('ManifestStore.defaultDir', () => {
  test('DOCKERFILE_CACHE_LENS_HOME wins on every platform', () => {
    assert.equal(ManifestStore.defaultDir({ DOCKERFILE_CACHE_LENS_HOME: '/opt/dcl', HOME: '/home/u' }, 'linux'), '/opt/dcl/manifests');
    assert.equal(ManifestStore.defaultDir({ DOCKERFILE_CACHE_LENS_HOME: 'D:\\dcl', LOCALAPPDATA: 'C:\\x' }, 'win32'), 'D:\\dcl\\manifests');
  });
  test('Linux: XDG_CACHE_HOME, else ~/.cache (a relative XDG_CACHE_HOME is ignored)', () => {
    assert.equal(ManifestStore.defaultDir({ HOME: '/home/u', XDG_CACHE_HOME: '/var/cache/u' }, 'linux'), '/var/cache/u/dockerfile-cache-lens/manifests');
    assert.equal(ManifestStore.defaultDir({ HOME: '/home/u' }, 'linux'), '/home/u/.cache/dockerfile-cache-lens/manifests');
    assert.equal(ManifestStore.defaultDir({ HOME: '/home/u', XDG_CACHE_HOME: 'rel' }, 'linux'), '/home/u/.cache/dockerfile-cache-lens/manifests');
    assert.equal(ManifestStore.defaultDir({ HOME: '/home/u' }, 'freebsd'), '/home/u/.cache/dockerfile-cache-lens/manifests');
  });
  test('macOS: ~/Library/Caches', () => {
    assert.equal(ManifestStore.defaultDir({ HOME: '/Users/u', XDG_CACHE_HOME: '/ignored' }, 'darwin'), '/Users/u/Library/Caches/dockerfile-cache-lens/manifests');
  });
  test('Windows: %LOCALAPPDATA%, else %USERPROFILE%\\AppData\\Local', () => {
    assert.equal(ManifestStore.defaultDir({ LOCALAPPDATA: 'C:\\Users\\u\\AppData\\Local' }, 'win32'), 'C:\\Users\\u\\AppData\\Local\\dockerfile-cache-lens\\manifests');
    assert.equal(ManifestStore.defaultDir({ USERPROFILE: 'C:\\Users\\u' }, 'win32'), 'C:\\Users\\u\\AppData\\Local\\dockerfile-cache-lens\\manifests');
  });
  test('the default store uses it', () => {
    assert.equal(new ManifestStore().dir, ManifestStore.defaultDir());
  });
});
