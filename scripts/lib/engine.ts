/**
 * The private Docker engine (scripts/engine.sh, see scripts/README-engine.md) as TypeScript sees
 * it: its commands and the environment that points docker at it. Shared by the tests and npm start.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const ENGINE_SH = path.join(__dirname, '..', 'engine.sh');

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

/** `engine.sh ARGS`: its stdout; rejects with its output after `timeoutMs` or on failure. */
export async function engineSh(args: string[], timeoutMs = 600_000, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const { stdout } = await run(ENGINE_SH, args, { maxBuffer: 16 * 1024 * 1024, timeout: timeoutMs, env });
  return stdout;
}
