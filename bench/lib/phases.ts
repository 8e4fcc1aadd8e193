/**
 * `Predictor.run(config, text, {snapshot})` taken apart, call for call (server/src/cache/
 * predictor.ts), so each part can be timed: parse, the planner's first pass (image references
 * only, without the context), the second pass (context selections through `selectSources`, which
 * remembers them per snapshot and carries the unaffected ones to a patched snapshot; on a new
 * snapshot the first selection also makes or patches the snapshot's index), the manifest reads,
 * the history (known steps sorted once per known-keys map) and the comparison. Keep in step with
 * Predictor.run: the benchmarks compare this replica's total with Predictor.run's and say so when
 * they drift apart.
 */
import { parse } from '../../server/src/parser';
import type { ContextSnapshot } from '../../server/src/cache/contextHash';
import { planLegacyBuild } from '../../server/src/cache/legacySteps';
import type { ManifestStore } from '../../server/src/cache/manifest';
import { predict } from '../../server/src/cache/predict';
import { contextSelector, historyOf } from '../../server/src/cache/predictor';
import { planBuild } from '../../server/src/cache/steps';
import type { BuildConfig } from '../../server/src/cache/types';
import { standInImages } from './suite';

export interface PhaseTimes {
  parse: number;
  /** First planner pass: image references only. */
  planRefs: number;
  /** Second planner pass, with the images and the context (on a new snapshot: its index, the selections not carried over). */
  plan: number;
  /** ManifestStore.load: this configuration's recorded builds. */
  load: number;
  /** ManifestStore.knownKeys: every recorded key of the builder. */
  knownKeys: number;
  /** The known steps newest first (Predictor.run's historyOf). */
  history: number;
  /** predict(), with the file lists of recorded steps to explain a miss. */
  predict: number;
  total: number;
}

export async function phasedRun(store: ManifestStore, config: BuildConfig, text: string, snapshot: ContextSnapshot): Promise<PhaseTimes> {
  const t0 = performance.now();
  const ast = parse(text);
  const t1 = performance.now();
  const planOptions = {
    target: config.target,
    buildArgs: config.buildArgs,
    platform: config.platform,
    context: contextSelector(snapshot),
    mergeOps: false,
    pull: false,
    imagesUnavailable: undefined,
  };
  const planner = config.engine === 'legacy' ? planLegacyBuild : planBuild;
  const refs = planner(ast, { ...planOptions, context: undefined }).imageRefs;
  const t2 = performance.now();
  const images = await standInImages(refs);
  const t3 = performance.now();
  const plan = planner(ast, { ...planOptions, images: (r) => images.get(r) });
  const t4 = performance.now();
  await store.load(config);
  const t5 = performance.now();
  const known = await store.knownKeys(config.builder, config.engine);
  const t6 = performance.now();
  const history = historyOf(known);
  const t7 = performance.now();
  predict(plan, known, history, { fileList: (ref) => store.fileList(config.builder, ref) });
  const t8 = performance.now();
  return { parse: t1 - t0, planRefs: t2 - t1, plan: t4 - t3, load: t5 - t4, knownKeys: t6 - t5, history: t7 - t6, predict: t8 - t7, total: t8 - t0 };
}

export const PHASE_LABELS: Record<Exclude<keyof PhaseTimes, 'total'>, string> = {
  parse: 'parse',
  planRefs: 'plan, 1st pass (image references only, no context)',
  plan: 'plan, 2nd pass (context selections via selectSources, memoized per snapshot)',
  load: 'ManifestStore.load (parsed file reused while size, mtime and inode are unchanged)',
  knownKeys: 'ManifestStore.knownKeys (the same map while no manifest changed)',
  history: 'history: known steps newest first (sorted once per map)',
  predict: 'predict (compare keys; a miss\'s reason may list the selection and the recorded file list)',
};

/** Runs `fn` `runs` times, or fewer (at least `min`) once `budgetMs` is spent. Returns how many ran. */
export async function repeat(runs: number, min: number, budgetMs: number, fn: (i: number) => Promise<void>): Promise<number> {
  const start = performance.now();
  let i = 0;
  while (i < runs && (i < min || performance.now() - start < budgetMs)) await fn(i++);
  return i;
}
