/**
 * Benchmark 6, impact on a big repository: the big generated context committed to git (two
 * commits: a few sources changed, a lock file changed, a file added), then
 * `dockerfile-cache-lens impact` (the bundled CLI, as CI runs it) against `git diff --stat` on the
 * same revisions, taking turns. Two modes: two commits (every blob of the context is read once,
 * the blobs both commits share are not read again), and the working tree against a commit (the
 * ContextHasher's walk; only the changed paths are read from git).
 *
 *   npm run bench -- --only impact --out test-output/bench-impact.json
 */
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runImpact } from '../server/src/impact/runImpact';
import { ratio, row, type BenchResult, type Row } from './lib/report';
import { ROOT } from './lib/server';
import type { Suite } from './lib/suite';

const CLI = path.join(ROOT, 'dist', 'cli.js');
const GIT_ENV = {
  ...process.env, GIT_AUTHOR_NAME: 'bench', GIT_AUTHOR_EMAIL: 'bench@example.invalid', GIT_COMMITTER_NAME: 'bench', GIT_COMMITTER_EMAIL: 'bench@example.invalid',
  GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', DOCKER_HOST: 'unix:///nonexistent.sock',
};

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: GIT_ENV, encoding: 'utf8', maxBuffer: 256 << 20 }).trim();
}

/** Wall time of a command, in ms; it must succeed. */
function timed(cwd: string, cmd: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    execFile(cmd, args, { cwd, env: GIT_ENV, maxBuffer: 256 << 20 }, (error, _stdout, stderr) => {
      if (error !== null) reject(new Error(`${cmd} ${args.join(' ')}: ${error.message}\n${stderr}`));
      else resolve(performance.now() - t);
    });
  });
}

const DOCKERFILE = 'FROM node:20\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci\nCOPY . .\nRUN npm run build\n';

export async function impactBench(suite: Suite): Promise<BenchResult> {
  const started = performance.now();
  const runs = suite.runs(3);
  const ctx = suite.context(suite.bigFiles);
  const notes: string[] = [];
  const findings: string[] = [];
  const rows: Row[] = [];
  const dir = ctx.dir;
  fs.writeFileSync(path.join(dir, 'Dockerfile'), DOCKERFILE);
  fs.writeFileSync(path.join(dir, 'package.json'), '{"name":"bench"}\n');
  fs.writeFileSync(path.join(dir, 'package-lock.json'), '{"lockfileVersion":3}\n');
  fs.writeFileSync(path.join(dir, '.dockerignore'), '.git\n');
  suite.log(`impact: committing ${ctx.files} files to git…`);
  const t0 = performance.now();
  git(dir, 'init', '-q', '-b', 'main');
  // Level-1 compression: the commit is set-up, not what is measured.
  git(dir, '-c', 'core.looseCompression=1', 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'base');
  const base = git(dir, 'rev-parse', 'HEAD');
  const changed = [ctx.sample, ctx.wholeOnly, 'package-lock.json'];
  for (const rel of changed) fs.appendFileSync(path.join(dir, rel), '\n// changed\n');
  fs.writeFileSync(path.join(dir, 'packages', 'added.ts'), 'export {};\n');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'head');
  const head = git(dir, 'rev-parse', 'HEAD');
  // Packed, as a clone is (loose objects cost a file open each); no delta search: set-up time.
  git(dir, '-c', 'pack.compression=1', 'repack', '-adq', '--window=0');
  // One more change left in the working tree.
  fs.appendFileSync(path.join(dir, ctx.sample), '\n// uncommitted\n');
  notes.push(`${ctx.files.toLocaleString('en-US')} files, ${(ctx.bytes / 1e6).toFixed(0)} MB, committed and packed in ${((performance.now() - t0) / 1000).toFixed(0)} s (set-up, not measured); the head commit changes ${changed.length} files and adds 1; the working tree changes 1 more.`);

  // What is shared, counted in-process once: blobs read for two commits vs the files of one.
  const counted = await runImpact({
    context: dir, dockerfile: path.join(dir, 'Dockerfile'), base, head, history: [], mergeOps: false,
    configs: [{ name: 'default', target: undefined, buildArgs: {}, platform: undefined }],
  });
  const againstTree = await runImpact({
    context: dir, dockerfile: path.join(dir, 'Dockerfile'), base, head: undefined, history: [], mergeOps: false,
    configs: [{ name: 'default', target: undefined, buildArgs: {}, platform: undefined }],
  });
  const reruns = counted.report.configurations[0]?.steps.map((s) => s.vertex).join(', ') ?? '';
  notes.push(`Two commits: ${counted.blobsRead.toLocaleString('en-US')} blobs read from git for both sides (the context holds ${ctx.files.toLocaleString('en-US')} files: unchanged blobs are read once); against the working tree: ${againstTree.blobsRead} blob(s) read from git. Steps that rerun: ${reruns}.`);

  const modes: Array<{ label: string; ours: string[]; baseline: string[] }> = [
    { label: 'two commits', ours: ['impact', '--base', base, '--head', head, '--json'], baseline: ['diff', '--stat', base, head] },
    { label: 'working tree', ours: ['impact', '--base', base, '--json'], baseline: ['diff', '--stat', base] },
  ];
  for (const m of modes) {
    const ours: number[] = [];
    const baseline: number[] = [];
    await timed(dir, 'git', m.baseline); // warm-up: objects and index in the page cache
    await timed(dir, process.execPath, [CLI, ...m.ours]);
    for (let i = 0; i < runs; i++) {
      baseline.push(await timed(dir, 'git', m.baseline));
      ours.push(await timed(dir, process.execPath, [CLI, ...m.ours]));
    }
    const b = row(`${m.label}: \`git diff --stat\``, baseline, 'ms');
    const o = row(`${m.label}: \`dockerfile-cache-lens impact\``, ours, 'ms');
    ratio(o, b, 'git diff --stat');
    rows.push(b, o);
  }
  notes.push(`Medians of ${runs} runs each, page cache warm, taking turns; the CLI's times include starting Node and probing Docker (none here: DOCKER_HOST points nowhere).`);
  findings.push('git diff --stat reads only the changed blobs; impact must hash every file a COPY selects on both sides (BuildKit keys on content), so its floor is one read of the context: the ratio is that read, not overhead per change.');
  return { id: 'impact', title: 'Impact of a git change on a 100k-file repository', notes, rows, findings, durationMs: performance.now() - started };
}
