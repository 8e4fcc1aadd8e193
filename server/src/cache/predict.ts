/**
 * Predictions: each planned step against the keys BuildKit already holds (as recorded from earlier
 * builds on the same builder), with a reason a person understands.
 */

import type { BuildPlan, ContextSelection, PlannedStep } from './steps';
import type { Prediction, StepInputs, StepRecord } from './types';

export interface StepPrediction {
  step: PlannedStep;
  prediction: Prediction;
  /** One line: `src/index.js changed (+2 more)`, `previous step rebuilds`, `never built`. */
  reason: string;
  /** The whole story: every changed file, old and new values. */
  details: string[];
  /** The recorded duration of this step when it last ran, if it will run again. */
  estimatedMs: number | undefined;
}

export interface PredictionResult {
  steps: StepPrediction[];
  estimatedRebuildMs: number;
  counts: Record<Prediction, number>;
}

/** Recorded steps, newest first, for reasons and durations. */
export type History = readonly StepRecord[];

export interface PredictOptions {
  /** A file list that a recorded step names by `filesRef` (ManifestStore.fileList). */
  fileList?: (ref: string) => ReadonlyMap<string, string> | undefined;
  /**
   * The reason steps.ts gives a FROM whose image the engine could not be asked about (Docker not
   * running): a step unknown only for it, and never recorded on this builder, is no cache hit
   * whatever the image is, so it is predicted as with the engine there (`never built`...).
   */
  imagesUnavailable?: string | undefined;
}

const MAX_NAMED = 1;
/** Changed files listed in a miss's details; the rest are counted. */
const MAX_DETAILS = 200;
/** Recorded and current hashes are compared on this many hex digits (recorded lists keep no more). */
const HASH_DIGITS = 16;

type Why = { reason: string; details: string[] };

/** How a selection's files differ from a recorded list. */
interface FileDiff {
  changed: Set<string>;
  added: Set<string>;
  removed: Set<string>;
}

function describe(d: FileDiff): Why | undefined {
  const sorted = (x: Set<string>): string[] => [...x].sort();
  const all = [...sorted(d.changed).map((p) => `${p} changed`), ...sorted(d.added).map((p) => `${p} added`), ...sorted(d.removed).map((p) => `${p} removed`)];
  if (all.length === 0) return undefined;
  const reason = all.slice(0, MAX_NAMED).join(', ') + (all.length > MAX_NAMED ? ` (+${all.length - MAX_NAMED} more)` : '');
  const details = all.length > MAX_DETAILS ? [...all.slice(0, MAX_DETAILS), `… and ${all.length - MAX_DETAILS} more`] : all;
  return { reason, details };
}

function sameHash(a: string, b: string): boolean {
  return a.slice(0, HASH_DIGITS) === b.slice(0, HASH_DIGITS);
}

function fullDiff(before: ReadonlyMap<string, string>, sel: ContextSelection | undefined): FileDiff {
  const d: FileDiff = { changed: new Set(), added: new Set(), removed: new Set() };
  let seen = 0;
  const visit = (p: string, h: string): void => {
    const old = before.get(p);
    if (old === undefined) d.added.add(p);
    else {
      seen++;
      if (!sameHash(old, h)) d.changed.add(p);
    }
  };
  if (sel?.forEachFile !== undefined) sel.forEachFile(visit);
  else for (const f of sel?.files ?? []) visit(f.path, f.hash);
  if (seen < before.size) {
    // Some recorded files are gone from the selection: find which (rare, so listed only then).
    const now = new Set<string>();
    if (sel?.forEachFile !== undefined) sel.forEachFile((p) => now.add(p));
    else for (const f of sel?.files ?? []) now.add(f.path);
    for (const p of before.keys()) if (!now.has(p)) d.removed.add(p);
  }
  return d;
}

/** The last diff worked out against each recorded list, for the selection with this checksum. */
const explained = new Map<string, { checksum: string; diff: FileDiff; why: Why | undefined }>();
const MAX_EXPLAINED = 32;

/**
 * Which files differ from a recorded step's. Against a recorded list (a big selection) the diff is
 * kept, and when the selection was made again after a few paths changed, only those paths are
 * looked at: explaining `COPY . .` after a save costs the save, not a walk of the context.
 */
function fileChanges(prev: StepInputs, step: PlannedStep, options: PredictOptions): Why | undefined {
  const sel = step.selection;
  if (prev.files === undefined && prev.filesRef === undefined && sel === undefined) return undefined;
  if (sel !== undefined && prev.filesChecksum === sel.checksum) return undefined;
  const ref = prev.filesRef;
  if (ref === undefined) {
    return describe(fullDiff(new Map(Object.entries(prev.files ?? {})), sel));
  }
  // Per recorded list and selection (two selections can share a checksum, not their files).
  const memoKey = `${ref}\0${sel?.key ?? ''}`;
  const memo = sel?.key === undefined ? undefined : explained.get(memoKey);
  if (memo !== undefined && sel !== undefined && memo.checksum === sel.checksum) return memo.why;
  const before = options.fileList?.(ref);
  if (before === undefined) {
    return prev.filesChecksum !== undefined && sel !== undefined
      ? { reason: 'the copied files changed', details: ['The file list of the earlier build is no longer kept, so which files changed cannot be said.'] }
      : undefined;
  }
  let diff: FileDiff | undefined;
  const derived = sel?.derived;
  if (memo !== undefined && derived !== undefined && derived.fromChecksum === memo.checksum && sel?.fileAt !== undefined) {
    diff = { changed: new Set(memo.diff.changed), added: new Set(memo.diff.added), removed: new Set(memo.diff.removed) };
    for (const p of derived.changed) {
      const now = sel.fileAt(p);
      if (now === undefined) {
        diff = undefined;
        break;
      }
      diff.changed.delete(p);
      diff.added.delete(p);
      diff.removed.delete(p);
      const old = before.get(p);
      if (now.selected && now.hash !== undefined) {
        if (old === undefined) diff.added.add(p);
        else if (!sameHash(old, now.hash)) diff.changed.add(p);
      } else if (old !== undefined) {
        diff.removed.add(p);
      }
    }
  }
  diff ??= fullDiff(before, sel);
  const why = describe(diff);
  if (sel?.key !== undefined) {
    explained.delete(memoKey);
    if (explained.size >= MAX_EXPLAINED) explained.delete(explained.keys().next().value ?? '');
    explained.set(memoKey, { checksum: sel.checksum, diff, why });
  }
  return why;
}

/** Whether two recorded steps selected the same files (as far as their records tell). */
export function sameFiles(a: StepInputs, b: StepInputs): boolean {
  if (a.filesChecksum !== undefined && b.filesChecksum !== undefined) return a.filesChecksum === b.filesChecksum;
  if (a.filesRef !== undefined || b.filesRef !== undefined) return a.filesRef === b.filesRef;
  const ka = Object.keys(a.files ?? {});
  if (ka.length !== Object.keys(b.files ?? {}).length) return false;
  return ka.every((k) => (b.files ?? {})[k] === (a.files ?? {})[k]);
}

function pairs(list: Array<[string, string]> | undefined): Map<string, string> {
  return new Map(list ?? []);
}

/** Why a step whose parent is unchanged misses, from the previous record on the same parent. */
function diffInputs(prev: StepInputs, step: PlannedStep, options: PredictOptions): Why {
  const next = step.inputs;
  if (prev.text !== next.text) {
    return { reason: 'instruction changed', details: [`was: ${prev.text}`, `now: ${next.text}`] };
  }
  const files = fileChanges(prev, step, options);
  if (files !== undefined) return files;
  const prevArgs = prev.args ?? {};
  const nextArgs = next.args ?? {};
  for (const k of new Set([...Object.keys(prevArgs), ...Object.keys(nextArgs)])) {
    const a = prevArgs[k];
    const b = nextArgs[k];
    if (a === b) continue;
    if (a === undefined) return { reason: `ARG ${k} set to ${b ?? ''}`, details: [`ARG ${k}: (unset) -> ${b ?? ''}`] };
    if (b === undefined) return { reason: `ARG ${k} no longer set`, details: [`ARG ${k}: ${a} -> (unset)`] };
    return { reason: `ARG ${k} changed ${a} -> ${b}`, details: [`ARG ${k}: ${a} -> ${b}`] };
  }
  const pe = pairs(prev.env);
  const ne = pairs(next.env);
  for (const k of new Set([...pe.keys(), ...ne.keys()])) {
    if (pe.get(k) === ne.get(k) || k in nextArgs) continue;
    return { reason: `ENV ${k} changed`, details: [`ENV ${k}: ${pe.get(k) ?? '(unset)'} -> ${ne.get(k) ?? '(unset)'}`] };
  }
  if (JSON.stringify(prev.env ?? []) !== JSON.stringify(next.env ?? [])) return { reason: 'the order of ENV/ARG changed', details: [] };
  const fields: Array<[keyof StepInputs, string]> = [
    ['workdir', 'WORKDIR'], ['user', 'USER'], ['shell', 'SHELL'], ['network', 'network mode'], ['security', 'security mode'],
    ['platform', 'platform'], ['base', 'base image'], ['from', 'source stage'],
  ];
  for (const [f, label] of fields) {
    const a = JSON.stringify(prev[f] ?? null);
    const b = JSON.stringify(next[f] ?? null);
    if (a !== b) {
      if (f === 'from') return { reason: 'a stage it copies from produced different files', details: [`was: ${a}`, `now: ${b}`] };
      return { reason: `${label} changed`, details: [`${label}: ${a} -> ${b}`] };
    }
  }
  return { reason: 'its inputs changed', details: [] };
}

/** The history looked up by what predictions ask of it (the first, i.e. newest, record of each). */
interface HistoryIndex {
  builtByTextStage: Map<string, StepRecord>;
  builtByText: Map<string, StepRecord>;
  fromByStage: Map<string, StepRecord>;
  byParent: Map<string, StepRecord>;
  byTextStage: Map<string, StepRecord>;
  /** Every instruction text recorded on the builder, in any stage. */
  texts: Set<string>;
  /** Every base image reference a recorded FROM had (without the image id). */
  bases: Set<string>;
  /** Every parent key some recorded step was built on. */
  parents: Set<string>;
}

const historyIndexes = new WeakMap<History, HistoryIndex>();

function indexHistory(history: History): HistoryIndex {
  const hit = historyIndexes.get(history);
  if (hit !== undefined) return hit;
  const idx: HistoryIndex = { builtByTextStage: new Map(), builtByText: new Map(), fromByStage: new Map(), byParent: new Map(), byTextStage: new Map(), texts: new Set(), bases: new Set(), parents: new Set() };
  const first = <K>(m: Map<K, StepRecord>, k: K, r: StepRecord): void => {
    if (!m.has(k)) m.set(k, r);
  };
  for (const r of history) {
    if (r.result === 'built') {
      first(idx.builtByTextStage, `${r.inputs.text}\0${r.stage}`, r);
      first(idx.builtByText, r.inputs.text, r);
    }
    if (r.instruction === 'FROM') first(idx.fromByStage, r.stage, r);
    first(idx.byParent, `${r.parentKey ?? ''}\0${r.instruction}`, r);
    first(idx.byTextStage, `${r.inputs.text}\0${r.stage}`, r);
    idx.texts.add(r.inputs.text);
    if (r.parentKey !== undefined) idx.parents.add(r.parentKey);
    if (r.instruction === 'FROM' && r.inputs.base !== undefined) idx.bases.add(withoutImageId(r.inputs.base));
  }
  historyIndexes.set(history, idx);
  return idx;
}

export function predict(plan: BuildPlan, known: ReadonlyMap<string, StepRecord>, history: History, options: PredictOptions = {}): PredictionResult {
  const hx = indexHistory(history);
  const out: StepPrediction[] = [];
  const byStep = new Map<number, StepPrediction>();
  const stageFullyHit = new Map<number, boolean>();
  const seenInPlan = new Set<string>();
  /** The latest chained (non-independent) prediction of each stage: a step's parent. */
  const lastOfStage = new Map<number, StepPrediction>();
  const targetName = plan.stages[plan.target]?.displayName ?? '';

  const durationFor = (s: PlannedStep): number | undefined => {
    const built = hx.builtByTextStage.get(`${s.inputs.text}\0${s.stageName}`) ?? hx.builtByText.get(s.inputs.text);
    return built?.durationMs;
  };

  for (const step of plan.steps) {
    let p: StepPrediction;
    const prevOfStage = lastOfStage.get(step.stage);
    const parentOutcome: Prediction | undefined = prevOfStage?.prediction
      ?? baseStageOutcome(plan, step.stage, stageFullyHit, byStep);

    if (!step.reachable) {
      p = { step, prediction: 'skipped', reason: `not built for target ${targetName}`, details: [], estimatedMs: undefined };
    } else if (step.dedupOf !== undefined && byStep.has(step.dedupOf)) {
      const first = byStep.get(step.dedupOf) as StepPrediction;
      p = { ...first, step, details: [...first.details, `BuildKit runs this once, as ${first.step.vertex}`] };
    } else if (step.key !== undefined && step.reachable && seenInPlan.has(step.key)) {
      // The legacy builder serves a repeated step from the one this same build just made.
      p = { step, prediction: 'hit', reason: 'the same step runs earlier in this build', details: [], estimatedMs: undefined };
    } else if (step.ignoreCache === true) {
      p = { step, prediction: 'miss', reason: `--no-cache-filter: stage ${step.stageName} is built without the cache`, details: [], estimatedMs: durationFor(step) };
    } else if (parentOutcome === 'miss' && !step.independent && ignoredBelow(plan, step, prevOfStage)) {
      // Its parent reruns but keeps its cache key: BuildKit may still find this step.
      p = { step, prediction: 'unknown', reason: 'the stage below is rebuilt without the cache (--no-cache-filter): this step is cached only if it produces the same result', details: [], estimatedMs: durationFor(step) };
    } else if (parentOutcome === 'miss' && !step.independent) {
      p = { step, prediction: 'miss', reason: 'previous step rebuilds', details: [], estimatedMs: durationFor(step) };
    } else if (step.key === undefined && (baseUnchecked(step, options) || parentOutcome === 'unknown') && options.imagesUnavailable !== undefined && !everRecorded(step, hx)) {
      // Nothing recorded could be this step: a miss whichever image the tag points to.
      p = { step, prediction: 'miss', ...missReason(step, history, hx, options), estimatedMs: durationFor(step) };
    } else if (step.key === undefined) {
      p = { step, prediction: 'unknown', reason: step.unknownReason ?? 'cannot be predicted', details: [], estimatedMs: durationFor(step) };
    } else if (step.readsStages.some((s) => stageFullyHit.get(s) !== true) && !known.has(step.key) && neverBuiltOn(step, parentOutcome, hx)) {
      // BuildKit finds a content-keyed step only among records made on the same parent: there are none.
      p = { step, prediction: 'miss', ...missReason(step, history, hx, options), estimatedMs: durationFor(step) };
    } else if (step.readsStages.some((s) => stageFullyHit.get(s) !== true) && !known.has(step.key)) {
      const s = step.readsStages.find((x) => stageFullyHit.get(x) !== true) ?? 0;
      p = {
        step, prediction: 'unknown',
        reason: `depends on what stage ${plan.stages[s]?.displayName ?? s} produces`,
        details: ['BuildKit compares the copied files by content: if that stage rebuilds to identical files, this step is still cached.'],
        estimatedMs: durationFor(step),
      };
    } else if (parentOutcome === 'unknown' && !step.independent) {
      p = { step, prediction: 'unknown', reason: 'depends on an earlier step that may rebuild', details: [], estimatedMs: durationFor(step) };
    } else if (known.has(step.key)) {
      p = { step, prediction: 'hit', reason: 'cached', details: [], estimatedMs: undefined };
    } else if (step.doubt !== undefined) {
      p = { step, prediction: 'unknown', reason: step.doubt, details: [], estimatedMs: durationFor(step) };
    } else {
      p = { step, prediction: 'miss', ...missReason(step, history, hx, options), estimatedMs: durationFor(step) };
    }
    out.push(p);
    byStep.set(step.index, p);
    if (!step.independent) lastOfStage.set(step.stage, p);
    if (step.key !== undefined && step.reachable && step.dedupOf === undefined) seenInPlan.add(step.key);
    if (step.reachable) {
      const prev = stageFullyHit.get(step.stage) ?? baseStageOutcome(plan, step.stage, stageFullyHit, byStep) !== 'miss';
      stageFullyHit.set(step.stage, prev && p.prediction === 'hit');
    }
  }
  // Stages with no vertex of their own (FROM scratch + metadata) are as hit as their base.
  const counts: Record<import('./types').Prediction, number> = { hit: 0, miss: 0, unknown: 0, skipped: 0 };
  let estimatedRebuildMs = 0;
  for (const p of out) {
    if (p.step.dedupOf !== undefined) continue;
    counts[p.prediction]++;
    if (p.prediction === 'miss') estimatedRebuildMs += p.estimatedMs ?? 0;
  }
  return { steps: out, estimatedRebuildMs, counts };
}

/**
 * Whether nothing recorded was ever built on this step's parent, which is itself cached. A step that
 * reads another stage by content (COPY --from, RUN --mount=from) can be cached only through a record
 * made on the same parent, whatever that stage produces: with none, it runs.
 */
function neverBuiltOn(step: PlannedStep, parentOutcome: Prediction | undefined, hx: HistoryIndex): boolean {
  return !step.independent && parentOutcome === 'hit' && step.parentKey !== undefined && !hx.parents.has(step.parentKey);
}

/** `node:20 (sha256:…)` → `node:20`: a recorded base without the image it was. */
function withoutImageId(base: string): string {
  return base.replace(/ \(.*\)$/, '');
}

/**
 * Whether a recorded step could be this one, if the base image is still the one it was: a FROM
 * of the same image reference (in any stage: BuildKit shares it), or any step of the same text.
 */
function everRecorded(step: PlannedStep, hx: HistoryIndex): boolean {
  if (step.kind === 'from') return step.inputs.base !== undefined && hx.bases.has(withoutImageId(step.inputs.base));
  return hx.texts.has(step.inputs.text);
}

/** Whether the step is unknown only because the engine could not be asked about its base image. */
function baseUnchecked(step: PlannedStep, options: PredictOptions): boolean {
  const why = options.imagesUnavailable;
  return why !== undefined && step.unknownReason !== undefined && step.unknownReason.startsWith(why);
}

/** Whether a step's parent is a step run without the cache (and the step itself is not). */
function ignoredBelow(plan: BuildPlan, step: PlannedStep, prev: StepPrediction | undefined): boolean {
  if (prev !== undefined) return prev.step.ignoreCache === true;
  const base = plan.stages[step.stage]?.base;
  if (base?.kind !== 'stage') return false;
  const last = (plan.stages[base.index]?.steps ?? []).map((i) => plan.steps[i]).filter((x) => x !== undefined && !x.independent).pop();
  return last?.ignoreCache === true;
}

/** The outcome a stage's first step inherits from the stage it is built FROM. */
function baseStageOutcome(plan: BuildPlan, stage: number, fullyHit: Map<number, boolean>, byStep: Map<number, StepPrediction>): Prediction | undefined {
  const base = plan.stages[stage]?.base;
  if (base?.kind !== 'stage') return undefined;
  const baseSteps = plan.stages[base.index]?.steps ?? [];
  const last = baseSteps.map((i) => byStep.get(i)).filter((x) => x !== undefined && !x.step.independent).pop();
  if (last !== undefined) return last.prediction;
  if (fullyHit.get(base.index) === false) return 'miss';
  return baseStageOutcome(plan, base.index, fullyHit, byStep);
}

function missReason(step: PlannedStep, history: History, hx: HistoryIndex, options: PredictOptions): Why {
  if (history.length === 0) return { reason: 'never built', details: [] };
  if (step.kind === 'from') {
    const prev = hx.fromByStage.get(step.stageName);
    if (prev?.inputs.base !== undefined && step.inputs.base !== undefined) {
      const ref = (s: string): string => s.replace(/ \(.*\)$/, '');
      if (ref(prev.inputs.base) === ref(step.inputs.base)) {
        return { reason: `base image ${ref(step.inputs.base)} now points to a different image`, details: [`was: ${prev.inputs.base}`, `now: ${step.inputs.base}`] };
      }
      return { reason: 'base image changed', details: [`was: ${prev.inputs.base}`, `now: ${step.inputs.base}`] };
    }
    return { reason: 'base image never built on this builder', details: [] };
  }
  const sameParent = hx.byParent.get(`${step.parentKey ?? ''}\0${step.instruction.keyword.toUpperCase()}`);
  if (sameParent !== undefined && sameParent.inputs.text !== step.inputs.text && hx.byTextStage.has(`${step.inputs.text}\0${step.stageName}`)) {
    // The same instruction was built in this stage on another parent: it moved (steps reordered).
    return { reason: 'instruction moved', details: [`built before at another position; this one held: ${sameParent.inputs.text}`] };
  }
  if (sameParent !== undefined) return diffInputs(sameParent.inputs, step, options);
  const sameText = hx.byTextStage.get(`${step.inputs.text}\0${step.stageName}`);
  if (sameText !== undefined) return diffInputs(sameText.inputs, step, options);
  return { reason: 'new step', details: [] };
}
