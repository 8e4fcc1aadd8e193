/**
 * The context hasher and BuildKit's source checksums. Expected values are worked out by hand from
 * moby/buildkit 73ed6825 (`cache/contenthash/checksum.go`, `tarsum.go`, `filehash.go`,
 * `solver/llbsolver/ops/file.go`, `dockerfile2llb/convert_copy.go`) and, where BuildKit printed
 * them, taken from its own output (moby/buildkit#6233).
 *
 * These tests run as root, which reads through chmod 000: unreadable files and directories are
 * simulated through the hasher's readDir/openFile seams; the real chmod tests run only as non-root.
 */
import { after, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  ContextHasher,
  goPathMatch,
  selectSources,
  validateGoPattern,
  type ContextSnapshot,
  type SelectOptions,
} from '../../server/src/cache/contextHash';

const isRoot = process.getuid?.() === 0;
const roots: string[] = [];
after(async () => {
  await Promise.all(roots.map((r) => fsp.rm(r, { recursive: true, force: true })));
});

type Spec = string | { content?: string; mode?: number } | { dir: true; mode?: number } | { link: string };
const PAST = new Date('2020-01-01T00:00:00Z');

/** A context directory; every mtime set in the past so that no file counts as "racily clean". */
async function makeContext(spec: Record<string, Spec>): Promise<string> {
  const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'dcl-ctx-'));
  roots.push(root);
  for (const rel of Object.keys(spec).sort()) {
    await write(root, rel, spec[rel] ?? '');
  }
  await age(root);
  return root;
}

async function write(root: string, rel: string, s: Spec): Promise<void> {
  const abs = path.join(root, rel);
  await fsp.mkdir(path.dirname(abs), { recursive: true });
  if (typeof s === 'string') {
    await fsp.writeFile(abs, s);
    await fsp.chmod(abs, 0o644);
  } else if ('dir' in s) {
    await fsp.mkdir(abs, { recursive: true });
    await fsp.chmod(abs, s.mode ?? 0o755);
  } else if ('link' in s) {
    await fsp.symlink(s.link, abs);
  } else {
    await fsp.writeFile(abs, s.content ?? '');
    await fsp.chmod(abs, s.mode ?? 0o644);
  }
}

/** Sets every mtime under root (and root's) to 2020, links included, without following them. */
async function age(root: string): Promise<void> {
  const walk = async (dir: string): Promise<void> => {
    for (const d of await fsp.readdir(dir, { withFileTypes: true })) {
      const abs = path.join(dir, d.name);
      if (d.isDirectory()) await walk(abs);
      if (d.isFIFO() || d.isSocket()) continue;
      await fsp.lutimes(abs, PAST, PAST);
    }
  };
  await walk(root);
  await fsp.utimes(root, PAST, PAST);
}

async function snap(root: string, opts: ConstructorParameters<typeof ContextHasher>[1] = {}): Promise<ContextSnapshot> {
  return new ContextHasher(root, opts).snapshot();
}

async function checksum(root: string, sources: string[], opts: SelectOptions = {}): Promise<string> {
  return selectSources(await snap(root), sources, opts).checksum;
}

function sha(s: string | Buffer): string {
  return createHash('sha256').update(s).digest('hex');
}

/** The tarsum v1 header BuildKit hashes (name empty, no mtime, uid/gid 0), in its field order. */
function header(mode: number, size: number, typeflag: string, link = ''): string {
  return `name` + `mode${mode}` + `uid0` + `gid0` + `size${size}` + `typeflag${typeflag}` + `linkname${link}` + `uname` + `gname` + `devmajor0` + `devminor0`;
}

// ---------------------------------------------------------------------------------------------

describe('entry hashes', () => {
  test('match the digests BuildKit printed for /test (0755) holding an empty foo (0644), moby/buildkit#6233', async () => {
    const root = await makeContext({ test: { dir: true, mode: 0o755 }, 'test/foo': '' });
    const s = await snap(root);
    assert.equal(s.entries.get('test')?.hash, '1a2805521573cb10d73bcd51d16bfa84c8f461d68599740e35484b90b2ab1bab');
    assert.equal(s.entries.get('test/foo')?.hash, '700591407496206b27e3739e92128dd4d3a119e929d3b3677835a1ab6627aa3d');
    const sel = selectSources(s, ['/test']);
    const dirDigest = 'sha256:6d7c9b907a8463e3f17e22f00d78c918ecba6656d6ae26069fb6422970285993';
    assert.deepEqual(sel.selectors, [{ path: '/test', digest: dirDigest }]);
    // The input's digest: sha256 of the selector digests joined by NUL (opsutils.NewContentHashFunc).
    assert.equal(sel.checksum, 'sha256:' + sha(dirDigest));
    // Since BuildKit v0.26 an --exclude that excludes nothing gives the same digest (#6233's fix).
    assert.deepEqual(selectSources(s, ['/test'], { excludes: ['*.git'] }).selectors, [{ path: '/test', digest: dirDigest }]);
  });

  test('a file: its header (mode, size, type) and content; not its name, mtime or owner', async () => {
    const root = await makeContext({ 'a.txt': 'hello', 'b.txt': 'hello', 'x.sh': { content: 'hello', mode: 0o755 } });
    const s = await snap(root);
    const expected = sha(header(0o644, 5, '0') + 'hello');
    assert.equal(s.entries.get('a.txt')?.hash, expected);
    assert.equal(s.entries.get('b.txt')?.hash, expected);
    assert.equal(s.entries.get('x.sh')?.hash, sha(header(0o755, 5, '0') + 'hello'));
    // A single file source is just its hash, whatever it is called.
    assert.deepEqual(selectSources(s, ['a.txt']).selectors, [{ path: '/a.txt', digest: 'sha256:' + expected }]);
    assert.equal(selectSources(s, ['a.txt']).checksum, selectSources(s, ['b.txt']).checksum);
  });

  test('a symlink: type 2, mode 0777, size 0, its target; never followed by the walk', async () => {
    const root = await makeContext({ 'target.txt': 'x', link: { link: 'target.txt' } });
    const e = (await snap(root)).entries.get('link');
    assert.equal(e?.type, 'symlink');
    assert.equal(e.linkTarget, 'target.txt');
    assert.equal(e.size, 0);
    assert.equal(e.hash, sha(header(0o777, 0, '2', 'target.txt')));
  });

  test('a directory: the digest covers its header and each child by name', async () => {
    const root = await makeContext({ d: { dir: true, mode: 0o755 }, 'd/a': 'A', 'd/sub': { dir: true, mode: 0o700 }, 'd/sub/b': 'B' });
    const s = await snap(root);
    const h = (x: string): string => 'sha256:' + (s.entries.get(x)?.hash ?? '');
    const sub = 'sha256:' + sha(Buffer.concat([Buffer.from('\0' + h('d/sub') + '\0b' + h('d/sub/b'))]));
    const d = 'sha256:' + sha('\0' + h('d') + '\0a' + h('d/a') + '\0sub' + sub);
    assert.equal(selectSources(s, ['d']).selectors[0]?.digest, d);
    // The context root is never sent: its header is sha256("") whatever its mode.
    const rootDigest = 'sha256:' + sha('\0' + 'sha256:' + sha('') + '\0d' + d);
    assert.equal(selectSources(s, ['.']).selectors[0]?.digest, rootDigest);
  });
});

describe('checksum properties', () => {
  const base = (): Record<string, Spec> => ({ 'src/app.ts': 'app', 'src/lib/util.ts': 'util', 'package.json': '{}', '.dockerignore': 'secret.txt\n', 'secret.txt': 's1' });

  test('touching a file (mtime only) changes nothing', async () => {
    const root = await makeContext(base());
    const before = await checksum(root, ['.']);
    await fsp.utimes(path.join(root, 'src/app.ts'), new Date(), new Date());
    assert.equal(await checksum(root, ['.']), before);
  });

  test('changing content, chmod +x, renaming, adding an empty dir or a file: all change a directory source', async () => {
    const root = await makeContext(base());
    const seen = new Set([await checksum(root, ['src'])]);
    const step = async (what: string, fn: () => Promise<void>): Promise<void> => {
      await fn();
      const c = await checksum(root, ['src']);
      assert.ok(!seen.has(c), `${what} should change the checksum`);
      seen.add(c);
    };
    await step('content', () => fsp.writeFile(path.join(root, 'src/app.ts'), 'app2'));
    await step('chmod +x', () => fsp.chmod(path.join(root, 'src/app.ts'), 0o755));
    await step('rename', () => fsp.rename(path.join(root, 'src/app.ts'), path.join(root, 'src/main.ts')));
    await step('empty dir', () => fsp.mkdir(path.join(root, 'src/empty')));
    await step('new file', () => fsp.writeFile(path.join(root, 'src/new.ts'), ''));
    await step('dir mode', () => fsp.chmod(path.join(root, 'src/lib'), 0o700));
  });

  test('a changed .dockerignored file changes nothing, and is not in the snapshot', async () => {
    const root = await makeContext(base());
    const s = await snap(root);
    assert.equal(s.entries.has('secret.txt'), false);
    const before = selectSources(s, ['.']).checksum;
    await fsp.writeFile(path.join(root, 'secret.txt'), 'other secret');
    assert.equal(await checksum(root, ['.']), before);
  });

  test("the context root's own mode changes nothing", async () => {
    const root = await makeContext(base());
    const before = await checksum(root, ['.']);
    await fsp.chmod(root, 0o755);
    assert.equal(await checksum(root, ['.']), before);
  });

  test('a renamed single-file source keeps its checksum (the name belongs to the step key)', async () => {
    const root = await makeContext({ 'a.txt': 'same' });
    const before = await checksum(root, ['a.txt']);
    await fsp.rename(path.join(root, 'a.txt'), path.join(root, 'b.txt'));
    assert.equal(await checksum(root, ['b.txt']), before);
  });
});

describe('.dockerignore', () => {
  test('exceptions: *.md with !README.md', async () => {
    const root = await makeContext({ '.dockerignore': '*.md\n!README.md\n', 'README.md': 'r', 'CHANGES.md': 'c', 'a.txt': 'a' });
    const s = await snap(root);
    assert.deepEqual([...s.entries.keys()].sort(), ['.dockerignore', 'README.md', 'a.txt']);
    const before = selectSources(s, ['.']).checksum;
    await fsp.writeFile(path.join(root, 'CHANGES.md'), 'changed');
    assert.equal(await checksum(root, ['.']), before);
    await fsp.writeFile(path.join(root, 'README.md'), 'changed');
    assert.notEqual(await checksum(root, ['.']), before);
  });

  test('an exception inside an ignored directory: the directory is walked and sent only for what is re-included', async () => {
    const root = await makeContext({ '.dockerignore': 'docs\n!docs/keep.txt\nbuild\n', 'docs/keep.txt': 'k', 'docs/other.txt': 'o', 'build/out.bin': 'b' });
    const s = await snap(root);
    assert.deepEqual([...s.entries.keys()].sort(), ['.dockerignore', 'docs', 'docs/keep.txt']);
    assert.equal(s.entries.get('docs')?.type, 'dir');
  });

  test('an ignored directory no exception can reach is never walked', async () => {
    const spec: Record<string, Spec> = { '.dockerignore': 'node_modules\n', 'a.txt': 'a' };
    for (let i = 0; i < 20; i++) spec[`node_modules/p${i}/index.js`] = 'x';
    const root = await makeContext(spec);
    const h = new ContextHasher(root);
    const s = await h.snapshot();
    assert.deepEqual([...s.entries.keys()].sort(), ['.dockerignore', 'a.txt']);
    // lstat of the root, .dockerignore and a.txt; a small file read whole in one call needs no fstat.
    assert.equal(h.stats.statCalls, 3);
  });

  test('comments, blank lines, a leading /, **, and a BOM', async () => {
    const ignoreText = '\uFEFF# a comment\n\n/build\n**/*.log\n  spaced.txt  \r\n';
    const root = await makeContext({ '.dockerignore': ignoreText, 'build/x': 'x', 'sub/build/y': 'y', 'x.log': 'l', 'a/b/c.log': 'l', 'spaced.txt': 's', 'keep.txt': 'k' });
    const s = await snap(root);
    assert.deepEqual(s.ignorePatterns, ['build', '**/*.log', 'spaced.txt']);
    assert.deepEqual([...s.entries.keys()].sort(), ['.dockerignore', 'a', 'a/b', 'keep.txt', 'sub', 'sub/build', 'sub/build/y']);
  });

  test('matching is case-sensitive and regex characters are literal, as in Docker', async () => {
    const root = await makeContext({ '.dockerignore': 'README.md\na+b.txt\n(x).txt\n', 'readme.md': 'r', 'a+b.txt': '1', 'aab.txt': '2', '(x).txt': '3', 'x.txt': '4' });
    const s = await snap(root);
    assert.deepEqual([...s.entries.keys()].sort(), ['.dockerignore', 'aab.txt', 'readme.md', 'x.txt']);
  });

  test('<Dockerfile>.dockerignore beside the Dockerfile takes precedence over the context one', async () => {
    const root = await makeContext({
      '.dockerignore': 'a.txt\n',
      'docker/app.Dockerfile': 'FROM scratch\n',
      'docker/app.Dockerfile.dockerignore': 'b.txt\n',
      'a.txt': 'a',
      'b.txt': 'b',
    });
    const named = await snap(root, { dockerfile: path.join(root, 'docker/app.Dockerfile') });
    assert.equal(named.ignoreFile, path.join(root, 'docker/app.Dockerfile.dockerignore'));
    assert.ok(named.entries.has('a.txt') && !named.entries.has('b.txt'));
    // The ignore files and the Dockerfile are ordinary context files.
    assert.ok(named.entries.has('.dockerignore') && named.entries.has('docker/app.Dockerfile'));
    const plain = await snap(root, { dockerfile: path.join(root, 'Dockerfile') });
    assert.equal(plain.ignoreFile, path.join(root, '.dockerignore'));
    assert.ok(!plain.entries.has('a.txt') && plain.entries.has('b.txt'));
  });

  test('an invalid pattern is reported with its line and skipped; the others apply', async () => {
    const root = await makeContext({ '.dockerignore': 'a.txt\n[\n!\nb.txt\n', 'a.txt': 'a', 'b.txt': 'b', 'c.txt': 'c' });
    const s = await snap(root);
    assert.deepEqual([...s.entries.keys()].sort(), ['.dockerignore', 'c.txt']);
    assert.deepEqual(s.ignorePatterns, ['a.txt', 'b.txt']);
    assert.equal(s.problems.length, 2);
    assert.match(s.problems[0] ?? '', /\.dockerignore line 2: invalid pattern "\[".*fails the build/);
    assert.match(s.problems[1] ?? '', /line 3: illegal exclusion pattern/);
  });
});

describe('source selection', () => {
  const spec = (): Record<string, Spec> => ({
    'src/app.ts': 'app',
    'src/a/index.ts': 'ia',
    'src/b/other.ts': 'ob',
    'package.json': '{}',
    'tsconfig.json': '{"x":1}',
    'README.md': 'readme',
    'a.txt': 'a',
    'b.txt': 'b',
    'c.txt': 'c',
    'docs/guide.md': 'g',
  });

  test('source paths are cleaned and joined to the root: /src ./src src/ ../src src/../src src/.', async () => {
    const s = await snap(await makeContext(spec()));
    const c = selectSources(s, ['src']).checksum;
    for (const v of ['/src', './src', 'src/', '../src', 'src/../src', 'src/.', '../../src/']) assert.equal(selectSources(s, [v]).checksum, c, v);
    for (const v of ['', '/', './', '..']) assert.equal(selectSources(s, [v]).checksum, selectSources(s, ['.']).checksum, v);
  });

  test('wildcards: the matched entries relative to the prefix; non-matching files do not count', async () => {
    const root = await makeContext(spec());
    const s = await snap(root);
    const sel = selectSources(s, ['*.json']);
    assert.deepEqual(sel.files.map((f) => f.path), ['package.json', 'tsconfig.json']);
    assert.deepEqual(sel.missing, []);
    // By hand: "/package.json" and "/tsconfig.json" keys (NUL for /) with their digests.
    const d = (p: string): string => 'sha256:' + (s.entries.get(p)?.hash ?? '');
    assert.equal(sel.selectors[0]?.digest, 'sha256:' + sha('\0package.json' + d('package.json') + '\0tsconfig.json' + d('tsconfig.json')));
    await fsp.writeFile(path.join(root, 'a.txt'), 'changed');
    assert.equal(await checksum(root, ['*.json']), sel.checksum);
    await fsp.writeFile(path.join(root, 'tsconfig.json'), '{}');
    assert.notEqual(await checksum(root, ['*.json']), sel.checksum);
  });

  test('a wildcard matching nothing is allowed (AllowEmptyWildcard): empty selection, not missing', async () => {
    const s = await snap(await makeContext(spec()));
    const sel = selectSources(s, ['*.nothing']);
    assert.deepEqual(sel.missing, []);
    assert.deepEqual(sel.files, []);
    assert.equal(sel.selectors[0]?.digest, 'sha256:' + sha(''));
  });

  test('a wildcard with one match named like the pattern is that entry itself (src/*/index.ts)', async () => {
    const root = await makeContext(spec());
    const s = await snap(root);
    const sel = selectSources(s, ['src/*/index.ts']);
    assert.deepEqual(sel.files.map((f) => f.path), ['src/a/index.ts']);
    assert.equal(sel.checksum, selectSources(s, ['src/a/index.ts']).checksum);
    // So moving it to another matching directory keeps the checksum.
    await fsp.rename(path.join(root, 'src/a'), path.join(root, 'src/z'));
    assert.equal(await checksum(root, ['src/*/index.ts']), sel.checksum);
  });

  test('wildcard matching a directory takes its header and contents; classes and ?', async () => {
    const s = await snap(await makeContext(spec()));
    assert.deepEqual(selectSources(s, ['src/*']).files.map((f) => f.path), ['src/a', 'src/a/index.ts', 'src/app.ts', 'src/b', 'src/b/other.ts']);
    assert.deepEqual(selectSources(s, ['[ab].txt']).files.map((f) => f.path), ['a.txt', 'b.txt']);
    assert.deepEqual(selectSources(s, ['?.txt']).files.map((f) => f.path), ['a.txt', 'b.txt', 'c.txt']);
    assert.deepEqual(selectSources(s, ['[^a].txt']).files.map((f) => f.path), ['b.txt', 'c.txt']);
  });

  test('--exclude removes matching paths, relative to the source', async () => {
    const root = await makeContext(spec());
    const s = await snap(root);
    const sel = selectSources(s, ['.'], { excludes: ['*.md', 'src/b'] });
    const paths = sel.files.map((f) => f.path);
    assert.ok(!paths.includes('README.md') && !paths.includes('src/b') && !paths.includes('src/b/other.ts'));
    assert.ok(paths.includes('docs/guide.md')); // *.md is one path component: docs/guide.md stays
    await fsp.writeFile(path.join(root, 'README.md'), 'changed');
    assert.equal(await checksum(root, ['.'], { excludes: ['*.md', 'src/b'] }), sel.checksum);
    await fsp.writeFile(path.join(root, 'src/app.ts'), 'changed');
    assert.notEqual(await checksum(root, ['.'], { excludes: ['*.md', 'src/b'] }), sel.checksum);
    // Relative to the source: for `COPY --exclude=app.ts src`, src/app.ts is excluded.
    assert.ok(!selectSources(s, ['src'], { excludes: ['app.ts'] }).files.some((f) => f.path === 'src/app.ts'));
    // patternmatcher keeps a leading / in --exclude, so it never matches a relative path.
    assert.equal(selectSources(s, ['.'], { excludes: ['/README.md'] }).files.some((f) => f.path === 'README.md'), true);
  });

  test('--exclude of a single file source keeps the file digest', async () => {
    const s = await snap(await makeContext(spec()));
    assert.equal(selectSources(s, ['a.txt'], { excludes: ['*.md'] }).checksum, selectSources(s, ['a.txt']).checksum);
  });

  test('--parents hashes the full path from the root, parent directory headers included', async () => {
    const root = await makeContext({ 'a/b/c.txt': 'c', 'a/b/d.txt': 'd' });
    let s = await snap(root);
    const parents = selectSources(s, ['a/b/c.txt'], { parents: true });
    assert.deepEqual(parents.files.map((f) => f.path), ['a', 'a/b', 'a/b/c.txt']);
    const d = (p: string): string => 'sha256:' + (s.entries.get(p)?.hash ?? '');
    assert.deepEqual(parents.selectors, [{ path: '/', digest: 'sha256:' + sha('\0a' + d('a') + '\0a\0b' + d('a/b') + '\0a\0b\0c.txt' + d('a/b/c.txt')) }]);
    const plain = selectSources(s, ['a/b/c.txt']).checksum;
    assert.notEqual(parents.checksum, plain);
    // With a pivot (`a/./b/c.txt`) the paths start below it; the pivot directory's header is the
    // selection's own (empty) key.
    const pivot = selectSources(s, ['a/./b/c.txt'], { parents: true });
    assert.deepEqual(pivot.selectors, [{ path: '/a', digest: 'sha256:' + sha('\0' + d('a') + '\0b' + d('a/b') + '\0b\0c.txt' + d('a/b/c.txt')) }]);
    // A parent's mode is part of the --parents selection, not of the plain one.
    await fsp.chmod(path.join(root, 'a/b'), 0o700);
    s = await snap(root);
    assert.notEqual(selectSources(s, ['a/b/c.txt'], { parents: true }).checksum, parents.checksum);
    assert.notEqual(selectSources(s, ['a/./b/c.txt'], { parents: true }).checksum, pivot.checksum);
    assert.equal(selectSources(s, ['a/b/c.txt']).checksum, plain);
    // A required path that is not there fails the build; a wildcard does not.
    assert.deepEqual(selectSources(s, ['a/nope.txt'], { parents: true }).missing, ['a/nope.txt']);
    assert.deepEqual(selectSources(s, ['a/*.nope'], { parents: true }).missing, []);
  });

  test('missing sources are reported; a build with them fails', async () => {
    const s = await snap(await makeContext(spec()));
    const sel = selectSources(s, ['a.txt', 'nope.txt', 'nope/*.txt', 'src/nope']);
    assert.deepEqual(sel.missing, ['nope.txt', 'src/nope']);
    assert.deepEqual(selectSources(s, ['nope'], { excludes: ['x'] }).missing, ['nope']);
  });

  test('several sources: sorted, and one under another is dropped (dedupeSelectors)', async () => {
    const s = await snap(await makeContext(spec()));
    assert.equal(selectSources(s, ['src', 'src/app.ts']).checksum, selectSources(s, ['src']).checksum);
    assert.equal(selectSources(s, ['b.txt', 'a.txt']).checksum, selectSources(s, ['a.txt', 'b.txt']).checksum);
    assert.deepEqual(selectSources(s, ['b.txt', 'a.txt']).selectors.map((x) => x.path), ['/a.txt', '/b.txt']);
    assert.notEqual(selectSources(s, ['a.txt', 'b.txt']).checksum, selectSources(s, ['a.txt']).checksum);
  });

  test('literal sources (bind mounts) do not expand wildcards', async () => {
    const s = await snap(await makeContext({ '[a].txt': 'literal', 'a.txt': 'a' }));
    assert.deepEqual(selectSources(s, ['[a].txt'], { literal: true }).files.map((f) => f.path), ['[a].txt']);
    assert.deepEqual(selectSources(s, ['[a].txt']).files.map((f) => f.path), ['a.txt']);
  });
});

describe('symlinks in selections', () => {
  test('a source that is a symlink is followed inside the context (FollowSymlinks)', async () => {
    const root = await makeContext({ 'target.txt': 't', link: { link: 'target.txt' }, 'dir/x': 'x', dirlink: { link: '/dir' } });
    const s = await snap(root);
    assert.equal(selectSources(s, ['link']).checksum, selectSources(s, ['target.txt']).checksum);
    // An absolute target is taken from the context root.
    assert.equal(selectSources(s, ['dirlink']).checksum, selectSources(s, ['dir']).checksum);
    assert.equal(selectSources(s, ['dirlink/x']).checksum, selectSources(s, ['dir/x']).checksum);
    // Followed when it is the match of a wildcard, too.
    assert.equal(selectSources(s, ['lin*']).selectors[0]?.digest, 'sha256:' + sha('\0link' + 'sha256:' + (s.entries.get('target.txt')?.hash ?? '')));
  });

  test('symlinks inside a directory source are hashed as links, not followed', async () => {
    const root = await makeContext({ 'outside.txt': 'o', 'src/link': { link: '../outside.txt' }, 'src/a': 'a' });
    const before = await checksum(root, ['src']);
    await fsp.writeFile(path.join(root, 'outside.txt'), 'changed');
    assert.equal(await checksum(root, ['src']), before);
    assert.equal(await checksum(root, ['src'], { excludes: ['nothing'] }), before);
    // BuildKit before v0.25 followed nested links of a filtered selection.
    const legacy = await checksum(root, ['src'], { excludes: ['nothing'], followNestedLinks: true });
    await fsp.writeFile(path.join(root, 'outside.txt'), 'again');
    assert.notEqual(await checksum(root, ['src'], { excludes: ['nothing'], followNestedLinks: true }), legacy);
  });

  test('dangling links, links out of the context and loops as sources are missing', async () => {
    const root = await makeContext({ dangling: { link: 'nowhere' }, out: { link: '/etc/hostname' }, up: { link: '../../../etc/passwd' }, loop1: { link: 'loop2' }, loop2: { link: 'loop1' } });
    const s = await snap(root);
    assert.equal(s.problems.length, 0);
    assert.deepEqual(selectSources(s, ['dangling', 'out', 'up']).missing, ['dangling', 'out', 'up']);
    const loop = selectSources(s, ['loop1']);
    assert.deepEqual(loop.missing, ['loop1']);
    assert.match(loop.problems.join('\n'), /too many levels of symbolic links/);
    // In a directory source they are plain links.
    assert.deepEqual(selectSources(s, ['.']).missing, []);
    // A top-level link of an --exclude'd "." is followed, so a dangling one fails the build.
    assert.deepEqual(selectSources(s, ['.'], { excludes: ['x'] }).missing, ['.']);
  });
});

describe('warm snapshots', () => {
  const files = (): Record<string, Spec> => ({ 'a.txt': 'a', 'b.txt': 'b', 'dir/c.txt': 'c', 'dir/d.txt': 'd', link: { link: 'a.txt' } });

  test('unchanged files are not read again; invalidate() re-hashes exactly those', async () => {
    const root = await makeContext(files());
    const h = new ContextHasher(root);
    const first = await h.snapshot();
    assert.deepEqual({ hashed: h.stats.hashedFiles, reused: h.stats.reusedFiles }, { hashed: 4, reused: 0 });
    const second = await h.snapshot();
    assert.deepEqual({ hashed: h.stats.hashedFiles, reused: h.stats.reusedFiles }, { hashed: 0, reused: 4 });
    assert.deepEqual(second.entries, first.entries);
    h.invalidate(['a.txt', './dir/c.txt']);
    await h.snapshot();
    assert.deepEqual({ hashed: h.stats.hashedFiles, reused: h.stats.reusedFiles }, { hashed: 2, reused: 2 });
    h.invalidate(['dir']);
    await h.snapshot();
    assert.deepEqual({ hashed: h.stats.hashedFiles, reused: h.stats.reusedFiles }, { hashed: 2, reused: 2 });
  });

  test('a changed file is re-hashed (size, mtime, inode or mode)', async () => {
    const root = await makeContext(files());
    const h = new ContextHasher(root);
    await h.snapshot();
    await fsp.writeFile(path.join(root, 'b.txt'), 'B');
    await fsp.utimes(path.join(root, 'b.txt'), PAST, new Date('2021-01-01T00:00:00Z'));
    await fsp.chmod(path.join(root, 'dir/c.txt'), 0o600);
    const s = await h.snapshot();
    assert.deepEqual({ hashed: h.stats.hashedFiles, reused: h.stats.reusedFiles }, { hashed: 2, reused: 2 });
    assert.equal(s.entries.get('b.txt')?.hash, sha(header(0o644, 1, '0') + 'B'));
  });

  test('a file modified during or after the snapshot start (racily clean) is not trusted next time', async () => {
    const root = await makeContext(files());
    const future = new Date(Date.now() + 3600_000);
    await fsp.utimes(path.join(root, 'a.txt'), future, future);
    const h = new ContextHasher(root);
    await h.snapshot();
    await h.snapshot();
    assert.deepEqual({ hashed: h.stats.hashedFiles, reused: h.stats.reusedFiles }, { hashed: 1, reused: 3 });
  });

  test('overlapping snapshot() calls run one after the other', async () => {
    const root = await makeContext(files());
    const h = new ContextHasher(root);
    const [a, b] = await Promise.all([h.snapshot(), h.snapshot()]);
    assert.deepEqual(b.entries, a.entries);
    assert.deepEqual({ hashed: h.stats.hashedFiles, reused: h.stats.reusedFiles }, { hashed: 0, reused: 4 });
  });

  test('progress is reported, and a second hasher gives the same snapshot', async () => {
    const root = await makeContext(files());
    const calls: Array<[number, number]> = [];
    const s = await snap(root, { onProgress: (d, t) => calls.push([d, t]) });
    assert.deepEqual(calls[calls.length - 1], [6, 6]);
    assert.deepEqual(s.entries, (await snap(root)).entries);
  });
});

describe('robustness', () => {
  test('a FIFO is never opened: type other, tar type 6', async () => {
    const root = await makeContext({ 'a.txt': 'a' });
    execFileSync('mkfifo', ['-m', '0600', path.join(root, 'fifo')]);
    const s = await snap(root);
    const e = s.entries.get('fifo');
    assert.equal(e?.type, 'other');
    assert.equal(e.hash, sha(header(0o600, 0, '6')));
    // Even when it is selected by name.
    assert.equal(selectSources(s, ['fifo']).selectors[0]?.digest, 'sha256:' + e.hash);
  });

  test('a socket travels as an empty regular file (fsutil clears the socket bit); never opened', async () => {
    const root = await makeContext({ 'a.txt': 'a' });
    const sock = path.join(root, 'sock');
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(sock, resolve));
    try {
      await fsp.chmod(sock, 0o755);
      const e = (await snap(root)).entries.get('sock');
      assert.equal(e?.type, 'other');
      assert.equal(e.hash, sha(header(0o755, 0, '0')));
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  test('a file deleted between listing and reading is dropped with a problem', async () => {
    const root = await makeContext({ 'a.txt': 'a', 'gone.txt': 'soon gone' });
    class Racing extends ContextHasher {
      protected override openFile(abs: string): number {
        if (abs.endsWith('gone.txt')) fs.unlinkSync(abs);
        return super.openFile(abs);
      }
    }
    const s = await new Racing(root).snapshot();
    assert.deepEqual([...s.entries.keys()], ['a.txt']);
    assert.match(s.problems.join('\n'), /gone\.txt: removed or replaced while reading/);
  });

  test('an unreadable file is hashed with an empty body, as BuildKit receives it, and reported', async () => {
    const root = await makeContext({ 'a.txt': 'a', 'locked.txt': 'secret' });
    class Denied extends ContextHasher {
      protected override openFile(abs: string): number {
        if (abs.endsWith('locked.txt')) throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
        return super.openFile(abs);
      }
    }
    const h = new Denied(root);
    const s = await h.snapshot();
    assert.equal(s.entries.get('locked.txt')?.hash, sha(header(0o644, 6, '0')));
    assert.match(s.problems.join('\n'), /locked\.txt: cannot be read \(EACCES\)/);
    await h.snapshot();
    assert.equal(h.stats.hashedFiles, 1); // not cached: retried next time
  });

  test('an unreadable directory is reported; the rest of the context is kept', async () => {
    const root = await makeContext({ 'a.txt': 'a', 'private/x': 'x' });
    class Denied extends ContextHasher {
      protected override readDir(abs: string): fs.Dirent[] {
        if (abs.endsWith('private')) throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
        return super.readDir(abs);
      }
    }
    const s = await new Denied(root).snapshot();
    assert.deepEqual([...s.entries.keys()].sort(), ['a.txt', 'private']);
    assert.match(s.problems.join('\n'), /private: cannot list the directory \(EACCES\)/);
  });

  test('chmod 000 (non-root only: root reads through it)', { skip: isRoot ? 'running as root' : false }, async () => {
    const root = await makeContext({ 'a.txt': 'a', 'locked.txt': 'secret', 'private/x': 'x' });
    await fsp.chmod(path.join(root, 'locked.txt'), 0o000);
    await fsp.chmod(path.join(root, 'private'), 0o000);
    try {
      const s = await snap(root);
      assert.equal(s.entries.get('locked.txt')?.hash, sha(header(0, 6, '0')));
      assert.ok(!s.entries.has('private/x'));
      assert.equal(s.problems.length, 2);
    } finally {
      await fsp.chmod(path.join(root, 'private'), 0o755);
    }
  });

  test('a missing context is a problem, not an exception', async () => {
    const s = await snap(path.join(os.tmpdir(), 'dcl-does-not-exist-' + String(process.pid)));
    assert.equal(s.entries.size, 0);
    assert.equal(s.problems.length, 1);
  });

  test('symlinks pointing outside the context are hashed as links; loops do not hang the walk', async () => {
    const root = await makeContext({ out: { link: '/etc' }, a: { link: 'b' }, b: { link: 'a' }, self: { link: '.' } });
    const s = await snap(root);
    assert.deepEqual([...s.entries.values()].map((e) => e.type), ['symlink', 'symlink', 'symlink', 'symlink']);
    assert.equal(s.entries.get('out')?.hash, sha(header(0o777, 0, '2', '/etc')));
  });
});

describe("Go's path.Match", () => {
  test('segments, classes, escapes', () => {
    const cases: Array<[string, string, boolean]> = [
      ['*.json', 'a.json', true], ['*.json', 'a/b.json', false], ['/src/*/index.ts', '/src/a/index.ts', true],
      ['/src/*/index.ts', '/src/a/b/index.ts', false], ['[ab].txt', 'b.txt', true], ['[^ab].txt', 'c.txt', true],
      ['[a-c]?', 'bz', true], ['a?c', 'a/c', false], ['a[/]c', 'a/c', true], ['\\*', '*', true], ['\\*', 'a', false],
      ['*', '', true], ['a*b*c', 'axxbyyc', true], ['a*b*c', 'axxbyy', false], ['ä?', 'äö', true],
    ];
    for (const [p, n, want] of cases) assert.equal(goPathMatch(p, n), want, `${p} ${n}`);
  });

  test('bad patterns, as filepath.Match reports them', () => {
    for (const p of ['[', 'a[', '[]', '[a-]', '[-a]', 'a\\', '[a']) assert.notEqual(validateGoPattern(p), undefined, p);
    for (const p of ['a]', '[]a]x'.slice(2), '[\\]]', '[a-b]', '*']) assert.equal(validateGoPattern(p), undefined, p);
  });
});

describe('the walk is synchronous in slices', () => {
  test('a file larger than one read chunk is hashed whole', async () => {
    const big = Buffer.alloc((1 << 20) + 17, 7);
    big.write('start', 0);
    big.write('end', big.length - 3);
    const root = await makeContext({ 'big.bin': { content: big.toString('latin1') } });
    const s = await snap(root);
    const content = fs.readFileSync(path.join(root, 'big.bin'));
    assert.equal(content.length, big.length);
    assert.equal(s.entries.get('big.bin')?.hash, sha(Buffer.concat([Buffer.from(header(0o644, content.length, '0')), content])));
  });

  test('the event loop keeps turning while a context is walked', async () => {
    const spec: Record<string, Spec> = {};
    for (let i = 0; i < 4000; i++) spec[`d${i % 40}/f${i}.txt`] = `file ${i}`;
    const root = await makeContext(spec);
    let ticks = 0;
    const timer = setInterval(() => { ticks++; }, 1);
    const h = new ContextHasher(root);
    let stillWalking = true;
    const done = h.snapshot().finally(() => { stillWalking = false; });
    // Something else asks while the walk runs (a keystroke): it is answered before the walk ends.
    const answered = await new Promise<boolean>((resolve) => setTimeout(() => resolve(stillWalking), 5));
    const s = await done;
    clearInterval(timer);
    assert.equal(s.entries.size, 4040);
    assert.equal(answered, true, 'a timer of 5 ms fired before the walk of 4,000 files was over');
    assert.ok(ticks > 0);
  });
});
