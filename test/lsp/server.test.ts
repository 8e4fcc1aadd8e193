/** The real language server process over a real LSP connection (stdio). */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  DocumentSymbolRequest, FoldingRangeRequest, type DocumentSymbol, type FoldingRange, DidChangeConfigurationNotification,
} from 'vscode-languageserver-protocol/node';
import { TestClient } from '../helpers/lspClient';
import { FIXTURES } from '../helpers/fixtures';

const DOCKERFILE = [
  'ARG BASE=alpine:3.20',           // 0
  'FROM ${BASE} AS build',          // 1
  'WORKDIR /src',                   // 2
  'COPY --chwon=app . .',           // 3  unknown flag
  'RUN <<EOF',                      // 4
  'make all',                       // 5
  'make install',                   // 6
  'EOF',                            // 7
  '',                               // 8
  'FROM scratch',                   // 9
  'COPY --from=build /out /bin/ \\', // 10
  '  /extra',                       // 11
  '',
].join('\n');

let client: TestClient;

before(async () => {
  client = new TestClient();
  await client.initialize();
});

after(async () => {
  const code = await client.shutdown();
  assert.equal(code, 0, 'the server exits cleanly after shutdown');
});

test('syntax diagnostics come back on the right characters', async () => {
  const uri = 'file:///work/a/Dockerfile';
  await client.open(uri, DOCKERFILE, 1);
  const d = await client.waitForDiagnostics(uri, (p) => p.version === 1);
  assert.equal(d.diagnostics.length, 1, JSON.stringify(d.diagnostics));
  const [diag] = d.diagnostics;
  assert.equal(diag?.message, 'unknown flag: --chwon (did you mean chown?)');
  assert.deepEqual(diag?.range, { start: { line: 3, character: 5 }, end: { line: 3, character: 16 } });
  assert.equal(diag?.severity, 1);
  assert.ok(client.configurationRequests > 0, 'settings were asked for the document');
});

test('document symbols: stages with their instructions', async () => {
  const uri = 'file:///work/a/Dockerfile';
  const symbols = await client.connection.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri } }) as DocumentSymbol[];
  assert.deepEqual(symbols.map((s) => s.name), ['ARG BASE=alpine:3.20', 'build', 'stage 1']);
  const build = symbols[1];
  assert.deepEqual(build?.children?.map((c) => c.name), ['WORKDIR /src', 'COPY . .', 'RUN <<EOF']);
  assert.deepEqual(build?.range, { start: { line: 1, character: 0 }, end: { line: 7, character: 3 } });
  assert.deepEqual(build?.selectionRange, { start: { line: 1, character: 16 }, end: { line: 1, character: 21 } });
  const last = symbols[2]?.children?.[0];
  assert.deepEqual(last?.range, { start: { line: 10, character: 0 }, end: { line: 11, character: 8 } });
});

test('folding ranges: stages, heredocs and continuation lines', async () => {
  const uri = 'file:///work/a/Dockerfile';
  const ranges = await client.connection.sendRequest(FoldingRangeRequest.type, { textDocument: { uri } }) as FoldingRange[];
  const pairs = ranges.map((r) => `${r.startLine}-${r.endLine}`).sort();
  assert.deepEqual(pairs, ['1-7', '4-7', '9-11', '10-11'].sort());
});

test('a change is parsed again and its diagnostics replace the old ones', async () => {
  const uri = 'file:///work/a/Dockerfile';
  await client.replace(uri, DOCKERFILE.replace('--chwon=app', '--chown=app'), 2);
  const d = await client.waitForDiagnostics(uri, (p) => p.version === 2);
  assert.deepEqual(d.diagnostics, []);
  await client.replace(uri, 'FROM alpine\nRUN <<EOF\necho never closed\n', 3);
  const d3 = await client.waitForDiagnostics(uri, (p) => p.version === 3);
  assert.equal(d3.diagnostics.length, 1);
  assert.match(d3.diagnostics[0]?.message as string, /^unterminated heredoc/);
  assert.equal(d3.diagnostics[0]?.range.start.line, 1);
});

test('settings are read per document: syntax diagnostics can be turned off for one', async () => {
  const off = 'file:///work/b/Dockerfile';
  client.settings.set(off, { diagnostics: { syntax: false } });
  await client.open(off, 'FROM alpine\nFROBNICATE now\n', 1);
  const d = await client.waitForDiagnostics(off, (p) => p.version === 1);
  assert.deepEqual(d.diagnostics, []);
  // The same text in another folder keeps the default.
  const on = 'file:///work/c/Dockerfile';
  await client.open(on, 'FROM alpine\nFROBNICATE now\n', 1);
  const d2 = await client.waitForDiagnostics(on, (p) => p.version === 1);
  assert.equal(d2.diagnostics[0]?.message, 'unknown instruction: FROBNICATE');
  // A configuration change re-validates open documents with the new settings.
  client.settings.set(off, { diagnostics: { syntax: true } });
  await client.connection.sendNotification(DidChangeConfigurationNotification.type, { settings: null });
  const d3 = await client.waitForDiagnostics(off, (p) => p.diagnostics.length === 1);
  assert.equal(d3.diagnostics[0]?.range.start.line, 1);
});

test('closing a document clears its diagnostics', async () => {
  const uri = 'file:///work/c/Dockerfile';
  const before = (await client.waitForDiagnostics(uri)).diagnostics.length;
  assert.equal(before, 1);
  await client.close(uri);
  await client.waitForDiagnostics(uri, (p) => p.diagnostics.length === 0 && p.version === undefined);
});

test('the server survives every fixture and random byte soup, and keeps answering', async () => {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else files.push(p);
    }
  };
  walk(FIXTURES);
  const uri = 'file:///work/soup/Dockerfile';
  let version = 1;
  await client.open(uri, '', version);
  const texts = files.map((f) => fs.readFileSync(f, 'latin1'));
  let seed = 42;
  const rand = (): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff; };
  const pieces = ['FROM ', 'RUN ', 'COPY ', '<<EOF', '\nEOF\n', '\\\n', '`', '${', '}', '"', "'", '[', ']', '--mount=', '\r', '\n', '# escape=`\n', 'ONBUILD ', '\t', '\u00a0', '\ufeff'];
  for (let i = 0; i < 300; i++) {
    let s = '';
    const n = Math.floor(rand() * 40);
    for (let k = 0; k < n; k++) {
      s += rand() < 0.5 ? (pieces[Math.floor(rand() * pieces.length)] ?? '') : String.fromCharCode(Math.floor(rand() * 0x3000));
    }
    texts.push(s);
  }
  for (const t of texts) {
    version++;
    await client.replace(uri, t, version);
    await client.connection.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri } });
    await client.connection.sendRequest(FoldingRangeRequest.type, { textDocument: { uri } });
  }
  const last = await client.waitForDiagnostics(uri, (p) => p.version === version);
  assert.ok(Array.isArray(last.diagnostics));
  assert.equal(client.process.exitCode, null, 'the server is still running');
  assert.deepEqual(client.logs.filter((l) => /failed|uncaught|unhandled/.test(l)), [], 'no handler failed');
});
