/** `dockerfile-cache-lens lint`: the rules outside the editor (runs the bundled CLI). */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const CLI = path.join(__dirname, '..', '..', 'dist', 'cli.js');

function project(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcl-lint-'));
  fs.mkdirSync(path.join(dir, 'src'));
  fs.writeFileSync(path.join(dir, 'package.json'), '{"name":"x"}\n');
  fs.writeFileSync(path.join(dir, 'package-lock.json'), '{}\n');
  fs.writeFileSync(path.join(dir, 'src', 'a.js'), 'x\n');
  fs.writeFileSync(path.join(dir, '.dockerignore'), 'node_modules\n');
  fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM node:20-alpine\nWORKDIR /app\n# copy everything\nCOPY . .\nRUN npm ci\nRUN npm run build\n');
  return dir;
}

function lint(dir: string, ...args: string[]): { code: number | null; out: string } {
  // No Docker needed: an unreachable engine only means no recorded builds to read.
  const r = spawnSync(process.execPath, [CLI, 'lint', ...args, dir], { encoding: 'utf8', env: { ...process.env, DOCKER_HOST: 'unix:///nonexistent.sock' } });
  return { code: r.status, out: r.stdout };
}

test('lint --json lists each finding with its rule, line, severity and fixes', () => {
  const dir = project();
  const r = lint(dir, '--json');
  assert.equal(r.code, 0);
  const json = JSON.parse(r.out) as { diagnostics: Array<{ rule: string; line: number; severity: string; fixes: Array<{ title: string }> }> };
  const copy = json.diagnostics.find((d) => d.rule === 'cache/copy-all-before-install');
  assert.ok(copy);
  assert.equal(copy.line, 4);
  assert.equal(copy.severity, 'warning');
  assert.deepEqual(copy.fixes.map((f) => f.title), ['Copy the dependency manifests first']);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('lint --fix rewrites the Dockerfile with the safe fixes, keeping its comment', () => {
  const dir = project();
  const r = lint(dir, '--fix', '--rule', 'cache/package-cache-mount=off');
  assert.equal(r.code, 0);
  assert.match(r.out, /fixed: .*Copy the dependency manifests first \[cache\/copy-all-before-install\]/);
  assert.equal(fs.readFileSync(path.join(dir, 'Dockerfile'), 'utf8'),
    'FROM node:20-alpine\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci\n# copy everything\nCOPY . .\nRUN npm run build\n');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('an error-severity finding makes lint exit 1 (for CI)', () => {
  const dir = project();
  assert.equal(lint(dir, '--rule', 'cache/copy-all-before-install=error').code, 1);
  assert.equal(lint(dir, '--rule', 'cache/copy-all-before-install=off').code, 0);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('lint --fix leaves out the cache-mount hint and the .dockerignore that changes the image; --fix-rule applies them', () => {
  const dir = project();
  fs.rmSync(path.join(dir, '.dockerignore'));
  fs.mkdirSync(path.join(dir, 'node_modules', 'x'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'node_modules', 'x', 'index.js'), 'x\n');
  const r = lint(dir, '--fix');
  assert.equal(r.code, 0);
  assert.doesNotMatch(r.out, /fixed: .*(cache mount|\.dockerignore)/);
  assert.equal(fs.existsSync(path.join(dir, '.dockerignore')), false);
  assert.doesNotMatch(fs.readFileSync(path.join(dir, 'Dockerfile'), 'utf8'), /--mount=type=cache/);
  // Still on offer, with a title that says what it changes.
  assert.match(r.out, /fix available: Create \.dockerignore with node_modules \(changes the image: node_modules no longer copied into the image\)/);
  const mount = lint(dir, '--fix-rule', 'cache/package-cache-mount');
  assert.match(mount.out, /fixed: .*Add a cache mount \(\/root\/\.npm\) \[cache\/package-cache-mount\]/);
  assert.match(fs.readFileSync(path.join(dir, 'Dockerfile'), 'utf8'), /^RUN --mount=type=cache,target=\/root\/\.npm npm ci$/m);
  assert.equal(fs.existsSync(path.join(dir, '.dockerignore')), false);
  lint(dir, '--fix-rule', 'cache/context-not-ignored');
  assert.equal(fs.readFileSync(path.join(dir, '.dockerignore'), 'utf8'), 'node_modules\n');
  fs.rmSync(dir, { recursive: true, force: true });
});
