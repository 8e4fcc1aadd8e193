/**
 * Runs the performance benchmarks, prints a table for each and writes test-output/bench.json
 * (scripts/performance-doc.ts turns it into docs/performance.md).
 *
 *   npm run bench [-- --only checksum,warm,keystroke,memory,bundle,impact] [--files 10000,100000]
 *                 [--size 1GB] [--runs N] [--no-buildkit] [--keep] [--out FILE] [--tmp DIR]
 *
 * --files: context sizes of the checksum benchmark; the largest is the big context of warm,
 * keystroke and memory. --size: bytes of the largest context (smaller ones get the same bytes per
 * file); lowered, and said so, when the disk holding --tmp has no room. --runs overrides every
 * benchmark's own number of runs. Times are never asserted: the machine is shared and noisy.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { bundleBench } from './bundle';
import { checksumBench } from './checksum';
import { impactBench } from './impact';
import { freeBytes } from './lib/context';
import { machineInfo, table, type BenchFile, type BenchResult } from './lib/report';
import { Suite } from './lib/suite';
import { keystrokeBench } from './keystroke';
import { memoryBench } from './memory';
import { warmBench } from './warm';

const ALL = ['checksum', 'warm', 'keystroke', 'memory', 'bundle', 'impact'] as const;
type BenchId = (typeof ALL)[number];

function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(k|m|g)?b?$/i.exec(text.trim());
  if (m === null) throw new Error(`--size: not a size: ${text}`);
  const unit = { k: 1e3, m: 1e6, g: 1e9 }[(m[2] ?? '').toLowerCase() as 'k' | 'm' | 'g'] ?? 1;
  return Math.round(Number(m[1]) * unit);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      files: { type: 'string', default: '10000,100000' },
      size: { type: 'string', default: '1GB' },
      runs: { type: 'string' },
      'no-buildkit': { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      out: { type: 'string', default: path.join(__dirname, '..', 'test-output', 'bench.json') },
      tmp: { type: 'string', default: os.tmpdir() },
    },
  });
  const only = (values.only ?? ALL.join(',')).split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const o of only) if (!(ALL as readonly string[]).includes(o)) throw new Error(`--only: unknown benchmark ${o} (known: ${ALL.join(', ')})`);
  const files = values.files.split(',').map((s) => Number(s.trim())).filter((n) => Number.isInteger(n) && n > 0).sort((a, b) => a - b);
  if (files.length === 0) throw new Error('--files: give at least one number of files');
  let bytes = parseSize(values.size);
  const runs = values.runs === undefined ? undefined : Number(values.runs);
  const buildkit = !values['no-buildkit'];
  const contextNotes: string[] = [];

  // Room for the big context, BuildKit's copy of it and its COPY layer, plus 2 GB to spare.
  const free = freeBytes(values.tmp);
  const need = bytes * (buildkit ? 3 : 1) + 2e9;
  if (free < need) {
    const fit = Math.max(1e6, Math.floor((free - 2e9) / (buildkit ? 3 : 1)));
    contextNotes.push(`Only ${(free / 1e9).toFixed(1)} GB free in ${values.tmp}: the largest context was made ${(fit / 1e6).toFixed(0)} MB instead of ${(bytes / 1e6).toFixed(0)} MB.`);
    bytes = fit;
  }

  const suite = new Suite({ files, bytes, runs, buildkit, tmp: values.tmp, keep: values.keep });
  suite.log(`${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}; ${(free / 1e9).toFixed(0)} GB free in ${values.tmp}; page cache can${suite.canDropCaches ? '' : 'not'} be dropped`);
  const started = performance.now();
  const results: BenchResult[] = [];
  const out: BenchFile = { machine: machineInfo(), argv: process.argv.slice(2), contexts: [], results, notes: contextNotes, totalMs: 0 };
  const save = (): void => {
    out.contexts = suite.generated().map(({ files: f, dirs, bytes: b, small, medium, large, generationMs }) => ({ files: f, dirs, bytes: b, small, medium, large, generationMs }));
    out.totalMs = performance.now() - started;
    fs.mkdirSync(path.dirname(values.out), { recursive: true });
    fs.writeFileSync(values.out, JSON.stringify(out, null, 1) + '\n');
  };
  const report = (r: BenchResult): void => {
    results.push(r);
    console.log(`\n## ${r.title}\n`);
    for (const n of r.notes) console.log(`- ${n}`);
    console.log(`\n${table(r.rows)}\n`);
    for (const f of r.findings) console.log(`- ${f}`);
    console.log(`\n(${(r.durationMs / 1000).toFixed(0)} s)`);
    save();
  };
  const want = (id: BenchId): boolean => only.includes(id);
  try {
    if (want('checksum')) {
      for (const f of files) {
        report(await checksumBench(suite, f));
        // Keep only the big context on disk.
        if (f !== suite.bigFiles) suite.dropContext(f);
      }
    }
    if (want('warm')) report(await warmBench(suite));
    if (want('keystroke')) report(await keystrokeBench(suite));
    if (want('memory')) report(await memoryBench(suite));
    if (want('bundle')) report(await bundleBench(suite));
    if (want('impact')) report(await impactBench(suite));
  } finally {
    save();
    suite.cleanup();
  }
  console.log(`\nAll done in ${((performance.now() - started) / 1000).toFixed(0)} s; results in ${path.relative(process.cwd(), values.out)}.`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
