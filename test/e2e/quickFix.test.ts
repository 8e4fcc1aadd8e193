/**
 * A cache rule's quick-fix, applied the way a person does: a Dockerfile that copies the whole
 * context before `npm ci` gets a warning on its COPY (squiggle, Problems panel, status bar); with
 * the cursor on that line, Quick Fix (Ctrl+.) → "Copy the dependency manifests first" rewrites it
 * to copy package.json and package-lock.json, install, then copy the rest, and the warning goes.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startE2E, withScreenshot, type E2E } from './helpers/e2e';
import { waitUntil } from '../../scripts/lib/workbench';

const DOCKERFILE = 'FROM node:20-alpine\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD ["node","index.js"]\n';
const FIXED = [
  'FROM node:20-alpine',
  'WORKDIR /app',
  'COPY package.json package-lock.json ./',
  'RUN npm ci',
  'COPY . .',
  'CMD ["node","index.js"]',
];
const FIX = 'Copy the dependency manifests first';

let e2e: E2E;

before(async () => {
  e2e = await startE2E({
    files: {
      'Dockerfile': DOCKERFILE,
      'package.json': '{\n  "name": "quick-fix-app",\n  "version": "1.0.0",\n  "private": true\n}\n',
      'package-lock.json': '{\n  "name": "quick-fix-app",\n  "version": "1.0.0",\n  "lockfileVersion": 3,\n  "requires": true,\n'
        + '  "packages": { "": { "name": "quick-fix-app", "version": "1.0.0" } }\n}\n',
      'index.js': 'console.log("hello");\n',
      '.dockerignore': 'node_modules\n',
    },
  });
});

after(async () => {
  await e2e?.stop();
});

test('Quick Fix "Copy the dependency manifests first" rewrites the Dockerfile and the warning goes', async () => {
  const { wb, page } = { wb: e2e.wb, page: e2e.wb.page };
  const problems = page.locator('.markers-panel');
  const problem = problems.locator('.monaco-list-row', { hasText: 'npm ci' });
  await withScreenshot(wb, 'quick-fix', async () => {
    await wb.openFile('Dockerfile');

    // The warning: a squiggle under the COPY on line 3, the Problems panel, the status bar.
    await waitUntil('a warning squiggle on line 3', () => wb.squiggles(), (s) => s.some((q) => q.line === 3 && q.severity === 'warning'));
    await waitUntil('the status bar to count the warning', () => wb.problemsStatus(), (s) => /Warnings: 1\b/.test(s));
    await wb.runCommand('View: Focus Problems (Errors, Warnings, Infos)');
    await problem.first().waitFor();
    const entry = await problems.innerText();
    assert.match(entry, /reruns `RUN npm ci` \(line 4\)/);
    assert.match(entry, /cache\/copy-all-before-install/);
    assert.match(entry, /\[Ln 3, Col 1\]/);
    await wb.screenshot('quick-fix-before');

    // Cursor on line 3 (Go to Line), then Quick Fix.
    await page.keyboard.press('Control+G');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor();
    await input.fill(':3');
    await page.keyboard.press('Enter');
    await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
    await page.locator('.statusbar-item', { hasText: /Ln 3, Col \d+/ }).first().waitFor();
    await page.keyboard.press('Control+.');
    const action = page.locator('.action-widget .monaco-list-row.action', { hasText: FIX });
    await action.waitFor();
    // The keyboard, as the menu offers ("Enter to Apply"): down to the fix, then Enter.
    const rows = await page.locator('.action-widget .monaco-list-row.action').count();
    for (let i = 0; i < rows && !(await action.evaluate((el) => (el as unknown as { className: string }).className.includes('focused'))); i++) {
      await page.keyboard.press('ArrowDown');
    }
    await page.locator('.action-widget .monaco-list-row.action.focused', { hasText: FIX }).waitFor();
    await page.keyboard.press('Enter');
    await page.locator('.action-widget').waitFor({ state: 'hidden' });

    // The Dockerfile as rewritten, and no warning left (the rule's hint on npm ci's cache may stay).
    const texts = await waitUntil('the rewritten Dockerfile', () => wb.lineTexts(), (t) => FIXED.every((l, i) => t.get(i + 1) === l));
    assert.equal(texts.get(7) ?? '', '');
    await waitUntil('no warning squiggle', () => wb.squiggles(), (s) => s.every((q) => q.severity !== 'warning' && q.severity !== 'error'));
    await problem.first().waitFor({ state: 'hidden' });
    await waitUntil('the status bar to count no problem', () => wb.problemsStatus(), (s) => /^No Problems$/.test(s));

    // Saved, it is on disk as shown.
    await page.keyboard.press('Control+S');
    await page.locator('.tabs-container .tab.active.dirty').waitFor({ state: 'hidden' });
    assert.equal(fs.readFileSync(path.join(e2e.workspace, 'Dockerfile'), 'utf8'), FIXED.join('\n') + '\n');

    // The lenses follow the new text: a prediction above each of its five steps.
    await wb.waitForLenses('a prediction above each step of the rewritten file', (ls) =>
      [1, 2, 3, 4, 5].every((n) => ls.some((l) => l.line === n && /✓ cached|↻ rebuilds|\? unknown/.test(l.text))));
  });
});
