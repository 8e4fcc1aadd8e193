/**
 * Warm prediction benchmark: a generated 200-line Dockerfile over a generated context, predicted
 * cold (every file read and hashed), then warm (nothing changed: every checksum from the stat
 * cache), then after one file changes. Medians of several runs; the cold run is the baseline of
 * the ratio. Run by hand: `npm run bench:predict [-- --files N --runs R]`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { ManifestStore } from '../server/src/cache/manifest';
import { Predictor, buildConfig } from '../server/src/cache/predictor';
import type { ImageInfo } from '../server/src/cache/steps';

const { values } = parseArgs({ options: { files: { type: 'string', default: '10000' }, runs: { type: 'string', default: '7' }, json: { type: 'string' } } });
const FILES = Number(values.files);
const RUNS = Number(values.runs);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

/** A context of FILES files in 100 packages, sizes mixed from a few bytes to 64 KiB. */
function makeContext(dir: string): void {
  for (let i = 0; i < FILES; i++) {
    const pkg = `pkg${i % 100}`;
    const sub = path.join(dir, 'src', pkg, `d${Math.floor(i / 1000)}`);
    fs.mkdirSync(sub, { recursive: true });
    const size = [16, 300, 2000, 9000, 65536][i % 5] ?? 16;
    fs.writeFileSync(path.join(sub, `f${i}.ts`), Buffer.alloc(size, i % 251));
  }
  fs.writeFileSync(path.join(dir, 'package.json'), '{"name":"bench"}\n');
  fs.writeFileSync(path.join(dir, '.dockerignore'), 'node_modules\n.git\n');
}

/** A 200-line, 4-stage Dockerfile copying parts of the context. */
function makeDockerfile(): string {
  const lines: string[] = ['ARG NODE=20'];
  for (let s = 0; s < 4; s++) {
    lines.push(`FROM node:\${NODE}-alpine AS s${s}`, 'WORKDIR /app', 'COPY package.json ./', 'RUN npm ci');
    for (let k = 0; lines.length < 50 * (s + 1) - 1; k++) {
      lines.push(k % 2 === 0 ? `COPY src/pkg${(s * 25 + k) % 100}/ ./src/pkg${(s * 25 + k) % 100}/` : `RUN echo step ${s}-${k} && \\`, ...(k % 2 === 0 ? [] : ['    true']));
    }
  }
  lines.push('COPY --from=s0 /app/src ./all');
  return lines.slice(0, 200).join('\n') + '\n';
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcl-bench-'));
  const manifests = fs.mkdtempSync(path.join(os.tmpdir(), 'dcl-bench-m-'));
  try {
    makeContext(dir);
    const text = makeDockerfile();
    fs.writeFileSync(path.join(dir, 'Dockerfile'), text);
    const config = buildConfig({ dockerfile: path.join(dir, 'Dockerfile'), context: dir, builder: 'bench' });
    // No engine needed: every base image resolves to the same stand-in.
    const images = (refs: readonly string[]): Promise<Map<string, ImageInfo>> =>
      Promise.resolve(new Map(refs.map((r) => [r, { id: 'sha256:bench', env: [], workdir: '', user: '', shell: undefined }])));
    const cold: number[] = [];
    const warm: number[] = [];
    const oneChange: number[] = [];
    let warmHashed = -1;
    let changeHashed = -1;
    let steps = 0;
    for (let r = 0; r < RUNS; r++) {
      const predictor = new Predictor({ store: new ManifestStore(manifests), images });
      let t = performance.now();
      const first = await predictor.run(config, text);
      cold.push(performance.now() - t);
      steps = first.plan.steps.length;
      t = performance.now();
      await predictor.run(config, text);
      warm.push(performance.now() - t);
      warmHashed = predictor.hasher(config.context, config.dockerfile).stats.hashedFiles;
      const changed = path.join(dir, 'src', 'pkg7', 'd0', 'f7.ts');
      fs.appendFileSync(changed, 'x');
      t = performance.now();
      await predictor.run(config, text);
      oneChange.push(performance.now() - t);
      changeHashed = predictor.hasher(config.context, config.dockerfile).stats.hashedFiles;
    }
    const rows = [
      ['cold (every file read)', median(cold), FILES],
      ['warm, nothing changed', median(warm), warmHashed],
      ['warm, one file changed', median(oneChange), changeHashed],
    ] as const;
    const base = median(cold);
    console.log(`Prediction of a 200-line Dockerfile (${steps} steps), context of ${FILES} files; ${os.cpus().length} cores; median of ${RUNS} runs; ${new Date().toISOString()}`);
    console.log('| run | median ms | ratio to cold | files read |');
    console.log('|---|---:|---:|---:|');
    for (const [name, ms, files] of rows) console.log(`| ${name} | ${ms.toFixed(1)} | ${(ms / base).toFixed(3)} | ${files} |`);
    if (values.json !== undefined) {
      fs.writeFileSync(values.json, JSON.stringify({ files: FILES, steps, runs: RUNS, cores: os.cpus().length, date: new Date().toISOString(), rows }, null, 2));
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(manifests, { recursive: true, force: true });
  }
}

void main();
