/**
 * The private test engine (scripts/engine.sh, see scripts/README-engine.md) for tests that build
 * real images: start it (idempotent) and get the environment that points docker at it.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const ENGINE_SH = path.join(__dirname, '..', '..', 'scripts', 'engine.sh');

/** Applies the `export K=V` / `unset K` lines `engine.sh env` prints to a copy of `base`. */
export function parseEngineEnv(text: string, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const line of text.split('\n')) {
    const exp = /^export ([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (exp?.[1] !== undefined) {
      const raw = exp[2] ?? '';
      env[exp[1]] = /^'.*'$|^".*"$/.test(raw) ? raw.slice(1, -1) : raw;
      continue;
    }
    const unset = /^unset (.+)$/.exec(line.trim());
    if (unset?.[1] !== undefined) for (const name of unset[1].split(/\s+/)) delete env[name];
  }
  return env;
}

async function engine(...args: string[]): Promise<string> {
  const { stdout } = await run(ENGINE_SH, args, { maxBuffer: 16 * 1024 * 1024, timeout: 600_000 });
  return stdout;
}

/** Starts the main engine if needed (never stops it: other tests share it); its environment. */
export async function startEngine(): Promise<NodeJS.ProcessEnv> {
  await engine('start');
  return parseEngineEnv(await engine('env'));
}

/** Starts an engine.sh profile (`28`, `28-containerd`, ...: its own instance) and returns its environment. */
export async function startProfile(profile: string): Promise<NodeJS.ProcessEnv> {
  return parseEngineEnv(await engine('start', profile));
}

/** A second engine on tcp://127.0.0.1:PORT, standing in for a remote one; stop it with stopTcpEngine. */
export async function startTcpEngine(port: number): Promise<NodeJS.ProcessEnv> {
  await engine('tcp', String(port));
  return { ...parseEngineEnv(await engine('env', 'tcp')), DOCKER_HOST: `tcp://127.0.0.1:${port}` };
}

export async function stopTcpEngine(): Promise<void> {
  await engine('stop-tcp');
}
