/**
 * The README's screenshot, taken the way a user gets there: the sample project built once with
 * the CLI (recording into the profile's manifestDirectory), then its Dockerfile opened in VS Code:
 * every step says `✓ cached`. Written to docs/images/lenses.png (cropped to the editor's text)
 * and test-output/e2e/readme-lenses.png.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from '../../scripts/lib/codeServer';
import { cli, startE2E, withScreenshot, type E2E } from './helpers/e2e';
import { stepLines } from './helpers/dockerfile';

export const README_IMAGE = path.join(ROOT, 'docs', 'images', 'lenses.png');

let e2e: E2E;

before(async () => {
  e2e = await startE2E({
    example: 'node-app',
    settings: {
      'workbench.colorTheme': 'Default Dark Modern',
      'editor.cursorBlinking': 'solid',
      'breadcrumbs.enabled': false,
      'editor.fontSize': 14,
    },
    open: { viewport: { width: 1000, height: 1000 }, colorScheme: 'dark' },
    beforeOpen: async (server, env) => {
      await cli(env, ['build', '--manifest', server.manifestDir, server.workspace]);
    },
  });
});

after(async () => {
  await e2e?.stop();
});

test('after a CLI build every step of the sample Dockerfile shows ✓ cached (README screenshot)', async () => {
  const { wb } = e2e;
  await withScreenshot(wb, 'readme-lenses-workbench', async () => {
    await wb.openFile('Dockerfile');
    const steps = stepLines(fs.readFileSync(path.join(e2e.workspace, 'Dockerfile'), 'utf8'));
    const lenses = await wb.waitForLenses('✓ cached above every step', (ls) =>
      steps.every((n) => ls.some((l) => l.line === n && /✓ cached/.test(l.text))));
    assert.ok(lenses.every((l) => !/rebuilds|never built/.test(l.text)), JSON.stringify(lenses));

    // Only the editor: close the side bar, then crop below the last line of text.
    await wb.runCommand('View: Close Primary Side Bar');
    await wb.page.locator('.part.sidebar').waitFor({ state: 'hidden' });
    await wb.waitForLenses('lenses laid out again', (ls) => steps.every((n) => ls.some((l) => l.line === n)));
    const part = await wb.page.locator('.part.editor').boundingBox();
    // The text's extent: the last line's bottom, the rightmost token or lens.
    const text = await wb.editor.locator('.view-lines .view-line span span, .codelens-decoration').evaluateAll((els) => {
      const boxes = (els as unknown as Array<{ textContent: string | null; getBoundingClientRect(): { bottom: number; right: number } }>)
        .filter((e) => (e.textContent ?? '').trim() !== '').map((e) => e.getBoundingClientRect());
      return { bottom: Math.max(...boxes.map((b) => b.bottom)), right: Math.max(...boxes.map((b) => b.right)) };
    });
    assert.ok(part !== null);
    const clip = {
      x: part.x, y: part.y,
      width: Math.min(part.width, Math.ceil(text.right - part.x + 48)),
      height: Math.min(part.height, Math.ceil(text.bottom - part.y + 2)),
    };
    const out = await wb.screenshot('readme-lenses', { clip });
    fs.mkdirSync(path.dirname(README_IMAGE), { recursive: true });
    fs.copyFileSync(out, README_IMAGE);
  });
});
