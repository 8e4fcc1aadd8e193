/**
 * A real VS Code workbench for end-to-end tests: code-server (installed in test/e2e by
 * scripts/e2e-setup.sh) with a private profile and extensions folder, the packaged extension
 * (dist/dockerfile-cache-lens.vsix, `npm run package`) installed into it, serving one workspace
 * folder on 127.0.0.1. Nothing of the developer's own VS Code or ~/.config is read or written.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const ROOT = path.resolve(__dirname, '..', '..');
export const E2E_DIR = path.join(ROOT, 'test', 'e2e');
export const VSIX = process.env.DCL_E2E_VSIX ?? path.join(ROOT, 'dist', 'dockerfile-cache-lens.vsix');
export const CODE_SERVER = path.join(E2E_DIR, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
export const EXTENSION_ID = 'dockerfile-cache-lens.dockerfile-cache-lens';
export const EXAMPLES = path.join(ROOT, 'examples');

/** A temp copy of examples/<name> (a sample project with a Dockerfile) to serve as the workspace. */
export function copyExample(name = 'node-app'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `dcl-e2e-${name}-`));
  fs.cpSync(path.join(EXAMPLES, name), dir, { recursive: true });
  return dir;
}

/** A temp folder holding `files` (relative path → text) to serve as the workspace. */
export function writeWorkspace(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcl-e2e-files-'));
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

/**
 * Makes a project's build its own: a random `description` in its package.json, so no step from
 * its manifests on is in the (shared) engine's BuildKit cache from other runs. Returns the value.
 */
export function markUnique(dir: string): string {
  const file = path.join(dir, 'package.json');
  const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  const marker = `e2e-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
  pkg.description = marker;
  fs.writeFileSync(file, JSON.stringify(pkg, null, 2) + '\n');
  return marker;
}

export interface CodeServerOptions {
  /** The folder the workbench opens (use copyExample()). */
  workspace: string;
  /** The environment of code-server and so of the extension host and language server (engine env). */
  env?: NodeJS.ProcessEnv;
  /** Leave workspace trust on, so that the folder opens untrusted unless the test trusts it. */
  workspaceTrust?: boolean;
  /** More user settings (merged over the defaults below). */
  settings?: Record<string, unknown>;
}

export interface CodeServer {
  /** The workbench URL with the workspace folder open. */
  readonly url: string;
  readonly workspace: string;
  /** The `dockerfileCacheLens.manifestDirectory` of this profile (recorded builds). */
  readonly manifestDir: string;
  readonly userDataDir: string;
  /** code-server's own output so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

function defaultSettings(manifestDir: string, workspaceTrust: boolean): Record<string, unknown> {
  return {
    'security.workspace.trust.enabled': workspaceTrust,
    'dockerfileCacheLens.manifestDirectory': manifestDir,
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.welcomePage.walkthroughs.openOnInstall': false,
    'workbench.enableExperiments': false,
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.autoUpdate': false,
    'extensions.autoCheckUpdates': false,
    'extensions.ignoreRecommendations': true,
    'chat.commandCenter.enabled': false,
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    'editor.minimap.enabled': false,
    'editor.hover.delay': 100,
    'window.commandCenter': false,
    'git.enabled': false,
    'files.watcherExclude': { '**/node_modules/**': true },
    // Edits stay unsaved until saved (code-server otherwise saves them as they are typed).
    'files.autoSave': 'off',
    // The DOM renderer: the terminal's rows are text in the page (Workbench.terminalText()).
    'terminal.integrated.gpuAcceleration': 'off',
  };
}

/** Runs `code-server --install-extension VSIX` into `extensionsDir` (a separate invocation). */
export async function installExtension(userDataDir: string, extensionsDir: string, config: string, vsix = VSIX): Promise<void> {
  if (!fs.existsSync(vsix)) throw new Error(`${vsix} is missing: run \`npm run package\` first`);
  const { stdout, stderr } = await run(process.execPath, [
    CODE_SERVER, '--config', config, '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir,
    '--install-extension', vsix, '--force',
  ], { timeout: 120_000, maxBuffer: 16 << 20 });
  const out = stdout + stderr;
  if (!/successfully installed/i.test(out)) throw new Error(`installing ${vsix} failed:\n${out}`);
}

/**
 * Starts code-server on 127.0.0.1 (a port the OS picks) with a private profile, the extension
 * installed, and the given workspace; resolves once it listens.
 */
export async function startCodeServer(opts: CodeServerOptions): Promise<CodeServer> {
  if (!fs.existsSync(CODE_SERVER)) throw new Error(`${CODE_SERVER} is missing: run scripts/e2e-setup.sh first`);
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'dcl-e2e-cs-'));
  const userDataDir = path.join(home, 'user-data');
  const extensionsDir = path.join(home, 'extensions');
  const manifestDir = path.join(home, 'manifests');
  const config = path.join(home, 'config.yaml');
  for (const d of [userDataDir, extensionsDir, manifestDir, path.join(userDataDir, 'User')]) fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(config, 'auth: none\n');
  const settings = { ...defaultSettings(manifestDir, opts.workspaceTrust === true), ...opts.settings };
  fs.writeFileSync(path.join(userDataDir, 'User', 'settings.json'), JSON.stringify(settings, null, 2) + '\n');

  await installExtension(userDataDir, extensionsDir, config);

  const env: NodeJS.ProcessEnv = { ...(opts.env ?? process.env) };
  // No XDG_* of the developer's: code-server keeps its own state under the private profile.
  env.XDG_CONFIG_HOME = path.join(home, 'xdg-config');
  env.XDG_DATA_HOME = path.join(home, 'xdg-data');
  delete env.VSCODE_IPC_HOOK_CLI; // when run from a VS Code terminal
  // Else the server replaces PATH by the login shell's, and `docker` (the engine's, on PATH) is lost.
  env.VSCODE_CLI = '1';
  delete env.PORT;
  const child: ChildProcess = spawn(process.execPath, [
    CODE_SERVER, '--config', config, '--bind-addr', '127.0.0.1:0', '--auth', 'none',
    '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir,
    '--disable-telemetry', '--disable-update-check', '--disable-getting-started-override', '--disable-proxy',
    '--ignore-last-opened', opts.workspace,
  ], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  // Its own process group (extension host, language servers, watchers): stopped as a whole, also
  // when the test process ends without stop().
  const killGroup = (signal: NodeJS.Signals): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  const onExit = (): void => killGroup('SIGKILL');
  process.once('exit', onExit);
  let output = '';
  child.stdout?.on('data', (b: Buffer) => { output += b.toString(); });
  child.stderr?.on('data', (b: Buffer) => { output += b.toString(); });

  const origin = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`code-server did not start in 60 s:\n${output}`)), 60_000);
    const onData = (): void => {
      const m = /HTTP server listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (m?.[1] !== undefined) { clearTimeout(timer); resolve(m[1]); }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`code-server exited (${code}):\n${output}`)); });
  }).catch((e: unknown) => {
    killGroup('SIGKILL');
    throw e;
  });

  let stopped = false;
  return {
    url: `${origin}/?folder=${encodeURIComponent(opts.workspace)}`,
    workspace: opts.workspace,
    manifestDir,
    userDataDir,
    log: () => output,
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        killGroup('SIGTERM');
        const timer = setTimeout(() => killGroup('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      killGroup('SIGKILL'); // whatever of the group outlived code-server
      process.removeListener('exit', onExit);
      // DCL_E2E_KEEP=1 keeps the profile (logs under user-data/logs) for a look after a failure.
      if (process.env.DCL_E2E_KEEP === '1') process.stderr.write(`e2e: kept code-server profile ${home}\n`);
      else fs.rmSync(home, { recursive: true, force: true });
    },
  };
}
