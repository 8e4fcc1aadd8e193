/**
 * The prediction engine end to end, shared by the CLI and the language server: hash the context,
 * look up base images, plan the steps, compare with the recorded builds; and after a build, match
 * BuildKit's vertices to the planned steps and record them.
 */

import * as path from 'node:path';
import { parse, type DockerfileAST } from '../parser';
import { ContextHasher, selectSources, type ContextSnapshot } from './contextHash';
import type { KnownStep, ManifestStore } from './manifest';
import { selectionLister } from './selectionFiles';
import { predict, type PredictionResult, type StepPrediction } from './predict';
import { planLegacyBuild } from './legacySteps';
import { planBuild, vertexNames, type BuildPlan, type ContextSelector, type ImageInfo } from './steps';
import type { BuildConfig, BuildRecord, StepRecord, StepResult, VertexResult } from './types';

export type ImageResolver = (refs: readonly string[]) => Promise<Map<string, ImageInfo | undefined>>;

export interface PredictionRun {
  config: BuildConfig;
  ast: DockerfileAST;
  plan: BuildPlan;
  result: PredictionResult;
  snapshot: ContextSnapshot;
  /** Messages for the user: manifest trouble, unreadable context files, an unknown target. */
  problems: string[];
  /** The newest recorded build of this configuration. */
  lastBuild: BuildRecord | undefined;
}

export interface StepComparison {
  prediction: StepPrediction;
  actual: StepResult;
  vertex: VertexResult | undefined;
  /** Predicted hit/miss and BuildKit did otherwise. */
  disagrees: boolean;
}

export interface PredictorOptions {
  store: ManifestStore;
  images: ImageResolver;
  /** Whether the builder's worker supports merge ops (COPY --link independent of its parent). */
  mergeOps?: boolean;
  /** The image store names FROM vertices with the resolved digest (DockerReady.baseNamesPinned). */
  baseNamesPinned?: boolean;
  /** Set when the engine cannot be asked about images: FROM steps are then unknown, for this reason. */
  imagesUnavailable?: string | undefined;
  onHashProgress?: (done: number, total: number) => void;
}

export class Predictor {
  private readonly hashers = new Map<string, ContextHasher>();

  constructor(private readonly options: PredictorOptions) {}

  /** One hasher per context and Dockerfile, so warm runs re-read only changed files. */
  hasher(context: string, dockerfile: string, onProgress?: (done: number, total: number) => void): ContextHasher {
    const id = `${context}\0${dockerfile}`;
    let h = this.hashers.get(id);
    if (h === undefined) {
      const progress = onProgress ?? this.options.onHashProgress;
      h = new ContextHasher(context, { dockerfile, ...(progress === undefined ? {} : { onProgress: progress }) });
      this.hashers.set(id, h);
    }
    return h;
  }

  /** Recorded steps of every build on this builder, newest first (for reasons and rules). */
  async history(config: BuildConfig): Promise<readonly StepRecord[]> {
    return historyOf(await this.options.store.knownKeys(config.builder, config.engine));
  }

  /** `snapshot`: a context snapshot the caller already holds (the language server keeps one between keystrokes). */
  async run(config: BuildConfig, text: string, flags: { pull?: boolean; noCacheFilter?: readonly string[] | undefined; snapshot?: ContextSnapshot | undefined } = {}): Promise<PredictionRun> {
    const ast = parse(text);
    const problems: string[] = [];
    const snapshot = flags.snapshot ?? await this.hasher(config.context, config.dockerfile).snapshot();
    problems.push(...snapshot.problems);
    const planOptions = {
      target: config.target,
      buildArgs: config.buildArgs,
      platform: config.platform,
      context: contextSelector(snapshot),
      mergeOps: this.options.mergeOps ?? false,
      baseNamesPinned: this.options.baseNamesPinned ?? false,
      pull: flags.pull ?? false,
      noCacheFilter: flags.noCacheFilter,
      imagesUnavailable: this.options.imagesUnavailable,
    };
    // First pass only to learn which images the plan needs.
    const planner = config.engine === 'legacy' ? planLegacyBuild : planBuild;
    const refs = planner(ast, { ...planOptions, context: undefined }).imageRefs;
    const images = await this.options.images(refs);
    const plan = planner(ast, { ...planOptions, images: (r) => images.get(r) });
    problems.push(...plan.problems);
    const loaded = await this.options.store.load(config);
    if (loaded.problem !== undefined) problems.push(loaded.problem);
    const known = await this.options.store.knownKeys(config.builder, config.engine);
    const history = historyOf(known);
    const result = predict(plan, known, history, {
      fileList: (ref) => this.options.store.fileList(config.builder, ref), imagesUnavailable: this.options.imagesUnavailable,
    });
    return { config, ast, plan, result, snapshot, problems, lastBuild: loaded.manifest?.builds[0] };
  }

  /** Matches BuildKit's vertices to the planned steps and records the build. */
  async record(run: PredictionRun, outcome: { vertices: readonly VertexResult[]; success: boolean; durationMs: number }): Promise<{ record: BuildRecord; comparisons: StepComparison[] }> {
    const comparisons = compare(run.plan, run.result, outcome.vertices);
    const steps: StepRecord[] = [];
    const lister = selectionLister();
    for (const c of comparisons) {
      const s = c.prediction.step;
      if (!s.reachable || s.dedupOf !== undefined || s.key === undefined) continue;
      steps.push({
        key: s.key,
        parentKey: s.parentKey,
        vertex: s.vertex,
        stage: s.stageName,
        line: s.instruction.range.start.line + 1,
        instruction: s.instruction.keyword.toUpperCase(),
        inputs: s.selection === undefined ? s.inputs : { ...s.inputs, ...lister.filesOf(s.selection) },
        result: c.actual,
        durationMs: c.vertex?.durationMs,
      });
    }
    const record: BuildRecord = {
      time: new Date().toISOString(),
      engine: run.config.engine,
      success: outcome.success,
      steps,
      totalMs: outcome.durationMs,
    };
    await this.options.store.record(run.config, record, lister.lists);
    return { record, comparisons };
  }
}

/**
 * The planner's view of a snapshot's sources. Nested symlinks in wildcard/--exclude/--parents
 * selections are followed, as BuildKit before v0.25 (Docker 26 ships 0.13) does: following them
 * errs towards a miss, never a false hit. selectSources remembers its results per snapshot (and
 * carries them to a patched one).
 */
export function contextSelector(snapshot: ContextSnapshot): ContextSelector {
  return (sources, o) => selectSources(snapshot, sources, { ...o, followNestedLinks: true });
}

const histories = new WeakMap<ReadonlyMap<string, KnownStep>, readonly KnownStep[]>();

/** Known steps newest first; the store answers with the same map until a manifest changes. */
export function historyOf(known: ReadonlyMap<string, KnownStep>): readonly KnownStep[] {
  let h = histories.get(known);
  if (h === undefined) {
    h = [...known.values()].sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0));
    histories.set(known, h);
  }
  return h;
}

/** What BuildKit did with each predicted step. */
export function compare(plan: BuildPlan, result: PredictionResult, vertices: readonly VertexResult[]): StepComparison[] {
  const byName = new Map<string, VertexResult>();
  for (const v of vertices) byName.set(v.name, v);
  return result.steps.map((p) => {
    // Merged steps: BuildKit shows the one vertex under the name of whichever of them it met first.
    const v = p.step.reachable ? vertexNames(plan, p.step).map((n) => byName.get(n)).find((x) => x !== undefined) : undefined;
    let actual: StepResult = 'not-run';
    if (v !== undefined) {
      if (v.error !== undefined) actual = 'failed';
      else if (v.cached) actual = 'cached';
      else if (v.completed) actual = 'built';
    }
    // A FROM vertex is resolved on every build and shown as cached only by some image stores: it
    // tells nothing about the cache, so it never counts as a disagreement. A deduplicated step is
    // judged once, on its first occurrence.
    const judged = p.step.kind !== 'from' && p.step.dedupOf === undefined;
    const disagrees = judged && ((p.prediction === 'hit' && actual === 'built') || (p.prediction === 'miss' && actual === 'cached'));
    return { prediction: p, actual, vertex: v, disagrees };
  });
}

/** The build configuration for a Dockerfile, with paths made absolute. */
export function buildConfig(input: {
  dockerfile: string; context?: string | undefined; target?: string | undefined; buildArgs?: Record<string, string>;
  platform?: string | undefined; builder: string; engine?: 'buildkit' | 'legacy';
}): BuildConfig {
  const dockerfile = path.resolve(input.dockerfile);
  return {
    dockerfile,
    context: path.resolve(input.context ?? path.dirname(dockerfile)),
    target: input.target === '' ? undefined : input.target,
    buildArgs: input.buildArgs ?? {},
    platform: input.platform === '' ? undefined : input.platform,
    builder: input.builder,
    engine: input.engine ?? 'buildkit',
  };
}
