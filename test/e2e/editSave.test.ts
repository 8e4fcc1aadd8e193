/**
 * An edit flips exactly the lenses it should: the sample project built once with the CLI
 * (recorded into the profile's manifestDirectory; package.json made unique), src/index.ts changed
 * in the editor and saved, then back on the Dockerfile: `COPY . .` rebuilds (src/index.ts
 * changed), `RUN npm run build` rebuilds (previous step rebuilds), the final stage's COPYs cannot
 * be known (they depend on what stage build produces), every other step stays `✓ cached`.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cli, startE2E, withScreenshot, type E2E } from './helpers/e2e';
import { stepLines } from './helpers/dockerfile';
import { splitLens, waitUntil, type ShownLens } from '../../scripts/lib/workbench';

let e2e: E2E;
let dockerfile: string;

before(async () => {
  e2e = await startE2E({
    example: 'node-app',
    unique: true,
    beforeOpen: async (server, env) => {
      await cli(env, ['build', '--manifest', server.manifestDir, server.workspace]);
    },
  });
  dockerfile = fs.readFileSync(path.join(e2e.workspace, 'Dockerfile'), 'utf8');
});

after(async () => {
  await e2e?.stop();
});

/** The line (1-based) of the first line of the Dockerfile that starts with `start`. */
function lineOf(start: string): number {
  const n = dockerfile.split('\n').findIndex((l) => l.startsWith(start)) + 1;
  assert.ok(n > 0, `no line starting with ${start}`);
  return n;
}

/** Each step line's own lens (stage summaries left out). */
function stepLenses(lenses: ShownLens[]): Map<number, string> {
  return new Map(lenses.map((l) => [l.line, splitLens(l.text).step]));
}

test('editing and saving src/index.ts flips exactly COPY . . and what depends on it', async () => {
  const { wb } = e2e;
  const steps = stepLines(dockerfile);
  const expected = new Map<number, RegExp>(steps.map((n) => [n, /^✓ cached$/]));
  expected.set(lineOf('COPY . .'), /^↻ rebuilds: src\/index\.ts changed( · ~.*)?$/);
  expected.set(lineOf('RUN npm run build'), /^↻ rebuilds: previous step rebuilds( · ~.*)?$/);
  expected.set(lineOf('COPY --from=build'), /^\? unknown: depends on what stage build produces$/);
  expected.set(lineOf('COPY <<EOF'), /^\? unknown: /);
  const matches = (ls: ShownLens[]): boolean => {
    const at = stepLenses(ls);
    return at.size === steps.length && steps.every((n) => expected.get(n)?.test(at.get(n) ?? '') === true);
  };

  await withScreenshot(wb, 'edit-save', async () => {
    await wb.openFile('Dockerfile');
    await wb.waitForLenses('✓ cached above every step (built with the CLI)', (ls) => {
      const at = stepLenses(ls);
      return steps.every((n) => at.get(n) === '✓ cached');
    });

    // Change the source like a person: at its end, a new line, typed; then Ctrl+S.
    await wb.openFile('src/index.ts');
    const edit = `export const edited = "${Date.now().toString(36)}";`;
    await wb.page.keyboard.press('Control+End');
    await wb.page.keyboard.press('Enter');
    await wb.page.keyboard.type(edit);
    const dirty = wb.page.locator('.tabs-container .tab.active.dirty', { hasText: 'index.ts' });
    await dirty.waitFor();
    await wb.page.keyboard.press('Control+S');
    await dirty.waitFor({ state: 'hidden' });
    await waitUntil('the edit saved to disk', () => fs.promises.readFile(path.join(e2e.workspace, 'src', 'index.ts'), 'utf8'),
      (t) => t.includes(edit));

    // Back to the Dockerfile: exactly the expected lenses flip.
    await wb.openFile('Dockerfile');
    const lenses = await wb.waitForLenses('COPY . . and RUN npm run build rebuild, the final COPYs unknown, the rest cached', matches);
    const at = stepLenses(lenses);
    assert.deepEqual([...at.keys()].sort((a, b) => a - b), steps, JSON.stringify(lenses));
    for (const n of steps) assert.match(at.get(n) ?? '', expected.get(n) ?? /^$/, `line ${n}`);
    // The build stage's summary counts its rebuild; the deps stage is untouched.
    const summary = (start: string): string => splitLens(lenses.find((l) => l.line === lineOf(start))?.text ?? '').summary ?? '';
    assert.match(summary('FROM node:${NODE_VERSION}-alpine AS deps'), /^(\d+) of \1 steps cached/);
    assert.match(summary('FROM node:${NODE_VERSION}-alpine AS build'), /^\d+ of \d+ steps cached · rebuild ~/);
  });
});
