/**
 * In a real VS Code workbench (code-server + chromium), with the packaged extension: opening the
 * sample project's Dockerfile shows a prediction above every build step, and hovering a step
 * explains its prediction and its cache key. Run with `npm run test:e2e`.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startE2E, withScreenshot, type E2E } from './helpers/e2e';
import { fromLines, stepLines } from './helpers/dockerfile';
import type { ShownLens } from '../../scripts/lib/workbench';

const PREDICTION = /✓ cached|↻ rebuilds|never built|\? unknown|not built for target/;

let e2e: E2E;
let dockerfile: string;

before(async () => {
  e2e = await startE2E({ example: 'node-app' });
  dockerfile = fs.readFileSync(path.join(e2e.workspace, 'Dockerfile'), 'utf8');
});

after(async () => {
  await e2e?.stop();
});

function byLine(lenses: ShownLens[]): Map<number, string> {
  return new Map(lenses.map((l) => [l.line, l.text]));
}

test('opening the Dockerfile activates the extension and shows a lens above every step', async () => {
  await withScreenshot(e2e.wb, 'lenses-never-built', async () => {
    await e2e.wb.openFile('Dockerfile');
    const steps = stepLines(dockerfile);
    const lenses = await e2e.wb.waitForLenses('a prediction above every step', (ls) => {
      const at = byLine(ls);
      return steps.every((n) => PREDICTION.test(at.get(n) ?? ''));
    });
    // Exactly the steps have lenses (ARG, ENV, EXPOSE, CMD and the heredoc body do not).
    assert.deepEqual([...new Set(lenses.map((l) => l.line))].sort((a, b) => a - b), steps, JSON.stringify(lenses));
    // A project never built: each stage's FROM line also carries the stage summary.
    const at = byLine(lenses);
    for (const n of fromLines(dockerfile)) assert.match(at.get(n) ?? '', /steps cached.*never built/, `line ${n}: ${at.get(n)}`);
    // The lines under the lenses are the steps themselves, as drawn.
    const texts = await e2e.wb.lineTexts();
    for (const n of steps) {
      const drawn = texts.get(n);
      if (drawn !== undefined) assert.match(drawn, /^\s*(FROM|RUN|COPY|ADD|WORKDIR)\b/i, `line ${n}`);
    }
  });
});

test('hovering RUN shows its prediction and what its cache key covers', async () => {
  await withScreenshot(e2e.wb, 'hover-run', async () => {
    const lines = dockerfile.split('\n');
    const run = lines.findIndex((l) => l.startsWith('RUN npm run build')) + 1;
    assert.ok(run > 0);
    const hover = await e2e.wb.hover(run, 'RUN', /cache key/);
    const text = await hover.innerText();
    assert.match(text, /✓ cached|↻ rebuilds|\? unknown/);
    assert.match(text, /cache key covers/);
    assert.match(text, /npm run build/);
  });
});
