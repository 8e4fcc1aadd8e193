/**
 * Impact end to end, for the CLI and the language server alike: find the repository and the two
 * revisions, read both states, compare them for each configuration, and give a report.
 */

import * as fs from 'node:fs';
import type { ImpactConfigurationInfo, ImpactReport } from '../../../shared/src/protocol';
import type { ContextHasher } from '../cache/contextHash';
import type { KnownStep } from '../cache/manifest';
import { GitError } from '../git/gitCli';
import { defaultBase, openRepo, resolveCommit } from '../git/gitRepo';
import { baseAgainstWorkingTree, BlobCache, layout, revisionState, workingTreeState, type State } from './gitStates';
import { impactOf, type ConfigImpact, type ImpactConfig } from './impact';

export interface ImpactRequest {
  context: string;
  dockerfile: string;
  base: string | undefined;
  head: string | undefined;
  configs: readonly ImpactConfig[];
  /** Recorded steps of the builder (newest first), for durations; empty without them. */
  history: readonly KnownStep[];
  mergeOps: boolean;
  /** For the working tree: a hasher kept by the caller between requests (the editor), so unchanged files are not read again. */
  hasher?: (context: string, dockerfile: string) => ContextHasher;
}

export interface ImpactRun {
  report: ImpactReport;
  impacts: ConfigImpact[];
  /** Blobs read from git for this comparison (each once). */
  blobsRead: number;
}

function seconds(ms: number | undefined): number | null {
  return ms === undefined ? null : Math.round(ms / 100) / 10;
}

function short(sha: string): string {
  return sha.slice(0, 12);
}

export function configInfo(c: ConfigImpact): ImpactConfigurationInfo {
  return {
    name: c.config.name,
    target: c.config.target ?? null,
    buildArgs: c.config.buildArgs,
    platform: c.config.platform ?? null,
    total: c.total,
    steps: c.steps.map(({ estimatedMs, ...s }) => ({ ...s, estimatedSeconds: seconds(estimatedMs) })),
    estimatedSeconds: seconds(c.estimatedMs) ?? 0,
    unmeasured: c.unmeasured,
    problems: c.problems,
  };
}

export async function runImpact(req: ImpactRequest): Promise<ImpactRun> {
  const repo = await openRepo(req.context);
  const l = layout(repo, req.context, req.dockerfile);
  const headCommit = req.head === undefined ? undefined : await resolveCommit(repo, req.head, 'head');
  let baseCommit: string;
  let how: string;
  let branch: string | null = null;
  if (req.base !== undefined) {
    baseCommit = await resolveCommit(repo, req.base, 'base');
    how = `--base ${req.base}`;
  } else {
    const d = await defaultBase(repo, headCommit ?? 'HEAD');
    baseCommit = d.commit;
    how = d.description;
    branch = d.branch;
  }
  const baseLabel = req.base ?? `${how} (${short(baseCommit)})`;
  const cache = new BlobCache();
  let head: State;
  let base: State;
  if (headCommit === undefined) {
    if (!fs.existsSync(l.dockerfile)) throw new GitError('missing-file', `${l.dockerfilePath} does not exist in the working tree`);
    head = await workingTreeState(l, req.hasher?.(l.context, l.dockerfile));
    base = await baseAgainstWorkingTree(l, baseCommit, baseLabel, head, cache);
  } else {
    head = await revisionState(l, headCommit, req.head ?? headCommit, cache);
    base = await revisionState(l, baseCommit, baseLabel, cache);
  }
  const impacts = req.configs.map((c) => impactOf(base, head, c, { history: req.history, mergeOps: req.mergeOps }));
  const report: ImpactReport = {
    base: { revision: req.base ?? how, commit: baseCommit, how, branch },
    head: { revision: req.head ?? 'working tree', commit: headCommit ?? null },
    dockerfile: l.dockerfilePath,
    context: l.contextPath === '' ? '.' : l.contextPath,
    configurations: impacts.map(configInfo),
    notes: [...new Set([...base.notes, ...head.notes, ...head.snapshot.problems.map((p) => `working tree: ${p}`)])],
  };
  return { report, impacts, blobsRead: cache.blobsRead };
}

export { GitError };
