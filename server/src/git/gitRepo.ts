/**
 * A repository and its revisions as git resolves them: the top level, commits, the default
 * branch's merge base, and whether a missing revision is missing because the clone is shallow.
 */

import * as path from 'node:path';
import { git, GitError } from './gitCli';

export interface Repo {
  /** The working tree's top level (absolute). */
  root: string;
  /** `git rev-parse --git-common-dir`, absolute (submodules live under its `modules/`). */
  commonDir: string;
  shallow: boolean;
}

export async function openRepo(dir: string): Promise<Repo> {
  const r = await git(dir, ['rev-parse', '--show-toplevel', '--git-common-dir', '--is-shallow-repository']);
  if (r.code !== 0) {
    throw new GitError('not-a-repository', `${dir} is not in a git repository (impact compares two revisions of one; run it inside a clone)`);
  }
  const [root = '', common = '', shallow = ''] = r.stdout.toString('utf8').split('\n');
  return { root, commonDir: path.resolve(dir, common), shallow: shallow.trim() === 'true' };
}

/** The commit a revision names, or a GitError saying why there is none. */
export async function resolveCommit(repo: Repo, rev: string, role: string): Promise<string> {
  const r = await git(repo.root, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`]);
  const sha = r.stdout.toString('utf8').trim();
  if (r.code === 0 && /^[0-9a-f]{40,64}$/.test(sha)) return sha;
  if (repo.shallow) {
    throw new GitError('shallow', `${role} revision ${rev} is not in this shallow clone; fetch its history first (git fetch --unshallow, or fetch-depth: 0 in actions/checkout)`);
  }
  throw new GitError('unknown-revision', `unknown ${role} revision: ${rev}`);
}

export interface DefaultBase {
  /** The commit compared against. */
  commit: string;
  /** How it was found, for the user: `merge base with origin/main`. */
  description: string;
  /** The branch used (origin/HEAD's target, main or master). */
  branch: string;
}

/** Which of origin/HEAD, main, master (local, then origin's) exists first. */
async function defaultBranch(repo: Repo): Promise<string | undefined> {
  const head = await git(repo.root, ['symbolic-ref', '--quiet', 'refs/remotes/origin/HEAD']);
  const target = head.stdout.toString('utf8').trim();
  if (head.code === 0 && target !== '') return target.replace(/^refs\/remotes\//, '');
  for (const b of ['refs/heads/main', 'refs/heads/master', 'refs/remotes/origin/main', 'refs/remotes/origin/master']) {
    const r = await git(repo.root, ['rev-parse', '--verify', '--quiet', `${b}^{commit}`]);
    if (r.code === 0) return b.replace(/^refs\/(heads|remotes)\//, '');
  }
  return undefined;
}

/** The merge base of HEAD (or `head`) with the default branch. */
export async function defaultBase(repo: Repo, head: string): Promise<DefaultBase> {
  const branch = await defaultBranch(repo);
  if (branch === undefined) {
    throw new GitError('unknown-revision', 'no default branch to compare with (neither origin/HEAD, main nor master exists); name one with --base REV');
  }
  const r = await git(repo.root, ['merge-base', branch, head]);
  const sha = r.stdout.toString('utf8').trim();
  if (r.code === 0 && sha !== '') return { commit: sha, branch, description: `merge base with ${branch}` };
  if (repo.shallow) {
    throw new GitError('shallow', `the merge base of ${branch} and ${head} is not in this shallow clone; fetch more history (git fetch --unshallow, or fetch-depth: 0 in actions/checkout) or name --base`);
  }
  throw new GitError('unknown-revision', `${branch} and ${head} have no common ancestor; name one with --base REV`);
}
