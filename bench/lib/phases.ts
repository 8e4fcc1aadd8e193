/**
 * `Predictor.run(config, text, {snapshot})` taken apart, call for call (server/src/cache/
 * predictor.ts), so each part can be timed: parse, the planner's first pass (image references
 * only, without the context), the second pass (context selections, memoized per snapshot; on a
 * new snapshot the first selection also builds the snapshot's index), the manifest reads, and the
 * comparison. Keep in step with Predictor.run: the benchmarks compare this replica's total with
 * Predictor.run's and say so when they drift apart.
 *
 * With `fix`, prototypes of what the report proposes on top (not in the server): selections kept
 * in the fix's own memo (so they can be carried to a patched snapshot), optionally without their
 * file lists (built lazily, only to explain a miss or to record a build), and the manifests
 * parsed once and held.
 */
import { parse } from '../../server/src/parser';
import { selectSources, type ContextSnapshot, type SourceSelection } from '../../server/src/cache/contextHash';
import type { KnownStep, ManifestStore } from '../../server/src/cache/manifest';
import { predict } from '../../server/src/cache/predict';
import { planBuild } from '../../server/src/cache/steps';
import type { BuildConfig, StepRecord } from '../../server/src/cache/types';
import { standInImages } from './suite';

/** Selections per snapshot, as Predictor.run memoizes them. */
const todayMemo = new WeakMap<ContextSnapshot, Map<string, SourceSelection>>();

export interface PhaseTimes {
  parse: number;
  /** First planner pass: image references only. */
  planRefs: number;
  /** Second planner pass, with the images and the context (on a new snapshot: its index, every selection). */
  plan: number;
  /** ManifestStore.load: this configuration's recorded builds. */
  load: number;
  /** ManifestStore.knownKeys: every recorded key of the builder. */
  knownKeys: number;
  predict: number;
  total: number;
}

export interface Fix {
  /** Selections by (sources, options), for one snapshot (or carried to a patched one). */
  memo: Map<string, SourceSelection>;
  /** Selections without their file lists. */
  lazyFiles: boolean;
  /** Parse the manifests once and keep them (what a cache keyed by file size + mtime gives). */
  cacheManifests: boolean;
  manifests: { known: Map<string, KnownStep>; history: StepRecord[] } | undefined;
}

export function newFix(cacheManifests: boolean, lazyFiles: boolean): Fix {
  return { memo: new Map(), lazyFiles, cacheManifests, manifests: undefined };
}

export async function phasedRun(store: ManifestStore, config: BuildConfig, text: string, snapshot: ContextSnapshot, fix?: Fix): Promise<PhaseTimes> {
  const t0 = performance.now();
  const ast = parse(text);
  const t1 = performance.now();
  let memo = fix?.memo ?? todayMemo.get(snapshot);
  if (memo === undefined) todayMemo.set(snapshot, (memo = new Map<string, SourceSelection>()));
  const held = memo;
  const select = (sources: readonly string[], o: { excludes: readonly string[]; parents: boolean; literal?: boolean }): SourceSelection => {
    const key = JSON.stringify([sources, o.excludes, o.parents, o.literal ?? false]);
    let hit = held.get(key);
    if (hit === undefined) {
      const s = selectSources(snapshot, sources, { ...o, followNestedLinks: true });
      hit = fix?.lazyFiles === true ? { ...s, files: [] } : s;
      held.set(key, hit);
    }
    return hit;
  };
  const planOptions = {
    target: config.target,
    buildArgs: config.buildArgs,
    platform: config.platform,
    context: select,
    mergeOps: false,
    pull: false,
    imagesUnavailable: undefined,
  };
  const refs = planBuild(ast, { ...planOptions, context: undefined }).imageRefs;
  const t2 = performance.now();
  const images = await standInImages(refs);
  const t3 = performance.now();
  const plan = planBuild(ast, { ...planOptions, images: (r) => images.get(r) });
  const t4 = performance.now();
  if (fix?.manifests === undefined) await store.load(config);
  const t5 = performance.now();
  let known: Map<string, KnownStep>;
  let history: StepRecord[];
  if (fix?.manifests !== undefined) {
    ({ known, history } = fix.manifests);
  } else {
    known = await store.knownKeys(config.builder, config.engine);
    history = [...known.values()].sort((a, b) => b.time.localeCompare(a.time));
    if (fix?.cacheManifests === true) fix.manifests = { known, history };
  }
  const t6 = performance.now();
  predict(plan, known, history);
  const t7 = performance.now();
  return { parse: t1 - t0, planRefs: t2 - t1, plan: t4 - t3, load: t5 - t4, knownKeys: t6 - t5, predict: t7 - t6, total: t7 - t0 };
}

export const PHASE_LABELS: Record<Exclude<keyof PhaseTimes, 'total'>, string> = {
  parse: 'parse',
  planRefs: 'plan, 1st pass (image references only, no context)',
  plan: 'plan, 2nd pass (context selections, memoized per snapshot)',
  load: 'ManifestStore.load (read + JSON.parse this config\'s builds)',
  knownKeys: 'ManifestStore.knownKeys (read + JSON.parse every manifest of the builder)',
  predict: 'predict (compare keys)',
};

/** The fix carried to a snapshot patched at `rel` (a content change: the same paths), without the selections that read it. */
export function carryFix(fix: Fix, rel: string): Fix {
  const memo = new Map<string, SourceSelection>();
  for (const [k, v] of fix.memo) {
    // With lazy file lists the prototype cannot tell which selections read the file: it drops the
    // ones whose sources could reach it (a prefix test, as an index of selections by path would).
    if (fix.lazyFiles ? !mayRead(k, rel) : !v.files.some((f) => f.path === rel)) memo.set(k, v);
  }
  return { ...fix, memo };
}

/** Whether a selection key's sources may include `rel` (`.`, a parent folder, a wildcard above it). */
function mayRead(key: string, rel: string): boolean {
  const parsed: unknown = JSON.parse(key);
  const sources = Array.isArray(parsed) && Array.isArray(parsed[0]) ? (parsed[0] as unknown[]) : [];
  return sources.some((s) => {
    if (typeof s !== 'string') return true;
    const clean = s.replace(/^\.?\/+/, '').replace(/\/+$/, '');
    const fixed = clean.split(/[*?[]/)[0] ?? '';
    const dir = fixed.includes('/') ? fixed.slice(0, fixed.lastIndexOf('/')) : '';
    return clean === '' || clean === '.' || rel === clean || rel.startsWith(clean + '/') || (fixed !== clean && rel.startsWith(dir));
  });
}

/** Runs `fn` `runs` times, or fewer (at least `min`) once `budgetMs` is spent. Returns how many ran. */
export async function repeat(runs: number, min: number, budgetMs: number, fn: (i: number) => Promise<void>): Promise<number> {
  const start = performance.now();
  let i = 0;
  while (i < runs && (i < min || performance.now() - start < budgetMs)) await fn(i++);
  return i;
}
