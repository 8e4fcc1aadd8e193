/**
 * Running the `git` CLI: plumbing commands only, their output read as bytes (paths with `-z`),
 * never text meant for people. Failures carry a kind a caller can turn into a message and an exit
 * code.
 */

import { spawn } from 'node:child_process';

export type GitErrorKind =
  | 'no-git' // the git executable is missing
  | 'not-a-repository'
  | 'unknown-revision'
  | 'shallow' // the revision is beyond a shallow clone's history
  | 'missing-file' // a path does not exist at a revision
  | 'submodule' // a submodule's commit is not in any local repository
  | 'failed';

export class GitError extends Error {
  constructor(readonly kind: GitErrorKind, message: string) {
    super(message);
  }
}

export interface GitRun {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** Bounded: a git command that hangs (a lock, a credential prompt) gives up after this long. */
const TIMEOUT_MS = 120_000;

/**
 * One git command in `cwd`. The environment is inherited (GIT_DIR / GIT_WORK_TREE work as with
 * git itself), with prompts off: nothing here may wait for a person.
 */
export function git(cwd: string, args: readonly string[], input?: string | Buffer): Promise<GitRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['-c', 'core.quotePath=false', ...args], {
      cwd,
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_OPTIONAL_LOCKS: '0', LC_ALL: 'C' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(e.code === 'ENOENT' ? new GitError('no-git', 'git is not installed (or not on PATH)') : e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.on('error', () => undefined); // git may exit before reading all of its input
    child.stdin.end(input ?? '');
  });
}

/** stdout of a command that must succeed. */
export async function gitOk(cwd: string, args: readonly string[], input?: string | Buffer): Promise<Buffer> {
  const r = await git(cwd, args, input);
  if (r.code !== 0) throw new GitError('failed', `git ${args.join(' ')} failed: ${r.stderr.trim()}`);
  return r.stdout;
}

/** NUL-separated fields (output of `-z`), without the empty last one. */
export function splitNul(b: Buffer): string[] {
  const s = b.toString('utf8');
  const parts = s.split('\0');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts;
}
