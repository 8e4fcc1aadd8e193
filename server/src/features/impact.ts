/**
 * "Compare Cache with Branch…" and the status bar's "since main": impact for an open Dockerfile,
 * with its settings (target, build args, platform, context) as the one configuration. Reads the
 * saved files: the working tree is what git and a build see.
 */

import type { CacheLensSettings, ImpactParams, ImpactResult } from '../../../shared/src/protocol';
import { ContextHasher } from '../cache/contextHash';
import { ManifestStore } from '../cache/manifest';
import { historyOf } from '../cache/predictor';
import type { BuildConfig } from '../cache/types';
import { GitError } from '../git/gitCli';
import { formatMarkdown } from '../impact/format';
import { runImpact } from '../impact/runImpact';

/** Hashers kept per context and Dockerfile (a few), so a save re-reads the files it changed, not the context. */
export class ImpactHashers {
  private readonly hashers = new Map<string, ContextHasher>();

  get(context: string, dockerfile: string): ContextHasher {
    const id = `${context}\0${dockerfile}`;
    let h = this.hashers.get(id);
    if (h === undefined) {
      h = new ContextHasher(context, { dockerfile });
      if (this.hashers.size >= MAX_HASHERS) this.hashers.delete(this.hashers.keys().next().value ?? '');
    } else {
      this.hashers.delete(id);
    }
    this.hashers.set(id, h);
    return h;
  }
}

const MAX_HASHERS = 4;

export async function documentImpact(
  params: ImpactParams, settings: CacheLensSettings, config: BuildConfig, mergeOps: boolean, hashers: ImpactHashers,
): Promise<ImpactResult> {
  try {
    const known = await new ManifestStore(settings.manifestDirectory === '' ? undefined : settings.manifestDirectory).knownKeys(config.builder, 'buildkit');
    const name = config.target === undefined ? 'default' : `--target ${config.target}`;
    const { report } = await runImpact({
      context: config.context, dockerfile: config.dockerfile, base: params.base, head: params.head,
      configs: [{ name, target: config.target, buildArgs: config.buildArgs, platform: config.platform }],
      history: historyOf(known), mergeOps, hasher: (c, d) => hashers.get(c, d),
    });
    return { ok: true, report, markdown: formatMarkdown(report) };
  } catch (e) {
    if (e instanceof GitError) return { ok: false, kind: e.kind, message: e.message };
    return { ok: false, kind: 'failed', message: e instanceof Error ? e.message : String(e) };
  }
}
