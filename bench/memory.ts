/**
 * Benchmark 4, memory: the language server (dist/server.js, rebuilt first) as a child process,
 * driven over LSP by test/helpers/lspClient.ts's TestClient: a 200-line Dockerfile opened in the
 * big context, lenses asked until they stop saying "hashing…" (the server sends
 * workspace/codeLens/refresh when the first scan is done), then VmRSS / VmHWM from /proc.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CodeLensRequest, type CodeLens } from 'vscode-languageserver-protocol/node';
import { TestClient } from '../test/helpers/lspClient';
import { ContextHasher, selectSources } from '../server/src/cache/contextHash';
import { keystroke, makeDockerfile } from './lib/dockerfiles';
import { ratio, row, type BenchResult, type Row } from './lib/report';
import { bundleDev, memoryOf } from './lib/server';
import { predictorWithHistory, type Suite } from './lib/suite';

const GOAL_MB = 150;
const TIMEOUT_MS = 10 * 60_000;

/** A lens's title; also when the command was put in `data` (CodeLens.create's 2nd argument is data). */
export function lensTitle(l: CodeLens): string {
  if (l.command !== undefined) return l.command.title;
  const d: unknown = l.data;
  return typeof d === 'object' && d !== null && 'title' in d && typeof d.title === 'string' ? d.title : '';
}

async function lensesReady(client: TestClient, uri: string): Promise<CodeLens[]> {
  const deadline = Date.now() + TIMEOUT_MS;
  for (;;) {
    const refreshed = client.nextLensRefresh();
    const lenses = (await client.connection.sendRequest(CodeLensRequest.type, { textDocument: { uri } })) ?? [];
    if (lenses.length > 0 && !lenses.some((l) => lensTitle(l).includes('hashing'))) return lenses;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), Math.max(0, deadline - Date.now())); });
    // The refresh can come before the request that would have shown "hashing" answers: poll too.
    const poll = new Promise<'poll'>((resolve) => setTimeout(() => resolve('poll'), 1000));
    const r = await Promise.race([refreshed.then(() => 'refresh' as const), timeout, poll]);
    clearTimeout(timer);
    if (r === 'timeout') throw new Error(`lenses still hashing after ${TIMEOUT_MS / 1000} s`);
  }
}

/** Heap and external (Buffer) memory of this process after full collections, in MB; undefined without --expose-gc. */
function heapMB(): { heap: number; external: number; total: number } | undefined {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return undefined;
  gc();
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed / 1e6, external: m.external / 1e6, total: (m.heapUsed + m.external) / 1e6 };
}

/**
 * Where the memory goes, measured in this process (after full collections) on the same data
 * structures the server keeps: a context snapshot (and what its hasher holds on to), its selection
 * index, and a predictor with one prediction over that snapshot.
 */
async function attribution(suite: Suite, text: string): Promise<Row[]> {
  const ctx = suite.context(suite.bigFiles);
  const h0 = heapMB();
  if (h0 === undefined) return [];
  const hasher = new ContextHasher(ctx.dir, { dockerfile: path.join(ctx.dir, 'Dockerfile') });
  const snapshot = await hasher.snapshot();
  const h1 = heapMB() ?? h0;
  selectSources(snapshot, ['package.json']);
  const h2 = heapMB() ?? h0;
  // The predictor's first run (recorded as the build) and the measured run share the snapshot.
  const { predictor, config } = await predictorWithHistory(suite, ctx, text, 'Dockerfile.mem', snapshot);
  const run = await predictor.run(config, keystroke(text, 1), { snapshot });
  const h3 = heapMB() ?? h0;
  const rows = [
    row('in-process: context snapshot, JS heap (ContextHasher; each entry keeps the stat fields the next walk reuses)', [h1.heap - h0.heap], 'MB', { note: `${snapshot.entries.size.toLocaleString('en-US')} entries` }),
    row('in-process: external (Buffer) memory held after that snapshot (the hasher keeps its read buffers for the next walk)', [h1.external - h0.external], 'MB'),
    row('in-process: selection index of the snapshot (sorted child lists; made by the first selectSources)', [h2.total - h1.total], 'MB'),
    row('in-process: a predictor and its manifest store (one recorded build) + one PredictionRun over that snapshot (plan, selections without file lists, prediction)', [h3.total - h2.total], 'MB', { note: `${run.plan.steps.length} steps` }),
  ];
  // Keep everything alive until measured.
  if (hasher.stats.statCalls < 0 || run.snapshot.entries.size < 0) rows.pop();
  return rows;
}

export async function memoryBench(suite: Suite): Promise<BenchResult> {
  const started = performance.now();
  const ctx = suite.context(suite.bigFiles);
  const notes: string[] = [];
  suite.log('memory: bundling dist/ (node scripts/bundle.mjs)');
  await bundleDev();
  let env: NodeJS.ProcessEnv = process.env;
  if (suite.options.buildkit) {
    const e = await suite.engineEnv();
    if ('env' in e) env = e.env;
    else notes.push(`Without the test engine (${e.error}): Docker probe fails, images unknown.`);
  }
  const manifests = suite.temp('lsp-manifests-');
  const text = makeDockerfile(200, 4, ctx.packages);
  const file = path.join(ctx.dir, 'Dockerfile');
  fs.writeFileSync(file, text);
  const uri = pathToFileURL(file).toString();
  const client = new TestClient(env);
  const pid = client.process.pid;
  if (pid === undefined) throw new Error('the server did not start');
  const rows: Row[] = [];
  const findings: string[] = [];
  try {
    client.settings.set('*', { manifestDirectory: manifests });
    await client.initialize();
    await new Promise((resolve) => setTimeout(resolve, 1000)); // the Docker probe, settled
    const idle = memoryOf(pid);
    suite.log(`memory: opening a Dockerfile in the ${ctx.files}-file context`);
    const t = performance.now();
    await client.open(uri, text, 1);
    const lenses = await lensesReady(client, uri);
    const firstMs = performance.now() - t;
    const loaded = memoryOf(pid);
    // A few keystrokes, then measure again (what stays resident while editing). Each is timed
    // from didChange to the lenses of the new text: prediction, rules and the LSP round trip.
    const keyMs: number[] = [];
    for (let i = 1; i <= 20; i++) {
      const k = performance.now();
      await client.replace(uri, keystroke(text, i), i + 1);
      await client.connection.sendRequest(CodeLensRequest.type, { textDocument: { uri } });
      keyMs.push(performance.now() - k);
    }
    const edited = memoryOf(pid);
    const idleRow = row('server RSS after initialize (idle)', [idle.rss], 'MB');
    const loadedRow = row(`server RSS with the ${ctx.files.toLocaleString('en-US')}-file context loaded`, [loaded.rss], 'MB', { goalBelow: GOAL_MB });
    const editedRow = row('server RSS after 20 more keystrokes', [edited.rss], 'MB', { goalBelow: GOAL_MB });
    const keyRow = row('server: one keystroke, didChange → code lenses of the new text answered (prediction, rules, LSP round trip; 200-line Dockerfile)', keyMs.slice(5), 'ms', { note: `median of ${keyMs.length - 5} after 5 warm-up` });
    const peakRow = row('server peak RSS (VmHWM)', [edited.peak], 'MB');
    ratio(loadedRow, idleRow, 'idle');
    ratio(peakRow, loadedRow, 'loaded');
    const firstRow = row('time from didOpen to the first real lenses (cold scan in the server)', [firstMs], 'ms', { note: `${lenses.length} lenses` });
    const noCommand = lenses.filter((l) => l.command === undefined).length;
    if (noCommand > 0) findings.push(`${noCommand} of ${lenses.length} lenses have no \`command\` (their title is in \`data\`): CodeLens.create(range, data) takes data, not a Command, so VS Code cannot show them.`);
    rows.push(idleRow, loadedRow, editedRow, peakRow, firstRow, keyRow);
    const parts = await attribution(suite, text);
    rows.push(...parts);
    if (parts.length > 0) notes.push('The in-process rows are differences in this benchmark process\'s heap and external memory after full collections, before and after making each structure (not RSS): where the server\'s memory goes, not a second measure of it.');
    else notes.push('In-process rows left out: run with node --expose-gc (npm run bench does).');
    findings.push(`Resident memory with the context loaded: ${loaded.rss.toFixed(0)} MB (goal < ${GOAL_MB} MB: ${loaded.rss < GOAL_MB ? 'met' : 'not met'}); peak ${edited.peak.toFixed(0)} MB.`);
    notes.push(`One server process, one sample each (memory is not noisy the way time is); the context has ${ctx.files.toLocaleString('en-US')} files, ${(ctx.bytes / 1e6).toFixed(0)} MB.`);
  } finally {
    await client.shutdown().catch(() => { client.process.kill('SIGKILL'); });
  }
  return { id: 'memory', title: 'Language server memory with the big context loaded', notes, rows, findings, durationMs: performance.now() - started };
}
