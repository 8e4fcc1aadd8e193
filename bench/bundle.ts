/**
 * Benchmark 5, bundle size and activation: the sizes of dist/client.js, dist/server.js and
 * dist/cli.js as `npm run build` leaves them (development: sourcemaps, not minified) and as
 * `node scripts/bundle.mjs --production` makes them (minified, built in a temporary folder), and
 * the time from spawning the server to its answer to `initialize` (median of 10 spawns each),
 * next to what `node -e 0` costs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ratio, row, type BenchResult, type Row } from './lib/report';
import { ROOT, bundleDev, bundleProduction, hasProductionFlag, initializeTime, nodeStartTime } from './lib/server';
import type { Suite } from './lib/suite';

const FILES = ['client.js', 'server.js', 'cli.js'] as const;

function kb(file: string): number {
  try {
    return fs.statSync(file).size / 1000;
  } catch {
    return NaN;
  }
}

export async function bundleBench(suite: Suite): Promise<BenchResult> {
  const started = performance.now();
  const spawns = suite.runs(10);
  const rows: Row[] = [];
  const notes: string[] = [];
  const findings: string[] = [];
  suite.log('bundle: development build into dist/');
  const dev = await bundleDev();
  const builds: Array<{ label: string; dir: string }> = [{ label: 'development (npm run build)', dir: dev }];
  if (hasProductionFlag()) {
    suite.log('bundle: production build into a temporary folder');
    builds.push({ label: 'production (--production, minified)', dir: await bundleProduction(suite.temp('bundle-')) });
  } else {
    notes.push('scripts/bundle.mjs has no --production flag: only the development build was measured.');
  }
  const devRows = new Map<string, Row>();
  for (const b of builds) {
    for (const f of FILES) {
      const r = row(`${b.label}: dist/${f}`, [kb(path.join(b.dir, f))], 'kB');
      const map = kb(path.join(b.dir, `${f}.map`));
      if (Number.isFinite(map)) r.note = `+ ${map.toFixed(0)} kB sourcemap`;
      if (b.dir === dev) devRows.set(f, r);
      else ratio(r, devRows.get(f), 'development');
      rows.push(r);
    }
  }
  const node: number[] = [];
  for (let i = 0; i < spawns; i++) node.push(await nodeStartTime());
  const nodeRow = row('`node -e 0` (any Node process)', node, 'ms');
  rows.push(nodeRow);
  await initializeTime(path.join(dev, 'server.js')); // warm-up: the bundle in the page cache
  // Taking turns, so that drift in the machine's load hits every build alike.
  const times = builds.map(() => [] as number[]);
  for (let i = 0; i < spawns; i++) {
    for (const [k, b] of builds.entries()) times[k]?.push(await initializeTime(path.join(b.dir, 'server.js')));
  }
  for (const [k, b] of builds.entries()) {
    const r = row(`${b.label}: spawn server → initialize answered`, times[k] ?? [], 'ms');
    ratio(r, nodeRow, 'node -e 0');
    rows.push(r);
  }
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  const packageScript = pkg.scripts?.package ?? '';
  if (!packageScript.includes('--production')) {
    findings.push(`\`npm run package\` (\`${packageScript}\`) bundles without --production: the .vsix ships the development bundles (not minified).`);
  }
  notes.push(`Sizes are single measurements; startup times are medians of ${spawns} spawns, taken one after another.`);
  return { id: 'bundle', title: 'Bundle size and server activation', notes, rows, findings, durationMs: performance.now() - started };
}
