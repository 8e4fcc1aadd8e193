/**
 * Cache rules through the real server process: the diagnostic for `COPY . .` before `RUN npm ci`,
 * its quick-fix as a workspace edit, and the diagnostic gone after the edit. No Docker needed: the
 * server is pointed at an engine that is not there, and rules only read the context.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CodeActionRequest, type CodeAction, type TextDocumentEdit, type TextEdit } from 'vscode-languageserver-protocol/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { TestClient } from '../helpers/lspClient';

const DOCKERFILE = 'FROM node:20-alpine\nWORKDIR /app\n# sources\nCOPY . .\nRUN npm ci\nCMD ["node", "index.js"]\n';
let dir: string;
let client: TestClient;
let uri: string;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcl-actions-'));
  fs.writeFileSync(path.join(dir, 'package.json'), '{"name":"a"}\n');
  fs.writeFileSync(path.join(dir, 'package-lock.json'), '{}\n');
  fs.writeFileSync(path.join(dir, 'index.js'), 'console.log(1)\n');
  fs.writeFileSync(path.join(dir, '.dockerignore'), 'node_modules\n');
  fs.writeFileSync(path.join(dir, 'Dockerfile'), DOCKERFILE);
  uri = pathToFileURL(path.join(dir, 'Dockerfile')).toString();
  client = new TestClient({ ...process.env, DOCKER_HOST: 'unix:///nonexistent/docker.sock' });
  client.settings.set('*', { manifestDirectory: path.join(dir, '.manifests'), rules: { 'cache/package-cache-mount': 'off' } });
  await client.initialize();
});

after(async () => {
  await client.shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the COPY . . before RUN npm ci diagnostic, its quick-fix, and the diagnostic gone after it', async () => {
  await client.open(uri, DOCKERFILE, 1);
  // The first answer comes before the context is read; the rule needs the file list.
  const d = await client.waitForDiagnostics(uri, (p) => p.diagnostics.some((x) => x.code === 'cache/copy-all-before-install'));
  const diag = d.diagnostics.find((x) => x.code === 'cache/copy-all-before-install');
  assert.ok(diag);
  assert.equal(diag.range.start.line, 3);
  assert.match(diag.message as string, /RUN npm ci/);
  assert.match(diag.codeDescription?.href ?? '', /docs\/rules\/copy-all-before-install\.md$/);

  // The fix needs the context's file list (which lock files exist): until the server has read the
  // context it offers none. It says when it has, with a lens refresh.
  let fix: CodeAction | undefined;
  for (;;) {
    const refreshed = client.nextLensRefresh();
    const actions = await client.connection.sendRequest(CodeActionRequest.type, {
      textDocument: { uri }, range: diag.range, context: { diagnostics: [diag] },
    }) as CodeAction[];
    fix = actions.find((a) => a.title === 'Copy the dependency manifests first');
    if (fix !== undefined) break;
    await refreshed;
  }
  assert.equal(fix.kind, 'quickfix');
  const edit = fix.edit?.documentChanges?.[0] as TextDocumentEdit | undefined;
  assert.ok(edit);
  const fixed = TextDocument.applyEdits(TextDocument.create(uri, 'dockerfile', 1, DOCKERFILE), edit.edits as TextEdit[]);
  assert.equal(fixed, 'FROM node:20-alpine\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci\n# sources\nCOPY . .\nCMD ["node", "index.js"]\n');

  await client.replace(uri, fixed, 2);
  const after2 = await client.waitForDiagnostics(uri, (p) => p.version === 2);
  assert.deepEqual(after2.diagnostics.filter((x) => x.code === 'cache/copy-all-before-install'), []);
});

test('a rule turned off in the settings reports nothing', async () => {
  const other = pathToFileURL(path.join(dir, 'Other.Dockerfile')).toString();
  client.settings.set(other, { rules: { 'cache/copy-all-before-install': 'off', 'cache/package-cache-mount': 'off' } });
  fs.writeFileSync(path.join(dir, 'Other.Dockerfile'), DOCKERFILE);
  await client.open(other, DOCKERFILE, 1);
  // The rule fires before the context is read too: every publication must be free of it.
  const d = await client.waitForDiagnostics(other, (p) => p.version === 1);
  assert.deepEqual(d.diagnostics.filter((x) => x.code === 'cache/copy-all-before-install'), []);
  await client.nextLensRefresh();
  const again = await client.waitForDiagnostics(other, (p) => p.version === 1 && p !== d);
  assert.deepEqual(again.diagnostics.filter((x) => x.code === 'cache/copy-all-before-install'), []);
});
