/**
 * Benchmark 1, cold context checksum: our `ContextHasher.snapshot()` with an empty stat cache
 * against, in the same run, the physical limit (`find | xargs -0 -P2 sha256sum`), a minimal Node
 * read+sha256 loop, and BuildKit itself (`[internal] load build context` and the COPY vertex of
 * `FROM alpine` + `COPY . /dcl-bench-ctx`, cold and after a one-file change).
 * "Page cache dropped" runs follow `sync; echo 3 > /proc/sys/vm/drop_caches`.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { ContextHasher } from '../server/src/cache/contextHash';
import { cacheRecords, ownRecords, pruneRecords, timedBuild, writeBuildDockerfile, type BuildTiming } from './lib/buildkit';
import { dropCaches, type GeneratedContext } from './lib/context';
import { ratio, row, type BenchResult, type Row } from './lib/report';
import type { Suite } from './lib/suite';

const exec = promisify(execFile);

/** The physical limit: every regular file read and hashed by coreutils, two processes. */
async function sha256sum(dir: string): Promise<void> {
  await exec('bash', ['-c', 'find . -type f -print0 | xargs -0 -P2 -n 1000 sha256sum > /dev/null'], { cwd: dir, maxBuffer: 1 << 20 });
}

/** The least a Node program can do: walk, read every file whole, sha256 it; 16 reads in flight. */
async function nodeLoop(dir: string): Promise<number> {
  const files: string[] = [];
  const dirs = [dir];
  for (let d = dirs.pop(); d !== undefined; d = dirs.pop()) {
    for (const e of await fsp.readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) dirs.push(p);
      else if (e.isFile()) files.push(p);
    }
  }
  let next = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    for (let i = next++; i < files.length; i = next++) {
      createHash('sha256').update(await fsp.readFile(files[i] ?? '')).digest('hex');
    }
  }));
  return files.length;
}

const SYNC_BUFFER = Buffer.allocUnsafe(1 << 20);

/**
 * The same system calls as ours (lstat, open, read, close; no fstat) made synchronously: what a
 * worker thread doing blocking I/O could reach. Walks with readdirSync.
 */
function nodeSyncLoop(dir: string): number {
  let n = 0;
  const dirs = [dir];
  for (let d = dirs.pop(); d !== undefined; d = dirs.pop()) {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const st = fs.lstatSync(p);
      if (st.isDirectory()) {
        dirs.push(p);
        continue;
      }
      if (!st.isFile()) continue;
      const h = createHash('sha256');
      const fd = fs.openSync(p, 'r');
      try {
        for (let want = Math.min(st.size + 1, SYNC_BUFFER.length); ;) {
          const got = fs.readSync(fd, SYNC_BUFFER, 0, want, null);
          if (got === 0) break;
          h.update(SYNC_BUFFER.subarray(0, got));
          if (got < want) break;
          want = SYNC_BUFFER.length;
        }
      } finally {
        fs.closeSync(fd);
      }
      h.digest('hex');
      n++;
    }
  }
  return n;
}

async function ours(ctx: GeneratedContext): Promise<{ hashed: number; stats: number }> {
  const h = new ContextHasher(ctx.dir, { dockerfile: path.join(ctx.dir, 'Dockerfile') });
  await h.snapshot();
  return { hashed: h.stats.hashedFiles, stats: h.stats.statCalls };
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

export async function checksumBench(suite: Suite, files: number): Promise<BenchResult> {
  const started = performance.now();
  const ctx = suite.context(files);
  const runs = suite.runs(files >= 50_000 ? 3 : 5);
  const notes: string[] = [
    `Context: ${ctx.files.toLocaleString('en-US')} files in ${ctx.dirs.toLocaleString('en-US')} folders, ${(ctx.bytes / 1e6).toFixed(0)} MB (${ctx.small} small 64 B–12 kB, ${ctx.medium} medium 16–170 kB, ${ctx.large} large 1–6 MB), generated in ${(ctx.generationMs / 1000).toFixed(1)} s.`,
    `Median of ${runs} runs per measure; the tools take turns within a run.`,
  ];
  const findings: string[] = [];
  const canDrop = suite.canDropCaches;
  if (!canDrop) notes.push('The page cache could not be dropped here (not root, or /proc/sys read-only): every run is page cache warm.');

  const modes: Array<'dropped' | 'warm'> = canDrop ? ['dropped', 'warm'] : ['warm'];
  const rows: Row[] = [];
  let oursHashed = -1;
  let oursStats = -1;
  const oursRows: Partial<Record<'dropped' | 'warm', Row>> = {};
  for (const mode of modes) {
    const t = { sha: [] as number[], node: [] as number[], sync: [] as number[], ours: [] as number[] };
    if (mode === 'warm') await sha256sum(ctx.dir); // fill the page cache
    for (let r = 0; r < runs; r++) {
      const tools = ['sha', 'node', 'sync', 'ours'] as const;
      const order = tools.map((_, i) => tools[(i + r) % tools.length] ?? 'sha');
      for (const tool of order) {
        if (mode === 'dropped') dropCaches();
        suite.log(`checksum ${files}: ${tool}, page cache ${mode}, run ${r + 1}/${runs}`);
        if (tool === 'sha') t.sha.push(await timed(() => sha256sum(ctx.dir)));
        else if (tool === 'node') t.node.push(await timed(() => nodeLoop(ctx.dir)));
        else if (tool === 'sync') t.sync.push(await timed(() => Promise.resolve(nodeSyncLoop(ctx.dir))));
        else {
          t.ours.push(await timed(async () => {
            const o = await ours(ctx);
            oursHashed = o.hashed;
            oursStats = o.stats;
          }));
        }
      }
    }
    const label = mode === 'dropped' ? 'page cache dropped' : 'page cache warm';
    const sha = row(`limit: find | xargs -P2 sha256sum, ${label}`, t.sha, 'ms');
    const node = row(`Node read+sha256 loop, ${label}`, t.node, 'ms');
    const sync = row(`Node, synchronous lstat+open+read+close+sha256 (the bare system calls), ${label}`, t.sync, 'ms');
    const our = row(`ours: ContextHasher.snapshot(), empty stat cache, ${label}`, t.ours, 'ms', { note: `${oursHashed} files hashed, ${oursStats} stat calls` });
    ratio(node, sha, 'sha256sum');
    ratio(sync, sha, 'sha256sum');
    ratio(our, sha, 'sha256sum');
    ratio(our, node, 'Node loop');
    ratio(our, sync, 'synchronous Node');
    rows.push(sha, node, sync, our);
    oursRows[mode] = our;
  }

  // One file changed, stat cache warm: a full re-walk (what a build's snapshot costs; after a file
  // event the server patches the snapshot instead, see bench/warm.ts), compared with BuildKit's.
  const hasher = new ContextHasher(ctx.dir, { dockerfile: path.join(ctx.dir, 'Dockerfile') });
  await hasher.snapshot();
  const change: number[] = [];
  let changeHashed = -1;
  for (let r = 0; r < Math.max(runs, 5); r++) {
    fs.appendFileSync(path.join(ctx.dir, ctx.sample), `// change ${r}\n`);
    hasher.invalidate([ctx.sample]);
    change.push(await timed(() => hasher.snapshot()));
    changeHashed = hasher.stats.hashedFiles;
  }
  const ourChange = row('ours: one file changed, stat cache warm (invalidate + full snapshot(), as for a build)', change, 'ms', { note: `${changeHashed} file re-read` });
  rows.push(ourChange);

  if (!suite.options.buildkit) {
    notes.push('BuildKit was left out (--no-buildkit).');
  } else {
    const engine = await suite.engineEnv();
    if ('error' in engine) {
      notes.push(`BuildKit left out: the test engine did not start (${engine.error}).`);
    } else {
      const bk = await buildkitRuns(suite, ctx, engine.env, suite.runs(files >= 50_000 ? 1 : 3));
      notes.push(...bk.notes);
      const sent = (bs: BuildTiming[]): { note: string } | Record<string, never> => {
        const xs = bs.map((b) => b.transferredBytes).filter((x): x is number => x !== undefined);
        return xs.length === 0 ? {} : { note: `transferring context: ${(Math.max(...xs) / 1e6).toFixed(1)} MB` };
      };
      const coldLoad = row('BuildKit cold: [internal] load build context', bk.cold.map((b) => b.loadContextMs ?? NaN).filter(Number.isFinite), 'ms', sent(bk.cold));
      const coldCopy = row('BuildKit cold: COPY . (checksum + copy)', bk.cold.map((b) => b.copyMs ?? NaN).filter(Number.isFinite), 'ms');
      const coldBoth = row('BuildKit cold: load build context + COPY', bk.cold.map((b) => (b.loadContextMs ?? NaN) + (b.copyMs ?? NaN)).filter(Number.isFinite), 'ms');
      const coldWall = row('BuildKit cold: whole `docker buildx build`', bk.cold.map((b) => b.wallMs), 'ms');
      const chLoad = row('BuildKit one file changed: [internal] load build context', bk.change.map((b) => b.loadContextMs ?? NaN).filter(Number.isFinite), 'ms', sent(bk.change));
      const chCopy = row('BuildKit one file changed: COPY . (checksum + copy)', bk.change.map((b) => b.copyMs ?? NaN).filter(Number.isFinite), 'ms');
      const chWall = row('BuildKit one file changed: whole `docker buildx build`', bk.change.map((b) => b.wallMs), 'ms');
      rows.push(coldLoad, coldCopy, coldBoth, coldWall, chLoad, chCopy, chWall);
      const coldOurs = oursRows.dropped ?? oursRows.warm;
      if (coldOurs !== undefined) {
        ratio(coldOurs, coldLoad, 'BuildKit load context (cold)');
        ratio(coldOurs, coldBoth, 'BuildKit load + COPY (cold)');
      }
      ratio(ourChange, chLoad, 'BuildKit load context (one change)');
      const failed = [...bk.cold, ...bk.change].filter((b) => !b.ok);
      if (failed.length > 0) notes.push(`${failed.length} BuildKit build(s) failed: ${failed[0]?.error?.slice(0, 200) ?? ''}`);
    }
  }

  const dropped = oursRows.dropped;
  const warm = oursRows.warm;
  const limitRatio = (r: Row | undefined): number | undefined => r?.ratios?.find((x) => x.of === 'sha256sum')?.value;
  const rd = limitRatio(dropped);
  const rw = limitRatio(warm);
  if (rd !== undefined) findings.push(`Cold (page cache dropped), ours takes ${rd.toFixed(2)}× the coreutils limit.`);
  if (rw !== undefined) findings.push(`Page cache warm, ours takes ${rw.toFixed(2)}× the coreutils limit.`);
  const rs = (r: Row | undefined): number | undefined => r?.ratios?.find((x) => x.of === 'synchronous Node')?.value;
  const sw = rs(warm);
  if (sw !== undefined) findings.push(`Page cache warm, ours takes ${sw.toFixed(2)}× the same system calls made synchronously with nothing else (ours also matches .dockerignore, makes an entry per path and pauses between slices).`);
  return { id: `checksum-${files}`, title: `Cold context checksum: ${files.toLocaleString('en-US')} files, ${(ctx.bytes / 1e6).toFixed(0)} MB`, notes, rows, findings, durationMs: performance.now() - started };
}

async function buildkitRuns(suite: Suite, ctx: GeneratedContext, env: NodeJS.ProcessEnv, runs: number): Promise<{ cold: BuildTiming[]; change: BuildTiming[]; notes: string[] }> {
  const before = new Set((await cacheRecords(env)).map((r) => r.id));
  const dockerfile = writeBuildDockerfile(suite.temp('buildkit-'));
  const marker = path.join(ctx.dir, '.bench-marker');
  const cold: BuildTiming[] = [];
  const change: BuildTiming[] = [];
  const notes: string[] = [];
  try {
    for (let r = 0; r < runs; r++) {
      // Cold: no earlier copy of this context in BuildKit (our records pruned by id), a new marker
      // so the COPY cannot come from the cache, and the page cache dropped.
      await pruneRecords(env, ownRecords(before, await cacheRecords(env)));
      fs.writeFileSync(marker, `${process.pid}-${Date.now()}-${r}\n`);
      if (suite.canDropCaches) dropCaches();
      suite.log(`checksum ${ctx.files}: BuildKit cold build ${r + 1}/${runs}`);
      cold.push(await timedBuild(env, dockerfile, ctx.dir));
    }
    for (let r = 0; r < runs; r++) {
      fs.appendFileSync(path.join(ctx.dir, ctx.sample), `// buildkit change ${r}\n`);
      suite.log(`checksum ${ctx.files}: BuildKit one-file-change build ${r + 1}/${runs}`);
      change.push(await timedBuild(env, dockerfile, ctx.dir));
    }
  } finally {
    await pruneRecords(env, ownRecords(before, await cacheRecords(env)));
    fs.rmSync(marker, { force: true });
  }
  notes.push(
    `BuildKit: docker buildx build --output type=cacheonly of \`FROM alpine\` + \`COPY . /dcl-bench-ctx\` on the private test engine (${runs} cold and ${runs} one-change builds). ` +
      `Cold = this context's earlier BuildKit records pruned by id (the equivalent of \`docker builder prune -af\` for this context only, as the engine is shared), a new marker file so the COPY misses${suite.canDropCaches ? ', and the page cache dropped' : ''}. ` +
      'Durations are the vertices\' own (started → completed in --progress=rawjson).',
  );
  return { cold, change, notes };
}
