/** Bad documents reach the real server: each is answered, none takes the process down. */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CodeLensRequest, DocumentSymbolRequest, FoldingRangeRequest, HoverRequest, type DocumentSymbol } from 'vscode-languageserver-protocol/node';
import { TestClient } from '../helpers/lspClient';

let dir: string;
let client: TestClient;
let version = 1;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcl-bad-'));
  client = new TestClient({ ...process.env, DOCKER_HOST: 'unix:///nonexistent/docker.sock' });
  client.settings.set('*', { manifestDirectory: path.join(dir, '.manifests') });
  await client.initialize();
});

after(async () => {
  assert.equal(await client.shutdown(), 0);
  fs.rmSync(dir, { recursive: true, force: true });
});

async function roundTrip(name: string, text: string): Promise<{ symbols: DocumentSymbol[]; diagnostics: number }> {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  const uri = pathToFileURL(file).toString();
  const v = version++;
  await client.open(uri, text, v);
  const d = await client.waitForDiagnostics(uri, (p) => p.version === v);
  const symbols = (await client.connection.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri } })) as DocumentSymbol[];
  await client.connection.sendRequest(FoldingRangeRequest.type, { textDocument: { uri } });
  await client.connection.sendRequest(CodeLensRequest.type, { textDocument: { uri } });
  await client.connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line: 0, character: 1 } });
  await client.close(uri);
  return { symbols, diagnostics: d.diagnostics.length };
}

test('a 10 MB Dockerfile is answered', async () => {
  const line = `RUN echo ${'x'.repeat(990)}\n`;
  const text = 'FROM alpine\n' + line.repeat(Math.ceil(10_000_000 / line.length));
  const r = await roundTrip('Huge.Dockerfile', text);
  assert.equal(r.symbols.length, 1);
  assert.equal(r.symbols[0]?.children?.length, Math.ceil(10_000_000 / line.length));
});

test('binary content and text that was not UTF-8 are answered with errors, not a crash', async () => {
  const bytes = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256));
  const r1 = await roundTrip('Binary.Dockerfile', bytes.toString('latin1'));
  assert.ok(r1.diagnostics > 0);
  // Latin-1 bytes decoded as UTF-8 give U+FFFD: still a Dockerfile to BuildKit and to us.
  const r2 = await roundTrip('Latin1.Dockerfile', Buffer.from('FROM alpine\nLABEL author="Jos\xe9"\nRUN echo caf\xe9\n', 'latin1').toString('utf8'));
  assert.equal(r2.symbols.length, 1);
});

test('CRLF and lone CR line endings keep lines and ranges right', async () => {
  const crlf = await roundTrip('Crlf.Dockerfile', 'FROM alpine AS a\r\nRUN echo 1 \\\r\n  && echo 2\r\nCOPY x /x\r\n');
  assert.deepEqual(crlf.symbols[0]?.children?.map((c) => c.range.start.line), [1, 3]);
  // BuildKit splits only on \n: a lone CR stays inside the line; the editor counts it as a break.
  const cr = await roundTrip('Cr.Dockerfile', 'FROM alpine\rRUN echo 1\n');
  assert.equal(cr.symbols.length, 1);
  assert.equal(client.process.exitCode, null);
});
