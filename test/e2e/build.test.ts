/**
 * Building from VS Code: the sample project (its package.json made unique, so the shared engine's
 * cache from other runs has none of its steps), Dockerfile open, **Dockerfile Cache Lens: Build
 * Image** from the command palette. The task's terminal shows the plan, BuildKit's steps and a
 * summary line; built again, every step comes from the cache, the terminal says so, and every
 * step's lens says `✓ cached`.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startE2E, withScreenshot, type E2E } from './helpers/e2e';
import { fromLines, stepLines } from './helpers/dockerfile';
import { splitLens, waitUntil, type Workbench } from '../../scripts/lib/workbench';

const BUILD = 'Dockerfile Cache Lens: Build Image';
/** A build's end as the task's terminal shows it: the summary line, then VS Code's task footer. */
const FINISHED = /^(Built|Failed|Cancelled)\b.*$[\s\S]*Terminal will be reused by tasks/m;
const BUILD_TIMEOUT = 180_000;

let e2e: E2E;
let dockerfile: string;

before(async () => {
  // Tall enough for the Dockerfile's last step and the terminal panel together.
  e2e = await startE2E({ example: 'node-app', unique: true, open: { viewport: { width: 1400, height: 1300 } } });
  dockerfile = fs.readFileSync(path.join(e2e.workspace, 'Dockerfile'), 'utf8');
});

after(async () => {
  await e2e?.stop();
});

/**
 * Runs Build Image from the palette (answering "which Dockerfile" if it asks) and waits until the
 * terminal shows the build's end; `before` is what the terminal showed until then (a reused
 * task terminal keeps the previous build's text until the new one clears it).
 */
async function build(wb: Workbench, before: string): Promise<string> {
  await wb.runCommandExact(BUILD);
  await waitUntil('the build to start (or to ask which Dockerfile)', async () => ({
    question: await wb.question(), terminal: await wb.terminalText(),
  }), (s) => {
    if (s.question !== undefined && /Dockerfile/i.test(s.question)) return true;
    return s.terminal !== before && s.terminal.trim() !== '';
  });
  if ((await wb.question()) !== undefined) await wb.pick('Dockerfile');
  const shown = await wb.waitForTerminal('the build to finish', (t) => t !== before && FINISHED.test(t), BUILD_TIMEOUT);
  assert.match(shown, /^Built\b/m, `the build did not succeed:\n${shown}`);
  return shown;
}

/** The last build in the terminal's text (from the task's first line, `Checking Docker…`, on). */
function lastRun(buffer: string): string {
  const at = buffer.lastIndexOf('Checking Docker…');
  assert.ok(at >= 0, `no task in the terminal:\n${buffer}`);
  return buffer.slice(at);
}

/** BuildKit's steps in a build's output: `#N [stage i/n] INSTRUCTION` and how each ended. */
function steps(output: string): Array<{ name: string; end: string }> {
  const names = new Map<string, string>();
  const ends = new Map<string, string>();
  for (const line of output.split('\n')) {
    const step = /^#(\d+) (\[(?:\S+ )?\d+\/\d+\] .*)$/.exec(line);
    if (step?.[1] !== undefined && step[2] !== undefined && !names.has(step[1])) names.set(step[1], step[2].trim());
    const end = /^#(\d+) (CACHED|DONE [\d.]+s|ERROR.*)$/.exec(line.trim());
    if (end?.[1] !== undefined && end[2] !== undefined) ends.set(end[1], end[2]);
  }
  return [...names].map(([n, name]) => ({ name, end: ends.get(n) ?? '(no end)' }));
}

test('Build Image runs in the terminal; built again, every step is cached and its lens says ✓ cached', async () => {
  const { wb } = e2e;
  const lines = stepLines(dockerfile);
  await withScreenshot(wb, 'build', async () => {
    await wb.openFile('Dockerfile');
    await wb.waitForLenses('a prediction above every step', (ls) =>
      lines.every((n) => ls.some((l) => l.line === n && /✓ cached|↻ rebuilds|\? unknown/.test(l.text))));

    // First build: the steps from the (unique) manifests on run.
    const first = await build(wb, '');
    const buffer1 = await wb.terminalBuffer();
    const out1 = lastRun(buffer1);
    assert.match(buffer1, /Executing task: .*build .*Dockerfile/);
    assert.match(out1, /^Predicted:$/m);
    const run1 = steps(out1);
    const npmBuild = run1.find((s) => /RUN npm run build$/.test(s.name));
    assert.ok(npmBuild !== undefined, `no RUN npm run build in the terminal:\n${out1}`);
    assert.match(npmBuild.end, /^DONE/, `RUN npm run build: ${npmBuild.end}`);
    assert.match(out1, /^Built: \d+ step\(s\) cached, [1-9]\d* run in /m);
    // The task reports done only once the new state is shown: looked at once, not waited for.
    const shownAtEnd = await wb.page.locator('.statusbar-item', { hasText: /\b(\d+)\/\1 cached\b/ }).count();
    await wb.screenshot('build-first');
    assert.ok(shownAtEnd > 0, 'when the first build\'s task ended, the status bar did not show its steps as cached');

    // Second build: nothing changed, BuildKit takes every step from its cache.
    const second = await build(wb, await wb.terminalText());
    assert.notEqual(second, first);
    const buffer2 = await wb.terminalBuffer();
    const out2 = lastRun(buffer2);
    const run2 = steps(out2);
    // The same steps (BuildKit names a step shared by stages after either stage: compare instructions).
    const instruction = (name: string): string => name.replace(/^\[[^\]]+\] /, '');
    assert.deepEqual(run2.map((s) => instruction(s.name)).sort(), run1.map((s) => instruction(s.name)).sort(), out2);
    // Every step but the base image (FROM: resolved on every build, reported done, not cached).
    for (const s of run2.filter((x) => !/\] FROM /.test(x.name))) assert.equal(s.end, 'CACHED', `${s.name}:\n${out2}`);
    // The summary line counts as the terminal shows, FROM left out (resolved on every build).
    const counted = run2.filter((s) => !/\] FROM /.test(s.name));
    const cached = counted.filter((s) => s.end === 'CACHED').length;
    const ran = counted.filter((s) => s.end.startsWith('DONE')).length;
    assert.match(out2, new RegExp(`^Built: ${cached} step\\(s\\) cached, ${ran} run in `, 'm'), `${JSON.stringify(run2, null, 1)}\n${out2}`);
    assert.match(out2, /^Every step went as predicted\.$/m, out2);

    // Every step's lens, and each stage's summary.
    const lenses = await wb.waitForLenses('✓ cached above every step', (ls) =>
      lines.every((n) => ls.some((l) => l.line === n && splitLens(l.text).step === '✓ cached')));
    assert.ok(lenses.every((l) => !/rebuilds|unknown|never built/.test(l.text)), JSON.stringify(lenses));
    for (const n of fromLines(dockerfile)) {
      const summary = splitLens(lenses.find((l) => l.line === n)?.text ?? '').summary ?? '';
      assert.match(summary, /^(\d+) of \1 steps cached · last built just now$/, `line ${n}: ${summary}`);
    }
    await wb.page.locator('.statusbar-item', { hasText: /\b(\d+)\/\1 cached\b/ }).first().waitFor();
  });
});
