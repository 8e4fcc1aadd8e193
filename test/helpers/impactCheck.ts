/**
 * The differential check of `impact`: after each build of a differential scenario, the scenario's
 * context is committed (to a git directory outside it, so the build context gains no `.git`), and
 * `impact --base BEFORE --head AFTER` must list exactly the steps BuildKit rebuilt when it built
 * AFTER with BEFORE in its cache.
 *
 * What the comparison allows, each said in the finding's kind:
 * - an edit git cannot see (an empty directory, an mtime, a mode bit other than x, a base image
 *   tag moved in the engine) leaves the two commits' trees equal: impact must then list nothing,
 *   and BuildKit's reruns are not the change's;
 * - an edit that changes the configuration (--build-arg, --target, --platform) is no git change:
 *   not compared; nor are builds with `--no-cache-filter` (that stage reruns whatever changed);
 * - a step impact lists as rerunning that BuildKit took from its cache, when `predict` (which
 *   knows every earlier build, not only BEFORE) said hit: BuildKit held it from an older state
 *   (a revert).
 * - `unknown` from impact only where predict said unknown too.
 */

import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { EditResult, StepRow } from './differential';

export interface ImpactFinding {
  scenario: string;
  edit: string;
  /** What disagreed, one line each. */
  problems: string[];
}

export interface ImpactEditOutcome {
  scenario: string;
  edit: string;
  compared: boolean;
  /** Why not compared, or what was allowed. */
  note: string | undefined;
  problems: string[];
}

interface ImpactJsonStep { vertex: string; prediction: 'miss' | 'unknown'; reason: string }
interface ImpactJson { configurations: Array<{ steps: ImpactJsonStep[] }> }

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, cwd, maxBuffer: 64 << 20, timeout: 120_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

interface State {
  commit: string;
  tree: string;
  config: string;
}

/** One scenario's commits and comparisons. */
export class ScenarioImpact {
  private lastBuilt: State | undefined;
  private readonly gitEnv: NodeJS.ProcessEnv;

  constructor(
    private readonly check: ImpactCheck,
    private readonly scenario: string,
    private readonly dir: string,
    gitDir: string,
    private readonly buildFlags: readonly string[],
  ) {
    this.gitEnv = {
      ...check.env, GIT_DIR: gitDir, GIT_WORK_TREE: dir,
      GIT_AUTHOR_NAME: 'impact', GIT_AUTHOR_EMAIL: 'impact@example.invalid', GIT_COMMITTER_NAME: 'impact', GIT_COMMITTER_EMAIL: 'impact@example.invalid',
    };
  }

  private async git(args: string[]): Promise<string> {
    const r = await run('git', args, this.gitEnv, this.dir);
    if (r.code !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  }

  /** Commits the context as it is now. */
  private async commit(message: string): Promise<{ commit: string; tree: string }> {
    await this.git(['add', '-A', '--', '.']);
    await this.git(['commit', '-q', '--allow-empty', '--no-verify', '-m', message]);
    return { commit: await this.git(['rev-parse', 'HEAD']), tree: await this.git(['rev-parse', 'HEAD^{tree}']) };
  }

  /**
   * After one step of the harness (the initial build or an edit): commit, and compare impact from
   * the last built state with what BuildKit did.
   */
  async state(r: EditResult, ws: { dockerfilePath: string; platform: string | undefined }): Promise<ImpactEditOutcome | undefined> {
    if (r.error !== undefined) return undefined;
    const { commit, tree } = await this.commit(`${r.index}: ${r.edit}`);
    const config = JSON.stringify([r.buildArgs, r.target ?? null, ws.platform ?? null]);
    const before = this.lastBuilt;
    if (!r.predictOnly) this.lastBuilt = { commit, tree, config };
    if (before === undefined || r.predictOnly) return undefined;
    const outcome: ImpactEditOutcome = { scenario: this.scenario, edit: r.edit, compared: false, note: undefined, problems: [] };
    this.check.outcomes.push(outcome);
    if (before.config !== config) {
      outcome.note = 'the configuration changed (build args, target or platform): not a git change';
      return outcome;
    }
    if (this.buildFlags.includes('--no-cache-filter')) {
      // That stage reruns on every build, whatever changed: BuildKit's reruns are not the change's.
      outcome.note = 'built with --no-cache-filter: not compared';
      return outcome;
    }
    const args = [this.check.cli, 'impact', '--base', before.commit, '--head', commit, '-f', path.join(this.dir, ws.dockerfilePath), '--json', '--manifest', this.check.manifestDir];
    if (r.target !== undefined) args.push('--target', r.target);
    if (ws.platform !== undefined) args.push('--platform', ws.platform);
    for (const [k, v] of Object.entries(r.buildArgs)) args.push('--build-arg', `${k}=${v}`);
    args.push(this.dir);
    const p = await run(process.execPath, args, this.gitEnv, this.dir);
    if (p.code !== 0) {
      outcome.problems.push(`impact exited ${p.code}: ${p.stderr.trim().split('\n').slice(-3).join(' / ')}`);
      return outcome;
    }
    const report = JSON.parse(p.stdout) as ImpactJson;
    const listed = new Map((report.configurations[0]?.steps ?? []).map((s) => [s.vertex, s]));
    outcome.compared = true;
    outcome.problems.push(...compareImpact(listed, r.rows, before.tree === tree));
    if (before.tree === tree) outcome.note = 'git sees no change (equal trees)';
    return outcome;
  }
}

/** Disagreements between impact's listed steps and the harness's rows (what BuildKit did, what predict said). */
export function compareImpact(listed: ReadonlyMap<string, ImpactJsonStep>, rows: readonly StepRow[], sameTree: boolean): string[] {
  const problems: string[] = [];
  if (sameTree) {
    for (const s of listed.values()) problems.push(`equal trees, yet impact lists ${s.vertex} (${s.reason})`);
    return problems;
  }
  const seen = new Set<string>();
  for (const row of rows) {
    // FROM is resolved on every build; unnamed or unprinted vertices are the differential suite's to report.
    if (row.outcome === 'base-image' || row.outcome === 'skipped' || row.actual === undefined || row.prediction === undefined) continue;
    seen.add(row.vertex);
    const s = listed.get(row.vertex);
    if (row.actual === 'miss') {
      if (s === undefined) problems.push(`FALSE HIT: BuildKit rebuilt ${row.vertex}, impact does not list it`);
      else if (s.prediction === 'unknown' && row.prediction !== 'unknown') problems.push(`impact says unknown (${s.reason}) where predict said ${row.prediction}: ${row.vertex}`);
    } else if (s !== undefined) {
      if (s.prediction === 'unknown') {
        if (row.prediction !== 'unknown') problems.push(`impact says unknown (${s.reason}) where predict said ${row.prediction}: ${row.vertex}`);
      } else if (row.prediction !== 'hit') {
        problems.push(`false miss: impact lists ${row.vertex} (${s.reason}), BuildKit used its cache`);
      }
      // predict hit + BuildKit cached + impact miss: BuildKit held the step from an older state than BEFORE.
    }
  }
  for (const s of listed.values()) if (!seen.has(s.vertex) && !rows.some((r) => r.vertex === s.vertex)) problems.push(`impact lists ${s.vertex}, which predict does not name`);
  return problems;
}

/** The check across a differential run: one git directory per scenario under `root`. */
export class ImpactCheck {
  readonly outcomes: ImpactEditOutcome[] = [];
  readonly cli: string;

  constructor(readonly env: NodeJS.ProcessEnv, private readonly root: string, readonly manifestDir: string, repo: string) {
    this.cli = path.join(repo, 'dist', 'cli.js');
  }

  /** `buildFlags`: the scenario's own build flags, the same on every build (`--no-cache-filter …`). */
  async scenario(name: string, dir: string, buildFlags: readonly string[] = []): Promise<ScenarioImpact> {
    const gitDir = fs.mkdtempSync(path.join(this.root, 'git-'));
    const r = await run('git', ['init', '-q', '--bare', '-b', 'main', gitDir], this.env);
    if (r.code !== 0) throw new Error(`git init: ${r.stderr}`);
    // A bare directory used with a work tree: core.bare off so that add/commit work.
    await run('git', ['--git-dir', gitDir, 'config', 'core.bare', 'false'], this.env);
    return new ScenarioImpact(this, name, dir, gitDir, buildFlags);
  }

  problems(scenario?: string): ImpactFinding[] {
    return this.outcomes.filter((o) => o.problems.length > 0 && (scenario === undefined || o.scenario === scenario))
      .map((o) => ({ scenario: o.scenario, edit: o.edit, problems: o.problems }));
  }
}

/** What the check did, for the record (test-output/impact-check.json). */
export function writeImpactReport(check: ImpactCheck, file: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const compared = check.outcomes.filter((o) => o.compared);
  fs.writeFileSync(file, JSON.stringify({
    edits: check.outcomes.length, compared: compared.length, withProblems: check.outcomes.filter((o) => o.problems.length > 0).length, outcomes: check.outcomes,
  }, null, 2) + '\n');
}
