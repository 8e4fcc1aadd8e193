/**
 * One end-to-end setup for a test file: the private Docker engine (never stopped: shared), a temp
 * copy of a sample project, code-server with the packaged extension serving it, and chromium
 * showing the workbench. A new scenario is a `test()` using `e2e.wb` (see lenses.test.ts).
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startEngine } from '../../helpers/engine';
import { ROOT, copyExample, markUnique, startCodeServer, writeWorkspace, type CodeServer, type CodeServerOptions } from '../../../scripts/lib/codeServer';
import { Workbench, type OpenOptions } from '../../../scripts/lib/workbench';

export const CLI = path.join(ROOT, 'dist', 'cli.js');

export interface E2E {
  /** The engine's environment (DOCKER_HOST, PATH with its docker), also code-server's. */
  env: NodeJS.ProcessEnv;
  server: CodeServer;
  wb: Workbench;
  /** The workspace folder (a temp copy of the example). */
  workspace: string;
  stop(): Promise<void>;
}

export interface StartOptions extends Partial<Omit<CodeServerOptions, 'env'>> {
  /** Which examples/ project to copy as the workspace (default node-app). */
  example?: string;
  /** Instead of an example: a workspace of these files (relative path → text). */
  files?: Record<string, string>;
  /** Give the copy's package.json a random value (markUnique): its build shares no cache with other runs. */
  unique?: boolean;
  open?: OpenOptions;
  /** Runs after code-server is up and before the browser opens (e.g. a CLI build). */
  beforeOpen?: (server: CodeServer, env: NodeJS.ProcessEnv) => Promise<void>;
}

/** DCL_E2E_TIMING=1: how long each phase of the setup took, on stderr. */
function timing(phase: string, since: number): number {
  if (process.env.DCL_E2E_TIMING === '1') process.stderr.write(`e2e timing: ${phase} ${Date.now() - since} ms\n`);
  return Date.now();
}

export async function startE2E(opts: StartOptions = {}): Promise<E2E> {
  let t = Date.now();
  const env = await startEngine();
  t = timing('engine start/check', t);
  const workspace = opts.workspace ?? (opts.files !== undefined ? writeWorkspace(opts.files) : copyExample(opts.example ?? 'node-app'));
  if (opts.unique === true) markUnique(workspace);
  const cleanup = (): void => {
    if (opts.workspace === undefined) fs.rmSync(workspace, { recursive: true, force: true });
  };
  let server: CodeServer;
  try {
    server = await startCodeServer({ ...opts, workspace, env });
    t = timing('code-server: install extension + start', t);
  } catch (e) {
    cleanup();
    throw e;
  }
  try {
    if (opts.beforeOpen !== undefined) {
      await opts.beforeOpen(server, env);
      t = timing('beforeOpen', t);
    }
    const wb = await Workbench.open(server, opts.open);
    timing('chromium + workbench loaded', t);
    return {
      env, server, wb, workspace,
      async stop() {
        await wb.close();
        await server.stop();
        cleanup();
      },
    };
  } catch (e) {
    await server.stop();
    cleanup();
    throw e;
  }
}

/** Runs the test body; a screenshot `NAME.png` (test-output/e2e/) is taken at the end, pass or fail. */
export async function withScreenshot(wb: Workbench, name: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } finally {
    await wb.screenshot(name).catch(() => undefined);
  }
}

/** `node dist/cli.js ARGS` with the engine's environment; rejects with its output on failure. */
export function cli(env: NodeJS.ProcessEnv, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLI, ...args], { env, maxBuffer: 64 << 20, timeout: 600_000 }, (err, stdout, stderr) => {
      if (err === null) resolve(stdout + stderr);
      else reject(new Error(`dockerfile-cache-lens ${args.join(' ')} failed: ${err.message}\n${stdout}${stderr}`));
    });
  });
}
