/**
 * The language server's predictions in the editor, against the real engine: code lenses on every
 * step, updated after a build, after a context file changes on disk and after a .dockerignore
 * change; and hovers. The real server process over a real LSP connection; builds by the real CLI.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  CodeLensRequest, DidChangeConfigurationNotification, DidChangeWatchedFilesNotification, FileChangeType, HoverRequest,
  type CodeLens, type MarkupContent,
} from 'vscode-languageserver-protocol/node';
import { TestClient } from '../helpers/lspClient';
import { startEngine } from '../helpers/engine';

const CLI = path.join(__dirname, '..', '..', 'dist', 'cli.js');
const DOCKERFILE = [
  'FROM node:20-alpine', //          0
  'WORKDIR /app', //                 1
  'COPY package.json ./', //         2
  'RUN npm ci', //                   3
  'COPY . .', //                     4
  'RUN npm run build', //            5
  '',
].join('\n');

let env: NodeJS.ProcessEnv;
let dir: string;
let manifests: string;
let client: TestClient;
let uri: string;

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
  });
}

/** Step lens titles by line (the stage summary lens on line 0 is left out). */
function stepTitles(lenses: CodeLens[]): Map<number, string> {
  const out = new Map<number, string>();
  for (const l of lenses) {
    const title = l.command?.title ?? '';
    if (/steps cached|never built|hashing/.test(title) && !title.startsWith('↻')) continue;
    out.set(l.range.start.line, title);
  }
  return out;
}

/** Asks for lenses until `pred` holds, waiting for the server's refresh request in between. */
async function lensesUntil(pred: (titles: Map<number, string>, all: CodeLens[]) => boolean): Promise<Map<number, string>> {
  for (;;) {
    const refreshed = client.nextLensRefresh();
    const lenses = (await client.connection.sendRequest(CodeLensRequest.type, { textDocument: { uri } })) ?? [];
    const titles = stepTitles(lenses);
    if (pred(titles, lenses)) return titles;
    await refreshed;
  }
}

before(async () => {
  env = await startEngine();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcl-lens-'));
  manifests = fs.mkdtempSync(path.join(os.tmpdir(), 'dcl-lens-m-'));
  // A marker unique to this run, so BuildKit's cache from other runs plays no part.
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'lens-test', marker: `${process.pid}-${Date.now()}` }) + '\n');
  fs.mkdirSync(path.join(dir, 'src'));
  fs.writeFileSync(path.join(dir, 'src', 'index.ts'), 'export const a = 1;\n');
  fs.writeFileSync(path.join(dir, '.dockerignore'), 'node_modules\n');
  fs.writeFileSync(path.join(dir, 'Dockerfile'), DOCKERFILE);
  uri = pathToFileURL(path.join(dir, 'Dockerfile')).toString();
  client = new TestClient(env);
  client.settings.set('*', { manifestDirectory: manifests });
  await client.initialize();
});

after(async () => {
  await client.shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(manifests, { recursive: true, force: true });
});

test('a Dockerfile never built gets a lens on every step', async () => {
  await client.open(uri, DOCKERFILE, 1);
  const titles = await lensesUntil((t) => t.size === 6);
  assert.equal(titles.get(0), '↻ rebuilds: never built');
  for (const line of [1, 2, 3, 4, 5]) assert.equal(titles.get(line), '↻ rebuilds: previous step rebuilds', `line ${line}`);
});

test('after a build the lenses say cached', async () => {
  const built = await cli(['build', '--manifest', manifests, dir]);
  assert.equal(built.code, 0, built.stderr);
  // Recorded builds are read on the next validation: a configuration change triggers one.
  await client.connection.sendNotification(DidChangeConfigurationNotification.type, { settings: null });
  const titles = await lensesUntil((t) => [...t.values()].every((x) => x === '✓ cached') && t.size === 6);
  assert.equal(titles.size, 6);
});

test('a source file changed on disk flips exactly the steps that read it', async () => {
  fs.writeFileSync(path.join(dir, 'src', 'index.ts'), 'export const a = 2;\n');
  await client.connection.sendNotification(DidChangeWatchedFilesNotification.type, {
    changes: [{ uri: pathToFileURL(path.join(dir, 'src', 'index.ts')).toString(), type: FileChangeType.Changed }],
  });
  const titles = await lensesUntil((t) => t.get(4)?.startsWith('↻') === true);
  assert.deepEqual([0, 1, 2, 3].map((l) => titles.get(l)), ['✓ cached', '✓ cached', '✓ cached', '✓ cached']);
  assert.match(titles.get(4) ?? '', /^↻ rebuilds: src\/index\.ts changed/);
  assert.match(titles.get(5) ?? '', /^↻ rebuilds: previous step rebuilds/);
});

test('a .dockerignore change is seen too, and an ignored file then changes nothing', async () => {
  fs.writeFileSync(path.join(dir, 'src', 'index.ts'), 'export const a = 1;\n'); // back to the built state
  fs.writeFileSync(path.join(dir, '.dockerignore'), 'node_modules\nsrc\n');
  await client.connection.sendNotification(DidChangeWatchedFilesNotification.type, {
    changes: [
      { uri: pathToFileURL(path.join(dir, 'src', 'index.ts')).toString(), type: FileChangeType.Changed },
      { uri: pathToFileURL(path.join(dir, '.dockerignore')).toString(), type: FileChangeType.Changed },
    ],
  });
  // COPY . . copies .dockerignore itself, and no longer src/: both show in the reason.
  const titles = await lensesUntil((t) => /\.dockerignore changed/.test(t.get(4) ?? ''));
  assert.match(titles.get(4) ?? '', /^↻ rebuilds: \.dockerignore changed \(\+\d+ more\)/);
  assert.equal(titles.get(3), '✓ cached');
  const h = await client.connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line: 4, character: 1 } });
  assert.match((h?.contents as MarkupContent | undefined)?.value ?? '', /src\/index\.ts removed/);
  // Editing the now-ignored file changes nothing; a file added in the same moment does.
  fs.writeFileSync(path.join(dir, 'src', 'index.ts'), 'export const a = 3;\n');
  fs.writeFileSync(path.join(dir, 'extra.txt'), 'new\n');
  await client.connection.sendNotification(DidChangeWatchedFilesNotification.type, {
    changes: [
      { uri: pathToFileURL(path.join(dir, 'src', 'index.ts')).toString(), type: FileChangeType.Changed },
      { uri: pathToFileURL(path.join(dir, 'extra.txt')).toString(), type: FileChangeType.Created },
    ],
  });
  await lensesUntil(() => true);
  for (;;) {
    const refreshed = client.nextLensRefresh();
    const h = await client.connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line: 4, character: 1 } });
    const md = (h?.contents as MarkupContent | undefined)?.value ?? '';
    if (md.includes('extra.txt added')) {
      assert.doesNotMatch(md, /src\/index\.ts changed/);
      break;
    }
    await refreshed;
  }
});

test('hover shows the prediction and the inputs of the cache key', async () => {
  const h = await client.connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line: 3, character: 1 } });
  const md = (h?.contents as MarkupContent | undefined)?.value ?? '';
  assert.match(md, /✓ cached/);
  assert.match(md, /\[4\/6\] RUN npm ci/);
  assert.match(md, /command `RUN npm ci`/);
  const label = await client.connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line: 0, character: 1 } });
  assert.match((label?.contents as MarkupContent | undefined)?.value ?? '', /base image/);
});
