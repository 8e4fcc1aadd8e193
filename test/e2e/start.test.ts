/**
 * `npm start` as a newcomer runs it (scripts/start.ts), with a cache folder of its own
 * (XDG_CACHE_HOME: no recorded builds, no copy of the example yet) and the shared private engine
 * already running (so that it is not the one to start, or stop, it):
 * - `--check` builds the copy once through the CLI, serves it in code-server, sees the lenses of
 *   that build in Chromium, writes a screenshot, prints the URL, exits 0;
 * - run again, it does not build again, serves the URL until SIGINT, then stops code-server.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startEngine } from '../helpers/engine';
import { ROOT } from '../../scripts/lib/codeServer';

const START = path.join(ROOT, 'scripts', 'start.ts');
const URL_LINE = /^\s*(http:\/\/127\.0\.0\.1:(\d+)\/\?folder=\S+)$/m;

let cache: string;
let env: NodeJS.ProcessEnv;

before(async () => {
  await startEngine();
  cache = fs.mkdtempSync(path.join(os.tmpdir(), 'dcl-start-cache-'));
  env = { ...process.env, XDG_CACHE_HOME: cache };
});

after(() => {
  fs.rmSync(cache, { recursive: true, force: true });
});

interface Run { code: number | null; output: string }

/** Runs the start script; `onOutput` sees the output as it comes (and may signal the process). */
function start(args: string[], onOutput?: (output: string, pid: number) => void): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', START, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); }, 15 * 60_000);
    const on = (b: Buffer): void => {
      output += b.toString();
      if (child.pid !== undefined) onOutput?.(output, child.pid);
    };
    child.stdout.on('data', on);
    child.stderr.on('data', on);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, output }); });
  });
}

test('npm start -- --check: builds the example once, serves it, sees its lenses, writes a screenshot, exits 0', async () => {
  const run = await start(['--check']);
  assert.equal(run.code, 0, run.output);
  assert.match(run.output, URL_LINE, run.output);
  assert.match(run.output, /dockerfile-cache-lens build/);
  assert.match(run.output, /^built: \d+ step\(s\) cached, \d+ run/m, run.output);
  const shot = /Screenshot: (\S+\.png)$/m.exec(run.output)?.[1];
  assert.ok(shot !== undefined, run.output);
  const png = fs.readFileSync(shot);
  assert.deepEqual([...png.subarray(1, 4)].map((b) => String.fromCharCode(b)).join(''), 'PNG');
  assert.ok(png.length > 10_000, `${shot}: ${png.length} bytes`);
  // The lenses it saw are those of the build it recorded.
  assert.match(run.output, /line \d+: \d+ of \d+ steps cached · last built just now/, run.output);
  assert.ok(fs.readdirSync(path.join(cache, 'dockerfile-cache-lens', 'manifests')).length > 0);
});

test('npm start again: no second build; serves the URL until SIGINT, then code-server is gone', async () => {
  let url: string | undefined;
  let answered: Promise<number> | undefined;
  const run = await start([], (output, pid) => {
    if (url !== undefined || !/serving until Ctrl\+C/.test(output)) return;
    url = URL_LINE.exec(output)?.[1];
    const u = url ?? '';
    answered = fetch(u).then((r) => r.status, () => -1).finally(() => process.kill(pid, 'SIGINT'));
  });
  assert.equal(run.code, 0, run.output);
  assert.ok(url !== undefined, run.output);
  assert.match(run.output, /was built before on this builder: not building it again/);
  assert.doesNotMatch(run.output, /dockerfile-cache-lens build\b/);
  assert.equal(await answered, 200, run.output);
  assert.match(run.output, /stopping/);
  // Stopped: nothing listens there any more.
  const after = await fetch(url).then(() => 'answered', () => 'refused');
  assert.equal(after, 'refused');
});
