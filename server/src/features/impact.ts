/**
 * "Compare Cache with Branch…" and the status bar's "since main": impact for an open Dockerfile,
 * with its settings (target, build args, platform, context) as the one configuration. Reads the
 * saved files: the working tree is what git and a build see.
 */

import type { CacheLensSettings, ImpactParams, ImpactResult } from '../../../shared/src/protocol';
import { ManifestStore } from '../cache/manifest';
import { historyOf } from '../cache/predictor';
import type { BuildConfig } from '../cache/types';
import { GitError } from '../git/gitCli';
import { formatMarkdown } from '../impact/format';
import { runImpact } from '../impact/runImpact';

export async function documentImpact(params: ImpactParams, settings: CacheLensSettings, config: BuildConfig, mergeOps: boolean): Promise<ImpactResult> {
  try {
    const known = await new ManifestStore(settings.manifestDirectory === '' ? undefined : settings.manifestDirectory).knownKeys(config.builder, 'buildkit');
    const name = config.target === undefined ? 'default' : `--target ${config.target}`;
    const { report } = await runImpact({
      context: config.context, dockerfile: config.dockerfile, base: params.base, head: params.head,
      configs: [{ name, target: config.target, buildArgs: config.buildArgs, platform: config.platform }],
      history: historyOf(known), mergeOps,
    });
    return { ok: true, report, markdown: formatMarkdown(report) };
  } catch (e) {
    if (e instanceof GitError) return { ok: false, kind: e.kind, message: e.message };
    return { ok: false, kind: 'failed', message: e instanceof Error ? e.message : String(e) };
  }
}
