/**
 * Writes docs/performance.md from test-output/bench.json, the record of `npm run bench`
 * (bench/run.ts). Every number in the document comes from that run; the text around the numbers
 * says what the server does, and the "What to fix" section is made from the goals the run met or
 * missed and from its measures.
 *
 * Usage: node --import tsx scripts/performance-doc.ts [--in test-output/bench.json] [--out docs/performance.md]
 * (a lone positional argument is taken as --in, as before).
 *   --section impact --in test-output/bench-impact.json: replace only that benchmark's fenced
 *   section (from `npm run bench -- --only impact --out test-output/bench-impact.json`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { formatRatio, formatValue, table, type BenchFile, type BenchResult, type Row } from '../bench/lib/report';

const ROOT = path.join(__dirname, '..');

function load(file: string): BenchFile {
  const data: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (typeof data !== 'object' || data === null || !('machine' in data) || !('results' in data) || !Array.isArray(data.results)) {
    throw new Error(`${file}: not a bench.json written by bench/run.ts`);
  }
  return data as BenchFile;
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(0)} MB`;
}

/** The first row of a benchmark (by id prefix) whose measure starts with `measure` (indent ignored). */
function findRow(b: BenchFile, id: string, measure: string): { result: BenchResult; row: Row } | undefined {
  for (const result of b.results) {
    if (result.id !== id && !result.id.startsWith(`${id}-`)) continue;
    const row = result.rows.find((r) => r.measure.trim().startsWith(measure));
    if (row !== undefined) return { result, row };
  }
  return undefined;
}

/** The largest result by id prefix (checksum-N: the biggest context). */
function lastResult(b: BenchFile, id: string): BenchResult | undefined {
  return b.results.filter((r) => r.id === id || r.id.startsWith(`${id}-`)).pop();
}

function ratioOf(row: Row | undefined, of: string): number | undefined {
  return row?.ratios?.find((r) => r.of === of)?.value;
}

function x(v: number): string {
  return `${v >= 10 ? v.toFixed(0) : v >= 1 ? v.toFixed(2) : v.toFixed(3)}×`;
}

function value(row: Row): string {
  return formatValue(row.median, row.unit);
}

/** A goal of the run: a row's own (`< N unit`), or one worked out from a row's ratios. */
interface Goal {
  bench: BenchResult;
  row: Row;
  shown: string;
}

/**
 * The issue's checksum goals, from the ratios the checksum benchmark measured in this run: the
 * first scan within 1.5× of `find | xargs -P2 sha256sum`, and quicker than BuildKit's own
 * context transfer + COPY of the same context.
 */
function checksumGoals(b: BenchFile): Goal[] {
  const out: Goal[] = [];
  for (const r of b.results.filter((x) => x.id.startsWith('checksum'))) {
    for (const cache of ['page cache dropped', 'page cache warm']) {
      const ours = r.rows.find((row) => row.measure.startsWith(`ours: ContextHasher.snapshot(), empty stat cache, ${cache}`));
      const limit = ratioOf(ours, 'sha256sum');
      if (limit !== undefined) {
        out.push({ bench: r, shown: x(limit), row: { measure: `first scan, ${cache}: ours ÷ the sha256sum limit (find, xargs -P2)`, median: limit, unit: 'count', samples: [], goal: { text: '≤ 1.5×', met: limit <= 1.5 } } });
      }
      const bk = ratioOf(ours, 'BuildKit load + COPY (cold)');
      if (bk !== undefined) {
        out.push({ bench: r, shown: x(bk), row: { measure: `first scan, ${cache}: ours ÷ BuildKit's load build context + COPY`, median: bk, unit: 'count', samples: [], goal: { text: '< 1×', met: bk < 1 } } });
      }
    }
  }
  return out;
}

function anchor(title: string): string {
  return '#' + title.toLowerCase().replace(/[^a-z0-9 -]/g, '').trim().replace(/ /g, '-');
}

/**
 * One benchmark's section. A benchmark that can run alone (`--only impact`) is fenced by markers,
 * so that `--section ID` can replace it from its own run without regenerating the rest.
 */
function sectionOf(r: BenchResult, source: string): string[] {
  const lines = [`## ${r.title}`, ''];
  if (SEPARATE.includes(r.id)) lines.unshift(`<!-- bench:${r.id} from ${source.split(path.sep).join('/')} (${new Date().toISOString().slice(0, 10)}); scripts/performance-doc.ts --section ${r.id} -->`);
  for (const n of r.notes) lines.push(`- ${n}`);
  lines.push('', table(r.rows));
  if (r.findings.length > 0) {
    lines.push('');
    for (const f of r.findings) lines.push(`- ${f}`);
  }
  lines.push('', `(${(r.durationMs / 1000).toFixed(0)} s)`);
  if (SEPARATE.includes(r.id)) lines.push(`<!-- /bench:${r.id} -->`);
  return lines;
}

/** Benchmarks whose section may come from a run of their own. */
const SEPARATE = ['impact'];

/** `--section ID`: that benchmark's section from `input`, put in place of its fenced one (else before "What to fix"). */
function replaceSection(input: string, doc: string, id: string): void {
  const b = load(input);
  const r = b.results.find((x) => x.id === id);
  if (r === undefined) throw new Error(`${input} has no result of benchmark ${id}`);
  if (!SEPARATE.includes(id)) throw new Error(`--section: ${id} is not one of ${SEPARATE.join(', ')}`);
  const text = fs.readFileSync(doc, 'utf8');
  const fromRoot = path.relative(ROOT, path.resolve(input));
  const machine = `${b.machine.cores} cores, ${b.machine.cpuModel}, node ${b.machine.node}, ${b.machine.date.slice(0, 10)}`;
  const section = sectionOf(r, fromRoot).join('\n').replace(`## ${r.title}\n`, `## ${r.title}\n\n- From a run of its own (${machine}).`);
  const fence = new RegExp(`<!-- bench:${id} [^\\n]*-->[\\s\\S]*?<!-- /bench:${id} -->`);
  const next = fence.test(text) ? text.replace(fence, () => section)
    : text.includes('\n## What to fix') ? text.replace('\n## What to fix', () => `\n${section}\n\n## What to fix`) : `${text.trimEnd()}\n\n${section}\n`;
  fs.writeFileSync(doc, next);
  console.log(`wrote the ${id} section of ${path.relative(process.cwd(), doc)} from ${path.relative(process.cwd(), input)}`);
}

function main(): void {
  const { values, positionals } = parseArgs({
    options: {
      in: { type: 'string' },
      out: { type: 'string', default: path.join(ROOT, 'docs', 'performance.md') },
      section: { type: 'string' },
    },
    allowPositionals: true,
  });
  const input = values.in ?? positionals[0] ?? path.join(ROOT, 'test-output', 'bench.json');
  const doc = values.out;
  if (values.section !== undefined) {
    replaceSection(input, doc, values.section);
    return;
  }
  const b = load(input);
  const out: string[] = [];
  const w = (s = ''): void => { out.push(s); };
  const m = b.machine;
  w('# Performance: against the physical limit and BuildKit');
  w();
  const fromRoot = path.relative(ROOT, path.resolve(input));
  const source = fromRoot.startsWith('..') || path.isAbsolute(fromRoot) ? path.resolve(input) : fromRoot;
  w(`<!-- Generated by scripts/performance-doc.ts from ${source.split(path.sep).join('/')}. Do not edit by hand. -->`);
  w();
  w('`npm run bench` (bench/run.ts) generates build contexts with a realistic size mix, then measures, in one run:');
  w('1. **cold context checksum**: our `ContextHasher.snapshot()` against the physical limit (`find | xargs -0 -P2 sha256sum`), a minimal Node read+sha256 loop, and BuildKit itself (its `[internal] load build context` and `COPY` vertices);');
  w('2. **warm prediction after one file changes** in the big context, the way the language server does it after a file event (a patched snapshot), taken apart, with the full re-walk of a build alongside;');
  w('3. **keystroke**: re-prediction after a one-character edit, over the held snapshot;');
  w('4. **memory** of the language server with the big context loaded;');
  w('5. **bundle size and activation**;');
  w('6. **impact of a git change** (`dockerfile-cache-lens impact`) on the big context committed to git, against `git diff --stat` on the same revisions.');
  w();
  w('The machine is shared and noisy: the tables give medians, and ratios only between measures of the same run. Times are never asserted in tests; the warm benchmark does check that the patched prediction is right (it throws otherwise). The benchmarks call the server\'s own code (server/src) or run its bundle; bench/lib/phases.ts is a copy of `Predictor.run` split into timed parts, and the benchmarks say when its total drifts from the real one.');
  w();
  w('Run it: `npm run bench` (all), or a subset: `npm run bench -- --only checksum,warm,keystroke,memory,bundle --files 10000,100000 --size 1GB --runs N --no-buildkit --keep --out FILE`; then `node --import tsx scripts/performance-doc.ts [--in test-output/bench.json] [--out docs/performance.md]`.');
  w();
  w('## How it works');
  w();
  w('What the measured server does (server/src), so the tables below can be read:');
  w();
  w('- **Snapshots after a file event are patched** (cache/contextHash.ts, session.ts): the file watcher\'s paths go to `ContextHasher.invalidate()`, and `snapshot({ patch: true })` lstats and re-reads only those paths (a folder: its subtree); every other entry is shared with the last snapshot (cache/entryTable.ts: one flat map plus the differences, folded into a new map once they grow). A change to an ignore file, a path outside the context or too many paths at once make it walk instead.');
  w('- **A full walk for builds and as a check**: `prepareBuild` and a check once file events have been quiet for `VERIFY_DELAY_MS` (session.ts) call `snapshot()` without patch: every entry is lstat\'ed again, and only files that were invalidated or whose size, mtime, inode or mode changed are read (with no \`fstat\` after a file read whole in one call).');
  w('- **Walks are synchronous, in slices** (cache/contextHash.ts): the first scan and the full walks make synchronous system calls, depth first, for `SLICE_MS` at a time, then let the event loop answer what waits (a keystroke waits one slice at most; a large file is read chunk by chunk between slices). Small files are hashed with one-shot `crypto.hash`. The server runs with `SERVER_EXEC_ARGV` (shared/src/protocol.ts: `--optimize-for-size`), so the heap a first scan grows to is not kept.');
  w('- **Selections are remembered and carried over** (cache/sourceSelection.ts): `selectSources` keeps its results per snapshot; a snapshot made from the previous one by a few changes gets that one\'s index (sorted child lists per folder), folder digests and the selections that read no changed path, and recomputes only the changed entries\' ancestors and the selections that read them.');
  w('- **No file lists on the prediction path**: a selection holds its checksum, and lists its files only when read (to record a build or to explain a miss); planned steps carry the checksum. A recorded step keeps a few files inline (`INLINE_FILES`, cache/manifest.ts) and longer lists gzipped beside the manifest (`ManifestStore.listDir`), named by id, so the manifest stays small.');
  w('- **Manifests are parsed once**: `ManifestStore.load` and `knownKeys` parse a file again only when its size, mtime or inode changed; `knownKeys` answers with the same map while nothing changed, so the history is sorted once per map, and `predict()` indexes it once. Which files a miss changed is worked out against the recorded list once per selection and then updated at the paths a patch changed, so explaining `COPY . .` after a save costs the save.');
  w('- **Rules see the same path set for the same snapshot** (cache/entryTable.ts `pathsOf`, rules/model.ts): a view of the snapshot\'s entries, not a copy, and the folders, folder listings and whole-context scans rules need are worked out once per snapshot.');
  w();
  w('## Run');
  w();
  w(`- Date: ${m.date}; duration ${(b.totalMs / 1000).toFixed(0)} s; arguments: \`${b.argv.join(' ') || '(defaults)'}\`.`);
  w(`- Machine: ${m.cores} cores (${m.cpuModel}), ${(m.memoryMB / 1024).toFixed(1)} GiB memory; Node ${m.node}; ${m.platform}, kernel ${m.kernel}.`);
  for (const n of b.notes) w(`- ${n}`);
  if (b.contexts.length > 0) {
    w();
    w('| context | folders | size | small files (64 B–12 kB) | medium (16–170 kB) | large (1–6 MB) | generated in |');
    w('|---:|---:|---:|---:|---:|---:|---:|');
    for (const c of b.contexts) {
      w(`| ${c.files.toLocaleString('en-US')} files | ${c.dirs.toLocaleString('en-US')} | ${mb(c.bytes)} | ${c.small.toLocaleString('en-US')} | ${c.medium.toLocaleString('en-US')} | ${c.large.toLocaleString('en-US')} | ${(c.generationMs / 1000).toFixed(1)} s |`);
    }
  }
  w();
  w('## Goals');
  w();
  const goals: Goal[] = [];
  for (const r of b.results) for (const row of r.rows) if (row.goal !== undefined) goals.push({ bench: r, row, shown: value(row) });
  goals.push(...checksumGoals(b));
  if (goals.length === 0) {
    w('No benchmark with a goal ran.');
  } else {
    w('| benchmark | measure | median | goal | |');
    w('|---|---|---:|---|---|');
    for (const g of goals) w(`| ${g.bench.title} | ${g.row.measure.trim()} | ${g.shown} | ${g.row.goal?.text ?? ''} | ${g.row.goal?.met === true ? '✅ met' : '❌ not met'} |`);
  }
  const ran = new Set(b.results.map((r) => r.id.replace(/-\d+$/, '')));
  const missing = ['checksum', 'warm', 'keystroke', 'memory', 'bundle'].filter((id) => !ran.has(id));
  if (missing.length > 0) {
    w();
    w(`Not run this time: ${missing.join(', ')}.`);
  }
  for (const r of b.results) {
    w();
    for (const line of sectionOf(r, source)) w(line);
  }
  w();
  w('## What to fix');
  w();
  writeFixes(b, goals, w);
  w();
  fs.mkdirSync(path.dirname(doc), { recursive: true });
  fs.writeFileSync(doc, out.join('\n'));
  console.log(`wrote ${path.relative(process.cwd(), doc)} from ${path.relative(process.cwd(), input)}: ${b.results.length} benchmark(s), ${goals.filter((g) => g.row.goal?.met === true).length} of ${goals.length} goals met`);
}

/** The goals met and missed, where the time of a missed one goes, and what is left to do. */
function writeFixes(b: BenchFile, goals: Goal[], w: (s?: string) => void): void {
  const met = goals.filter((g) => g.row.goal?.met === true);
  const unmet = goals.filter((g) => g.row.goal?.met !== true);
  if (goals.length === 0) {
    w('No benchmark with a goal ran, so this run says nothing about what to fix.');
  } else if (unmet.length === 0) {
    w(`All ${goals.length} goals of this run are met.`);
  } else {
    w(`${met.length} of ${goals.length} goals of this run are met.`);
  }
  for (const g of met) w(`- ✅ ${g.row.measure.trim()}: ${g.shown} (goal ${g.row.goal?.text ?? ''}; [${g.bench.title}](${anchor(g.bench.title)})).`);
  for (const g of unmet) {
    // The benchmark's own finding naming the largest parts, when it has one.
    const parts = g.bench.findings.find((f) => /largest parts/i.test(f) && (g.bench.id !== 'keystroke' || f.startsWith(`${/^(\d+)-line/.exec(g.row.measure.trim())?.[1] ?? ''} lines`)));
    const where = parts === undefined ? '' : ` ${parts.replace(/^.*?(largest parts)/i, (_, p: string) => p.charAt(0).toUpperCase() + p.slice(1))}`;
    w(`- ❌ ${g.row.measure.trim()}: ${g.shown} (goal ${g.row.goal?.text ?? ''}; [${g.bench.title}](${anchor(g.bench.title)})).${where}`);
  }
  w();
  w('Still to do, with what this run measured:');
  w();

  // F: what is left of it: reads one at a time on the server's thread.
  const f: string[] = [];
  const checksum = lastResult(b, 'checksum');
  if (checksum !== undefined) {
    const coldOurs = checksum.rows.find((r) => r.measure.startsWith('ours: ContextHasher.snapshot(), empty stat cache, page cache dropped'));
    const coldLimit = ratioOf(coldOurs, 'sha256sum');
    if (coldOurs !== undefined && coldLimit !== undefined) f.push(`in ${checksum.title.replace(/^Cold context checksum: /, 'the ')} context, page cache dropped, the first scan took ${value(coldOurs)}, ${x(coldLimit)} \`find | xargs -P2 sha256sum\``);
  }
  const full = findRow(b, 'warm', 'full re-walk');
  const fullSync = ratioOf(full?.row, 'sync Node walk');
  if (full !== undefined && fullSync !== undefined) f.push(`a full re-walk of the warm benchmark\'s context took ${value(full.row)}, ${x(fullSync)} a bare synchronous Node walk`);
  w(`- **F. Reads in parallel, off the server's thread** (cache/contextHash.ts): the walk makes synchronous calls in slices on the server's thread, one at a time, so a cold disk serves one read at a time where \`sha256sum -P2\` keeps two in flight${f.length === 0 ? '' : ` (${f.join('; ')})`}. A \`worker_threads\` pool doing the same synchronous calls would read in parallel and leave the server's thread entirely free.`);

  // Memory, when its goal is missed.
  const memGoals = goals.filter((g) => g.bench.id === 'memory');
  if (memGoals.some((g) => g.row.goal?.met !== true)) {
    const snap = findRow(b, 'memory', 'in-process: context snapshot');
    const idx = findRow(b, 'memory', 'in-process: selection index');
    const pred = findRow(b, 'memory', 'in-process: a predictor');
    const measured = [snap, idx, pred].filter((r) => r !== undefined).map((r) => `${r.row.measure.replace(/^in-process: /, '').replace(/ \(.*$/, '')} ${value(r.row)}`);
    w(`- **Memory** (cache/contextHash.ts, types.ts), goal missed: every context entry is its own object holding its path, type, mode, size, a 64-character hex hash and the stat fields the next walk reuses${measured.length === 0 ? '' : ` (in this run, in-process: ${measured.join('; ')})`}. Keep hashes as 32-byte buffers, or entries in a few shared typed arrays with one string table, rather than an object and a hex string per file.`);
  }

  // Read buffers the hasher keeps between walks.
  const pool = findRow(b, 'memory', 'in-process: external (Buffer) memory held');
  if (pool !== undefined && (pool.row.median ?? 0) >= 1) {
    w(`- **Read buffers kept between walks** (cache/contextHash.ts): after a snapshot the hasher keeps the read buffers it used (up to \`MAX_POOLED_BUFFERS\` of \`READ_CHUNK\` bytes, one hasher per context and Dockerfile), ${value(pool.row)} in this run, although full walks now come only with builds and the check after file events. Release them after a snapshot, or keep one or two.`);
  }

  // The warm path, when its goal is missed: name the part that dominates.
  const warmTotal = findRow(b, 'warm', 'one file changed');
  if (warmTotal !== undefined && warmTotal.row.goal?.met !== true) {
    const sum = warmTotal.result.rows.find((r) => r.measure.startsWith('Predictor.run taken apart'));
    const parts = warmTotal.result.rows.filter((r) => r.measure.startsWith('  ') && r.unit === 'ms' && warmTotal.result.rows.indexOf(r) > (sum === undefined ? Infinity : warmTotal.result.rows.indexOf(sum)));
    const top = [...parts].sort((p, q) => (q.median ?? 0) - (p.median ?? 0))[0];
    if (top !== undefined) {
      const advice = top.measure.trim().startsWith('predict')
        ? ' A miss of a big selection (`COPY . .`) is explained on every change: predict.ts lists the current selection anew and compares it with the recorded list, remembered per (recorded list, current checksum), and every change makes a new checksum. Explaining lazily (when a hover or lens asks for the reason) or from the paths the patch already knows changed would take this off the file-event path.'
        : '';
      w(`- **After a file event** (goal ${warmTotal.row.goal?.text ?? ''} missed, ${value(warmTotal.row)}): the largest part of Predictor.run taken apart is ${top.measure.trim()}, ${value(top)}${top.ratios === undefined ? '' : ` (${formatRatio(top.ratios)})`}.${advice}`);
    }
  }
}

main();
