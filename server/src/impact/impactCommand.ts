/**
 * `dockerfile-cache-lens impact`: which steps a git change makes rerun, for each configuration,
 * as a table, JSON or Markdown; `--fail-on` for CI.
 */

import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { probeDocker } from '../build/docker';
import { ManifestStore, type KnownStep } from '../cache/manifest';
import { historyOf } from '../cache/predictor';
import { EXIT } from '../exitCodes';
import { GitError, type GitErrorKind } from '../git/gitCli';
import { formatMarkdown, formatTable } from './format';
import { matchesStep, type ImpactConfig } from './impact';
import { runImpact } from './runImpact';
import { buildArgsOf } from '../buildArgFlags';

type Out = NodeJS.WritableStream;

export const IMPACT_USAGE = `  impact [--base REV] [--head REV] [options] [CONTEXT]
                                The cache impact of a git change: for each configuration, the
                                steps whose keys differ between two states of the repository,
                                why, the first to rerun in each stage, and the extra build time
                                from the recorded builds. No build, no Docker needed.
      --base REV               (default: the merge base with origin/HEAD, else main/master)
      --head REV               (default: the working tree)
      --format table|markdown|json   (default table; --json is --format json)
      --fail-on PATTERN        exit ${EXIT.rerun} when a step whose instruction or name contains
                               PATTERN (or matches /REGEX/) reruns (repeatable)
      -f, --target (repeatable: one configuration each), --build-arg, --platform, --manifest
                               as for predict
      Exit codes: ${EXIT.rerun} --fail-on matched, ${EXIT.notARepository} not a git repository, ${EXIT.unknownRevision} unknown revision,
      ${EXIT.shallow} shallow clone without the base, ${EXIT.notFound} Dockerfile missing at a revision,
      ${EXIT.submodule} submodule without its objects.
`;

const EXIT_OF: Record<GitErrorKind, number> = {
  'no-git': EXIT.notARepository,
  'not-a-repository': EXIT.notARepository,
  'unknown-revision': EXIT.unknownRevision,
  'shallow': EXIT.shallow,
  'missing-file': EXIT.notFound,
  'submodule': EXIT.submodule,
  'failed': EXIT.problems,
};

export function exitCodeOf(kind: GitErrorKind): number {
  return EXIT_OF[kind];
}

/** The configurations the flags describe: one per --target (or the default stage). */
export function configsFromFlags(targets: readonly string[] | undefined, buildArgs: Record<string, string>, platform: string | undefined): ImpactConfig[] {
  const list = targets === undefined || targets.length === 0 ? [undefined] : targets;
  return list.map((t) => ({ name: t === undefined ? 'default' : `--target ${t}`, target: t, buildArgs, platform }));
}

/** Recorded durations of the builder Docker would use; none (and why) when it cannot be asked. */
async function recordedHistory(manifestDir: string | undefined): Promise<{ history: readonly KnownStep[]; mergeOps: boolean; note: string | undefined }> {
  const info = await probeDocker(process.env);
  if (!info.ok) return { history: [], mergeOps: false, note: `no recorded durations: ${info.problem.message}` };
  const known = await new ManifestStore(manifestDir).knownKeys(info.builder, 'buildkit');
  return { history: historyOf(known), mergeOps: info.mergeOps, note: undefined };
}

export async function impactCommand(rest: string[], out: Out, err: Out): Promise<number> {
  let values: {
    base?: string; head?: string; file?: string; target?: string[]; 'build-arg'?: string[]; platform?: string; manifest?: string;
    json?: boolean; format?: string; 'fail-on'?: string[]; help?: boolean;
  };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        base: { type: 'string' }, head: { type: 'string' }, file: { type: 'string', short: 'f' },
        target: { type: 'string', multiple: true }, 'build-arg': { type: 'string', multiple: true }, platform: { type: 'string' },
        manifest: { type: 'string' }, json: { type: 'boolean' }, format: { type: 'string' }, 'fail-on': { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    err.write(`dockerfile-cache-lens impact: ${e instanceof Error ? e.message : String(e)}\n\n${IMPACT_USAGE}`);
    return EXIT.usage;
  }
  if (values.help === true) {
    out.write(`Usage: dockerfile-cache-lens\n${IMPACT_USAGE}`);
    return EXIT.ok;
  }
  const format = values.json === true ? 'json' : values.format ?? 'table';
  if (format !== 'table' && format !== 'markdown' && format !== 'json') {
    err.write(`dockerfile-cache-lens impact: --format must be table, markdown or json, not ${format}\n`);
    return EXIT.usage;
  }
  for (const p of values['fail-on'] ?? []) {
    try {
      matchesStep(p, { vertex: '', text: '' });
    } catch (e) {
      err.write(`dockerfile-cache-lens impact: --fail-on ${p}: ${e instanceof Error ? e.message : String(e)}\n`);
      return EXIT.usage;
    }
  }
  const context = path.resolve(positionals[0] ?? '.');
  const dockerfile = path.resolve(values.file ?? path.join(context, 'Dockerfile'));
  const configs = configsFromFlags(values.target, buildArgsOf(values['build-arg']), values.platform === '' ? undefined : values.platform);
  const recorded = await recordedHistory(values.manifest);
  let run;
  try {
    run = await runImpact({ context, dockerfile, base: values.base, head: values.head, configs, history: recorded.history, mergeOps: recorded.mergeOps });
  } catch (e) {
    if (e instanceof GitError) {
      err.write(`dockerfile-cache-lens impact: ${e.message}\n`);
      return exitCodeOf(e.kind);
    }
    throw e;
  }
  const { report } = run;
  if (recorded.note !== undefined) report.notes.push(recorded.note);
  if (format === 'json') out.write(JSON.stringify(report, null, 2) + '\n');
  else out.write(format === 'markdown' ? formatMarkdown(report) : formatTable(report));
  if (format !== 'json') for (const n of report.notes) err.write(`dockerfile-cache-lens impact: ${n}\n`);
  const patterns = values['fail-on'] ?? [];
  const hits = report.configurations.flatMap((c) => c.steps.filter((s) => s.prediction === 'miss' && patterns.some((p) => matchesStep(p, s))).map((s) => `${c.name}: ${s.vertex} (${s.reason})`));
  if (hits.length > 0) {
    for (const h of hits) err.write(`dockerfile-cache-lens impact: --fail-on: reruns: ${h}\n`);
    return EXIT.rerun;
  }
  return EXIT.ok;
}
