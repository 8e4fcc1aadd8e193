/**
 * The cache impact of a change: the same planner for the base and the head state, the base plan's
 * keys taken as the keys BuildKit holds, and predict() for the head plan, so the reasons are the
 * words the lenses use. Pure: states, configurations and recorded durations come in.
 *
 * Base images: the head's FROM is looked up as the base's was, so a FROM whose reference is the
 * same on both sides is unchanged by the change (impact is about the change, not about what the
 * builder holds today).
 */

import { parse } from '../parser';
import { contextSelector } from '../cache/predictor';
import type { KnownStep } from '../cache/manifest';
import { selectionLister } from '../cache/selectionFiles';
import { predict, type StepPrediction } from '../cache/predict';
import { planBuild, type BuildPlan, type ImageInfo, type PlannedStep } from '../cache/steps';
import type { ContextSnapshot } from '../cache/contextHash';
import type { ImpactStepInfo } from '../../../shared/src/protocol';

/** One way the Dockerfile is built (settings or CLI flags today; a Compose service or Bake target later). */
export interface ImpactConfig {
  /** How the user knows it: `default`, `--target test`, a service name. */
  name: string;
  target: string | undefined;
  buildArgs: Record<string, string>;
  platform: string | undefined;
}

export interface ImpactSide {
  dockerfileText: string;
  snapshot: ContextSnapshot;
}

/** A step that reruns, as the protocol carries it, with its time in milliseconds (the protocol says seconds). */
export type ImpactStep = Omit<ImpactStepInfo, 'estimatedSeconds'> & {
  /** From the recorded builds, when this step was ever built. */
  estimatedMs: number | undefined;
};

export interface ConfigImpact {
  config: ImpactConfig;
  /** Steps of the head's build that rerun (or may), in build order. */
  steps: ImpactStep[];
  /** Reachable steps of the head's build (merged ones counted once). */
  total: number;
  /** Sum of the recorded durations of the steps that rerun. */
  estimatedMs: number;
  /** Steps that rerun with no recorded duration. */
  unmeasured: number;
  /** Planning problems of either side (unknown target, ...). */
  problems: string[];
}

export interface ImpactOptions {
  /** What the engine knows of an image, when it can be asked; undefined: keyed by reference alone. */
  images?: (normalizedRef: string) => ImageInfo | undefined;
  mergeOps?: boolean;
  /** Recorded steps (newest first) for durations. */
  history?: readonly KnownStep[];
}

/** A stand-in for an image the engine cannot describe: the same reference is the same base on both sides. */
function standIn(ref: string): ImageInfo {
  return { id: `ref:${ref}`, env: [], workdir: '', user: '', shell: undefined };
}

function plan(side: ImpactSide, config: ImpactConfig, options: ImpactOptions): BuildPlan {
  return planBuild(parse(side.dockerfileText), {
    target: config.target,
    buildArgs: config.buildArgs,
    platform: config.platform,
    context: contextSelector(side.snapshot),
    mergeOps: options.mergeOps ?? false,
    images: (r) => options.images?.(r) ?? standIn(r),
  });
}

/** Recorded durations by instruction text and stage (then text alone), newest first. */
function durations(history: readonly KnownStep[]): (s: PlannedStep) => number | undefined {
  const byTextStage = new Map<string, number>();
  const byText = new Map<string, number>();
  for (const r of history) {
    if (r.result !== 'built' || r.durationMs === undefined) continue;
    const k = `${r.inputs.text}\0${r.stage}`;
    if (!byTextStage.has(k)) byTextStage.set(k, r.durationMs);
    if (!byText.has(r.inputs.text)) byText.set(r.inputs.text, r.durationMs);
  }
  return (s) => byTextStage.get(`${s.inputs.text}\0${s.stageName}`) ?? byText.get(s.inputs.text);
}

/** The base plan as if BuildKit had just built it: its keys known, its inputs recorded (file lists kept in memory). */
function baseRecords(p: BuildPlan, duration: (s: PlannedStep) => number | undefined): { known: Map<string, KnownStep>; history: KnownStep[]; lists: Map<string, Map<string, string>> } {
  const known = new Map<string, KnownStep>();
  const history: KnownStep[] = [];
  const lister = selectionLister();
  const time = new Date(0).toISOString();
  for (const s of p.steps) {
    if (!s.reachable || s.dedupOf !== undefined || s.key === undefined) continue;
    const rec: KnownStep = {
      key: s.key, parentKey: s.parentKey, vertex: s.vertex, stage: s.stageName, line: s.instruction.range.start.line + 1,
      instruction: s.instruction.keyword.toUpperCase(),
      inputs: s.selection === undefined ? s.inputs : { ...s.inputs, ...lister.filesOf(s.selection) },
      result: 'built', durationMs: duration(s), time,
    };
    known.set(s.key, rec);
    history.push(rec);
  }
  const lists = new Map([...lister.lists].map(([id, files]) => [id, new Map(files.map((f) => [f.path, f.hash]))]));
  return { known, history, lists };
}

function toStep(p: StepPrediction, duration: (s: PlannedStep) => number | undefined, first: boolean): ImpactStep {
  const s = p.step;
  return {
    vertex: s.vertex, stage: s.stageName, line: s.instruction.range.start.line + 1, instruction: s.instruction.keyword.toUpperCase(),
    text: s.inputs.text, prediction: p.prediction === 'unknown' ? 'unknown' : 'miss', reason: p.reason, details: p.details,
    estimatedMs: p.estimatedMs ?? duration(s), firstInStage: first,
  };
}

/** The steps of one configuration that the change makes rerun, and why. */
export function impactOf(base: ImpactSide, head: ImpactSide, config: ImpactConfig, options: ImpactOptions = {}): ConfigImpact {
  const duration = durations(options.history ?? []);
  const basePlan = plan(base, config, options);
  const headPlan = plan(head, config, options);
  const { known, history, lists } = baseRecords(basePlan, duration);
  const result = predict(headPlan, known, history, { fileList: (ref) => lists.get(ref) });
  const steps: ImpactStep[] = [];
  const stagesSeen = new Set<number>();
  let total = 0;
  let estimatedMs = 0;
  let unmeasured = 0;
  for (const p of result.steps) {
    if (!p.step.reachable || p.step.dedupOf !== undefined) continue;
    total++;
    if (p.prediction !== 'miss' && p.prediction !== 'unknown') continue;
    const first = !stagesSeen.has(p.step.stage);
    stagesSeen.add(p.step.stage);
    const st = toStep(p, duration, first);
    steps.push(st);
    if (st.estimatedMs === undefined) unmeasured++;
    else estimatedMs += st.estimatedMs;
  }
  const problems = [...basePlan.problems.map((x) => `base: ${x}`), ...headPlan.problems.map((x) => `head: ${x}`)];
  return { config, steps, total, estimatedMs, unmeasured, problems };
}

/** Whether a step matches a --fail-on pattern: `/regex/`, or a substring of its instruction or progress name. */
export function matchesStep(pattern: string, step: Pick<ImpactStep, 'vertex' | 'text'>): boolean {
  const re = /^\/(.*)\/([a-z]*)$/.exec(pattern);
  if (re !== null) {
    const rx = new RegExp(re[1] ?? '', re[2]);
    return rx.test(step.text) || rx.test(step.vertex);
  }
  return step.text.includes(pattern) || step.vertex.includes(pattern);
}
