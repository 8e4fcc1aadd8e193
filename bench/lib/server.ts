/**
 * The bundles: the development build into dist/ (`node scripts/bundle.mjs`, what `npm run build`
 * does after tsc), the production build (`--production`) into a temporary folder so dist/ keeps
 * the development build; and spawning a server bundle to time its `initialize` answer.
 */
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { createProtocolConnection, InitializeRequest, StreamMessageReader, StreamMessageWriter } from 'vscode-languageserver-protocol/node';

import { SERVER_EXEC_ARGV } from '../../shared/src/protocol';

const exec = promisify(execFile);
export const ROOT = path.join(__dirname, '..', '..');
const BUNDLE = path.join(ROOT, 'scripts', 'bundle.mjs');

/** `node scripts/bundle.mjs` in the project: dist/client.js, dist/server.js, dist/cli.js. */
export async function bundleDev(): Promise<string> {
  await exec(process.execPath, [BUNDLE], { cwd: ROOT });
  return path.join(ROOT, 'dist');
}

/** `node scripts/bundle.mjs --production` run in `dir` (sources linked in): dir/dist. */
export async function bundleProduction(dir: string): Promise<string> {
  for (const name of ['client', 'server', 'shared', 'node_modules', 'package.json']) {
    fs.symlinkSync(path.join(ROOT, name), path.join(dir, name));
  }
  await exec(process.execPath, [BUNDLE, '--production'], { cwd: dir });
  return path.join(dir, 'dist');
}

export function hasProductionFlag(): boolean {
  return fs.readFileSync(BUNDLE, 'utf8').includes('--production');
}

/** Milliseconds from spawning `node <server> --stdio` to its answer to `initialize`. */
export async function initializeTime(server: string): Promise<number> {
  const t = performance.now();
  const child = spawn(process.execPath, [...SERVER_EXEC_ARGV, server, '--stdio'], { stdio: ['pipe', 'pipe', 'ignore'] });
  const connection = createProtocolConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  connection.listen();
  try {
    await connection.sendRequest(InitializeRequest.type, { processId: process.pid, rootUri: null, capabilities: {}, workspaceFolders: null });
    return performance.now() - t;
  } finally {
    connection.dispose();
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}

/** Milliseconds of `node -e 0`: what any Node process costs to start. */
export async function nodeStartTime(): Promise<number> {
  const t = performance.now();
  await exec(process.execPath, ['-e', '0']);
  return performance.now() - t;
}

/** VmRSS and VmHWM (peak) of a process, in MB. */
export function memoryOf(pid: number): { rss: number; peak: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: (kb('VmRSS') * 1024) / 1e6, peak: (kb('VmHWM') * 1024) / 1e6 };
}
