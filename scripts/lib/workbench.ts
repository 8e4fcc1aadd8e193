/**
 * The workbench as a person sees it: Debian's chromium (driven by playwright-core, which never
 * downloads a browser) showing code-server, with helpers that act like a user (Quick Open, the
 * command palette, the mouse) and read what is on screen (code lenses by line, the hover widget).
 * Every wait is on something shown, never a fixed sleep.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { E2E_DIR, ROOT, type CodeServer } from './codeServer';

/**
 * playwright-core is a test tool installed in test/e2e (scripts/e2e-setup.sh), not beside this
 * file: loaded from there, when a workbench is opened (the types come through tsconfig.e2e.json).
 */
function playwright(): typeof import('playwright-core') {
  const file = path.join(E2E_DIR, 'node_modules', 'playwright-core', 'package.json');
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run scripts/e2e-setup.sh first`);
  return createRequire(file)('playwright-core') as typeof import('playwright-core');
}

export const OUT_DIR = path.join(ROOT, 'test-output', 'e2e');
export const CHROMIUM = process.env.DCL_E2E_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run',
];
/** Default time for something to show up: the first prediction of a project hashes its context. */
export const SHOW_TIMEOUT = 60_000;

/** One code lens row as shown: the editor line it sits above, and its text (` | ` between lenses). */
export interface ShownLens {
  line: number;
  text: string;
}

/**
 * The little of the DOM the in-page functions below use (the project compiles without lib.dom;
 * these functions run in the browser, where the real objects have these members). In-page
 * functions are sent as source text: they may use nothing from this module but types.
 */
interface DomEl {
  readonly innerText: string;
  readonly className: string;
  getBoundingClientRect(): { top: number; bottom: number };
  querySelectorAll(selector: string): Iterable<DomEl>;
  getAttribute(name: string): string | null;
  setAttribute(name: string, value: string): void;
}

export interface OpenOptions {
  viewport?: { width: number; height: number };
  colorScheme?: 'light' | 'dark';
}

/**
 * One lens row split in its lenses: a FROM line's row holds the stage summary (`N of M steps
 * cached · …`) and the FROM step's own lens (`✓ cached`), shown with ` | ` between them.
 */
export function splitLens(text: string): { summary: string | undefined; step: string } {
  const parts = text.split(/\s*\|\s*/).map((p) => p.trim()).filter((p) => p !== '');
  const summary = parts.find((p) => /^\d+ of \d+ steps cached/.test(p));
  return { summary, step: parts.filter((p) => p !== summary).join(' | ') };
}

/** One diagnostic underline as drawn: the line it is on and its kind (error, warning, info, hint). */
export interface ShownSquiggle {
  line: number;
  severity: string;
}

/** Text for a RegExp that matches `s` literally. */
export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Polls `read` (a look at the screen) until `done` holds; throws with the last look on timeout. */
export async function waitUntil<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean, timeoutMs = SHOW_TIMEOUT): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await read();
  while (!done(last)) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${JSON.stringify(last, null, 1)}`);
    await new Promise((r) => setTimeout(r, 100));
    last = await read();
  }
  return last;
}

export class Workbench {
  private constructor(readonly browser: Browser, readonly page: Page, readonly server: CodeServer) {}

  /** Launches chromium, loads the workbench with the server's workspace folder, waits until it is up. */
  static async open(server: CodeServer, opts: OpenOptions = {}): Promise<Workbench> {
    const browser = await playwright().chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    try {
      const page = await browser.newPage({ viewport: opts.viewport ?? { width: 1400, height: 1000 }, colorScheme: opts.colorScheme ?? 'light' });
      await page.goto(server.url);
      // The explorer shows the folder once the remote connection and the workspace are up.
      await page.locator('.monaco-workbench').waitFor({ timeout: SHOW_TIMEOUT });
      await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ timeout: SHOW_TIMEOUT });
      return new Workbench(browser, page, server);
    } catch (e) {
      await browser.close();
      throw e;
    }
  }

  /** The editor of the active editor group. */
  get editor(): Locator {
    return this.page.locator('.editor-group-container.active .monaco-editor[data-uri]').first();
  }

  /** Quick Open (Ctrl+P), type the name, pick the first match; resolves when its tab is active. */
  async openFile(name: string): Promise<void> {
    await this.page.keyboard.press('Control+P');
    const input = this.page.locator('.quick-input-widget input');
    await input.waitFor({ timeout: SHOW_TIMEOUT });
    await input.fill(name);
    // The focused row, once the typed name has filtered the list (recently opened files show
    // before that, the current one among them).
    await this.page.locator('.quick-input-list .monaco-list-row.focused', { hasText: path.basename(name) }).first().waitFor({ timeout: SHOW_TIMEOUT });
    await this.page.keyboard.press('Enter');
    await this.page.locator('.tabs-container .tab.active', { hasText: path.basename(name) }).waitFor({ timeout: SHOW_TIMEOUT });
    await this.editor.locator('.view-lines .view-line').first().waitFor({ timeout: SHOW_TIMEOUT });
  }

  /** Runs a command by its label from the command palette (F1), like a user would. */
  async runCommand(label: string): Promise<void> {
    await this.page.keyboard.press('F1');
    const input = this.page.locator('.quick-input-widget input');
    await input.waitFor({ timeout: SHOW_TIMEOUT });
    await input.fill(`>${label}`);
    await this.page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first().waitFor({ timeout: SHOW_TIMEOUT });
    await this.page.keyboard.press('Enter');
    await this.page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: SHOW_TIMEOUT });
  }

  /**
   * Runs the command whose label is exactly `label` (F1, type it, click its row: "Build Image"
   * also matches "Build Image Without Cache"). Resolves once the palette is gone or the command
   * asks something in its place (see question()).
   */
  async runCommandExact(label: string): Promise<void> {
    await this.page.keyboard.press('F1');
    const input = this.page.locator('.quick-input-widget input');
    await input.waitFor({ timeout: SHOW_TIMEOUT });
    await input.fill(`>${label}`);
    const row = this.page.locator('.quick-input-list .monaco-list-row')
      .filter({ has: this.page.locator('.label-name', { hasText: new RegExp(`^\\s*${escapeRegExp(label)}\\s*$`) }) }).first();
    await row.waitFor({ timeout: SHOW_TIMEOUT });
    await row.click();
    await waitUntil(`the command palette to close after ${label}`, async () => (await input.isVisible() ? await input.inputValue() : ''),
      (v) => !v.startsWith('>'));
  }

  /** The question a quick pick is asking (its placeholder), or undefined when none is shown. */
  async question(): Promise<string | undefined> {
    const input = this.page.locator('.quick-input-widget input');
    if (!(await input.isVisible())) return undefined;
    return (await input.getAttribute('placeholder')) ?? (await input.getAttribute('aria-label')) ?? '';
  }

  /** Picks the quick pick's item labelled `label` (the first whose text contains it). */
  async pick(label: string): Promise<void> {
    const row = this.page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first();
    await row.waitFor({ timeout: SHOW_TIMEOUT });
    await row.click();
    await this.page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: SHOW_TIMEOUT });
  }

  /** The terminal shown in the panel (the active one). */
  get terminal(): Locator {
    return this.page.locator('.part.panel .terminal-wrapper .xterm').filter({ visible: true }).first();
  }

  /**
   * The rows of the panel's terminal now on screen, as text ('' without a terminal). Needs xterm's
   * DOM renderer (`terminal.integrated.gpuAcceleration: off`, a default of startCodeServer).
   */
  async terminalText(): Promise<string> {
    const rows = this.page.locator('.part.panel .terminal-wrapper .xterm-rows').filter({ visible: true });
    if ((await rows.count()) === 0) return '';
    return (await rows.first().innerText()).replace(/\u00a0/g, ' ');
  }

  /** Waits until the terminal's rows on screen satisfy `done`. */
  async waitForTerminal(what: string, done: (text: string) => boolean, timeoutMs = SHOW_TIMEOUT): Promise<string> {
    return waitUntil(`terminal: ${what}`, () => this.terminalText(), done, timeoutMs);
  }

  /**
   * All of the terminal's text, scrollback included, the way a person gets it: click into the
   * terminal (a click is no key press: a finished task's terminal stays), Terminal: Select All,
   * Ctrl+Shift+C, then read the clipboard.
   */
  async terminalBuffer(): Promise<string> {
    await this.page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(this.page.url()).origin });
    const clipboard = (text?: string): Promise<string> => this.page.evaluate(async (t) => {
      const nav = (globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string>; writeText(s: string): Promise<void> } } }).navigator;
      if (t !== undefined) await nav.clipboard.writeText(t);
      return nav.clipboard.readText();
    }, text);
    await clipboard('');
    await this.terminal.click();
    await this.runCommand('Terminal: Select All');
    await this.page.keyboard.press('Control+Shift+C');
    const text = await waitUntil('the terminal text on the clipboard', () => clipboard(), (t) => t !== '', 10_000);
    await this.runCommand('Terminal: Clear Selection');
    return text.replace(/\u00a0/g, ' ').replace(/\r\n/g, '\n');
  }

  /** The diagnostic underlines drawn in the active editor (lines on screen only). */
  async squiggles(): Promise<ShownSquiggle[]> {
    return this.editor.evaluate((editor) => {
      const ed = editor as unknown as DomEl;
      const numbers = [...ed.querySelectorAll('.margin-view-overlays .line-numbers')].map((el) => ({
        line: Number(el.innerText.trim()), top: el.getBoundingClientRect().top,
      }));
      return [...ed.querySelectorAll('.view-overlays .cdr[class*="squiggly-"]')].map((el) => {
        const top = el.getBoundingClientRect().top;
        const n = numbers.find((x) => Math.abs(x.top - top) <= 2);
        return { line: n?.line ?? -1, severity: /squiggly-(\w+)/.exec(el.className)?.[1] ?? '' };
      }).sort((a, b) => a.line - b.line);
    });
  }

  /** What the status bar's problems item says (its accessible label: `Warnings: 1`, `No Problems`). */
  async problemsStatus(): Promise<string> {
    return (await this.page.locator('[id="status.problems"]').getAttribute('aria-label')) ?? '';
  }

  /**
   * The code lenses shown in the active editor, each with the (1-based) line it stands above: the
   * first line whose line number is drawn below the lens row.
   */
  async lenses(): Promise<ShownLens[]> {
    return this.editor.evaluate((editor) => {
      const ed = editor as unknown as DomEl;
      const numbers = [...ed.querySelectorAll('.margin-view-overlays .line-numbers')].map((el) => ({
        line: Number(el.innerText.trim()), top: el.getBoundingClientRect().top,
      })).filter((n) => Number.isFinite(n.line) && n.line > 0).sort((a, b) => a.top - b.top);
      return [...ed.querySelectorAll('.codelens-decoration')].map((el) => {
        const r = el.getBoundingClientRect();
        const below = numbers.find((n) => n.top >= r.bottom - 2);
        return { line: below?.line ?? -1, text: el.innerText.replace(/\u00a0/g, ' ').trim(), top: r.top };
      }).filter((l) => l.text !== '').sort((a, b) => a.top - b.top).map(({ line, text }) => ({ line, text }));
    });
  }

  /** Waits until the shown lenses satisfy `done` (e.g. every step has its prediction). */
  async waitForLenses(what: string, done: (lenses: ShownLens[]) => boolean, timeoutMs = SHOW_TIMEOUT): Promise<ShownLens[]> {
    return waitUntil(`lenses: ${what}`, () => this.lenses(), done, timeoutMs);
  }

  /** Marks each drawn line with its line number (data-dcl-line) so lines can be located. */
  async markLines(): Promise<void> {
    await this.editor.evaluate((editor) => {
      const ed = editor as unknown as DomEl;
      const numbers = [...ed.querySelectorAll('.margin-view-overlays .line-numbers')].map((el) => ({
        line: Number(el.innerText.trim()), top: Math.round(el.getBoundingClientRect().top),
      }));
      for (const v of ed.querySelectorAll('.view-lines .view-line')) {
        const top = Math.round(v.getBoundingClientRect().top);
        const n = numbers.find((x) => Math.abs(x.top - top) <= 1);
        if (n !== undefined) v.setAttribute('data-dcl-line', String(n.line));
      }
    });
  }

  /** The drawn text of each line, by line number (only the lines on screen). */
  async lineTexts(): Promise<Map<number, string>> {
    await this.markLines();
    const rows = await this.editor.locator('.view-lines .view-line[data-dcl-line]').evaluateAll((els) => (els as unknown as DomEl[]).map((e) => [
      Number(e.getAttribute('data-dcl-line')), e.innerText.replace(/\u00a0/g, ' '),
    ] as [number, string]));
    return new Map(rows);
  }

  /** Moves the mouse over `word` on the (1-based) line and waits for the hover widget to show `expect`. */
  async hover(line: number, word: string, expect: string | RegExp): Promise<Locator> {
    const widget = this.page.locator('.monaco-hover:not(.hidden) .monaco-hover-content', { hasText: expect }).first();
    const deadline = Date.now() + SHOW_TIMEOUT;
    // Lines move when lenses are laid out again (a refresh, a late prediction): each attempt finds
    // the word anew, comes from off the editor, and gives the hover a few seconds.
    for (;;) {
      await this.markLines();
      const token = this.editor.locator(`.view-line[data-dcl-line="${line}"] span span`, { hasText: word }).first();
      await token.waitFor({ timeout: Math.max(1, deadline - Date.now()) });
      const box = await token.boundingBox();
      if (box === null) throw new Error(`line ${line}: "${word}" is not on screen`);
      const part = await this.page.locator('.part.editor').boundingBox();
      await this.page.mouse.move(box.x, Math.max(0, (part?.y ?? 40) - 20));
      await this.page.mouse.move(box.x + Math.min(box.width / 2, 8), box.y + box.height / 2, { steps: 2 });
      const left = deadline - Date.now();
      try {
        await widget.waitFor({ timeout: Math.max(1, Math.min(5_000, left)) });
        return widget;
      } catch (e) {
        if (Date.now() >= deadline) throw e;
      }
    }
  }

  /**
   * A screenshot to test-output/e2e/NAME.png (or `file`): the page, one element (`of`), or a
   * rectangle of the page (`clip`); returns its path.
   */
  async screenshot(name: string, opts: { of?: Locator; clip?: { x: number; y: number; width: number; height: number }; file?: string } = {}): Promise<string> {
    const file = opts.file ?? path.join(OUT_DIR, `${name}.png`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    if (opts.of !== undefined) await opts.of.screenshot({ path: file });
    else await this.page.screenshot({ path: file, ...(opts.clip === undefined ? {} : { clip: opts.clip }) });
    return file;
  }

  async close(): Promise<void> {
    await this.browser.close();
  }
}
