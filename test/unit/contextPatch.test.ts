/**
 * A snapshot patched at the paths a file watcher names must be the snapshot a full walk gives, and
 * the selections made on it (whose index, directory digests and unaffected results are carried
 * over from the snapshot before) must have BuildKit's checksums as if computed afresh. Random
 * trees and random changes (fast-check); the full walk of a new hasher is the reference.
 */
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { ContextHasher, selectSources, type ContextSnapshot, type SelectOptions } from '../../server/src/cache/contextHash';

const roots: string[] = [];
after(async () => {
  await Promise.all(roots.map((r) => fsp.rm(r, { recursive: true, force: true })));
});

const NAMES = ['a', 'b', 'a.txt', 'b.md', 'é', 'z-1', 'ab'];
const relPath = fc.array(fc.constantFrom(...NAMES), { minLength: 1, maxLength: 3 }).map((p) => p.join('/'));

type Op =
  | { op: 'write'; rel: string; content: string }
  | { op: 'mkdir'; rel: string }
  | { op: 'rm'; rel: string }
  | { op: 'chmod'; rel: string; mode: number }
  | { op: 'link'; rel: string; target: string };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('write' as const), rel: relPath, content: fc.string({ maxLength: 6 }) }),
  fc.record({ op: fc.constant('mkdir' as const), rel: relPath }),
  fc.record({ op: fc.constant('rm' as const), rel: relPath }),
  fc.record({ op: fc.constant('chmod' as const), rel: relPath, mode: fc.constantFrom(0o600, 0o644, 0o755) }),
  fc.record({ op: fc.constant('link' as const), rel: relPath, target: fc.oneof(relPath, relPath.map((p) => '/' + p), fc.constant('../x')) }),
);

/** Applies an op; returns the paths a watcher would name (undefined: nothing happened). */
async function apply(root: string, o: Op): Promise<string[] | undefined> {
  const abs = path.join(root, o.rel);
  try {
    switch (o.op) {
      case 'write':
        await fsp.mkdir(path.dirname(abs), { recursive: true });
        await fsp.rm(abs, { recursive: true, force: true });
        await fsp.writeFile(abs, o.content);
        break;
      case 'mkdir':
        await fsp.mkdir(path.dirname(abs), { recursive: true });
        await fsp.rm(abs, { recursive: true, force: true });
        await fsp.mkdir(abs);
        break;
      case 'rm':
        await fsp.rm(abs, { recursive: true, force: true });
        break;
      case 'chmod':
        await fsp.chmod(abs, o.mode);
        break;
      case 'link':
        await fsp.mkdir(path.dirname(abs), { recursive: true });
        await fsp.rm(abs, { recursive: true, force: true });
        await fsp.symlink(o.target, abs);
        break;
    }
  } catch {
    return undefined; // a parent is a file, or the path does not exist: nothing changed
  }
  // A watcher reports where the change happened: through a linked folder, that is the real path.
  try {
    const dir = path.relative(await fsp.realpath(root), await fsp.realpath(path.dirname(abs)));
    if (dir.startsWith('..') || path.isAbsolute(dir)) return [];
    return [dir === '' ? path.basename(abs) : `${dir.split(path.sep).join('/')}/${path.basename(abs)}`];
  } catch {
    return [o.rel];
  }
}

const SELECTIONS: Array<[string[], SelectOptions]> = [
  [['.'], {}],
  [['a'], {}],
  [['a/b', 'b'], {}],
  [['*.txt'], {}],
  [['a/*'], {}],
  [['*/a.txt'], {}],
  [['[ab]*'], {}],
  [['.'], { excludes: ['*.md', 'a/b'] }],
  [['a'], { excludes: ['**/z-1'] }],
  [['é/a'], {}],
  [['b'], { literal: true }],
];

function comparable(s: ContextSnapshot): unknown {
  return [...s.entries].map(([k, e]) => [k, e.type, e.mode, e.size, e.hash, e.linkTarget ?? null]).sort((x, y) => (String(x[0]) < String(y[0]) ? -1 : 1));
}

function selections(s: ContextSnapshot): unknown {
  return SELECTIONS.map(([src, o]) => {
    const sel = selectSources(s, src, { ...o, followNestedLinks: true });
    return { src, checksum: sel.checksum, missing: sel.missing, files: sel.files, count: sel.count };
  });
}

test('a snapshot patched at the changed paths equals a full walk, and so do its selections', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(op, { minLength: 1, maxLength: 12 }),
      fc.array(fc.array(op, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 3 }),
      fc.option(fc.constantFrom('*.md\n', 'a/b\n', 'é\n**/z-1\n'), { nil: undefined }),
      fc.boolean(),
      async (setup, rounds, ignore, nameParents) => {
        const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'dcl-patch-'));
        roots.push(root);
        for (const o of setup) await apply(root, o);
        if (ignore !== undefined) await fsp.writeFile(path.join(root, '.dockerignore'), ignore);
        const hasher = new ContextHasher(root);
        let current = await hasher.snapshot();
        selections(current); // index and selections to carry over
        for (const round of rounds) {
          const named = new Set<string>();
          for (const o of round) {
            const paths = await apply(root, o);
            for (const p of paths ?? []) {
              named.add(p);
              // Watchers often name the new parent folders too; sometimes only the file.
              if (nameParents) for (let d = path.posix.dirname(p); d !== '.'; d = path.posix.dirname(d)) named.add(d);
            }
          }
          hasher.invalidate([...named]);
          current = await hasher.snapshot({ patch: true });
          const fresh = await new ContextHasher(root).snapshot();
          assert.deepEqual(comparable(current), comparable(fresh));
          assert.deepEqual([...current.problems].sort(), [...fresh.problems].sort());
          assert.deepEqual(selections(current), selections(fresh));
        }
      },
    ),
    { numRuns: Number(process.env.PATCH_RUNS ?? 60), seed: Number(process.env.PATCH_SEED ?? 20261128) },
  );
});

test('a patch that changes nothing keeps the snapshot; one that changes a file re-reads only it', async () => {
  const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'dcl-patch-'));
  roots.push(root);
  for (let i = 0; i < 50; i++) {
    await fsp.mkdir(path.join(root, `d${i % 5}`), { recursive: true });
    await fsp.writeFile(path.join(root, `d${i % 5}`, `f${i}.txt`), `file ${i}`);
  }
  const past = new Date('2020-01-01T00:00:00Z');
  for (let i = 0; i < 50; i++) await fsp.utimes(path.join(root, `d${i % 5}`, `f${i}.txt`), past, past);
  const hasher = new ContextHasher(root);
  const first = await hasher.snapshot();
  const before = selectSources(first, ['.']);
  assert.equal(await hasher.snapshot({ patch: true }), first, 'nothing invalidated: the same snapshot');
  await fsp.writeFile(path.join(root, 'd3', 'f13.txt'), 'changed');
  hasher.invalidate(['d3/f13.txt']);
  const second = await hasher.snapshot({ patch: true });
  // One lstat of the changed file, no walk.
  assert.deepEqual({ hashed: hasher.stats.hashedFiles, stats: hasher.stats.statCalls }, { hashed: 1, stats: 1 });
  const after = selectSources(second, ['.']);
  assert.notEqual(after.checksum, before.checksum);
  assert.equal(after.checksum, selectSources(await new ContextHasher(root).snapshot(), ['.']).checksum);
  // A .dockerignore change cannot be patched in: the next snapshot walks (and applies it).
  await fsp.writeFile(path.join(root, '.dockerignore'), 'd1\n');
  hasher.invalidate(['.dockerignore']);
  const third = await hasher.snapshot({ patch: true });
  assert.equal([...third.entries.keys()].some((k) => k.startsWith('d1')), false);
  assert.ok(hasher.stats.statCalls > 40, 'walked everything that is not ignored');
});
