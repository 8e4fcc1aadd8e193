/**
 * Predictions: each planned step against the keys BuildKit already holds (as recorded from earlier
 * builds on the same builder), with a reason a person understands.
 */

import type { BuildPlan, PlannedStep } from './steps';
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

const MAX_NAMED = 1;

function listChanges(prev: Record<string, string>, next: Record<string, string>): { summary: string; details: string[] } | undefined {
  const changed: string[] = [];
  const added: string[] = [];
  const removed: string[] = [];
  for (const [p, h] of Object.entries(next)) {
    const old = prev[p];
    if (old === undefined) added.push(p);
    else if (old !== h) changed.push(p);
  }
  for (const p of Object.keys(prev)) if (!(p in next)) removed.push(p);
  const all = [...changed.map((p) => `${p} changed`), ...added.map((p) => `${p} added`), ...removed.map((p) => `${p} removed`)];
  if (all.length === 0) return undefined;
  const summary = all.slice(0, MAX_NAMED).join(', ') + (all.length > MAX_NAMED ? ` (+${all.length - MAX_NAMED} more)` : '');
  return { summary, details: all };
}

function pairs(list: Array<[string, string]> | undefined): Map<string, string> {
  return new Map(list ?? []);
}

/** Why a step whose parent is unchanged misses, from the previous record on the same parent. */
function diffInputs(prev: StepInputs, next: StepInputs): { reason: string; details: string[] } {
  if (prev.text !== next.text) {
    return { reason: 'instruction changed', details: [`was: ${prev.text}`, `now: ${next.text}`] };
  }
  if (prev.files !== undefined || next.files !== undefined) {
    const c = listChanges(prev.files ?? {}, next.files ?? {});
    if (c !== undefined) return { reason: c.summary, details: c.details };
  }
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

export function predict(plan: BuildPlan, known: ReadonlyMap<string, StepRecord>, history: History): PredictionResult {
  const out: StepPrediction[] = [];
  const byStep = new Map<number, StepPrediction>();
  const stageFullyHit = new Map<number, boolean>();
  const seenInPlan = new Set<string>();
  /** The latest chained (non-independent) prediction of each stage: a step's parent. */
  const lastOfStage = new Map<number, StepPrediction>();
  const targetName = plan.stages[plan.target]?.displayName ?? '';

  const durationFor = (s: PlannedStep): number | undefined => {
    const built = history.find((r) => r.result === 'built' && r.inputs.text === s.inputs.text && r.stage === s.stageName)
      ?? history.find((r) => r.result === 'built' && r.inputs.text === s.inputs.text);
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
    } else if (parentOutcome === 'miss' && !step.independent) {
      p = { step, prediction: 'miss', reason: 'previous step rebuilds', details: [], estimatedMs: durationFor(step) };
    } else if (step.key === undefined) {
      p = { step, prediction: 'unknown', reason: step.unknownReason ?? 'cannot be predicted', details: [], estimatedMs: durationFor(step) };
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
    } else {
      p = { step, prediction: 'miss', ...missReason(step, history), estimatedMs: durationFor(step) };
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

function missReason(step: PlannedStep, history: History): { reason: string; details: string[] } {
  if (history.length === 0) return { reason: 'never built', details: [] };
  if (step.kind === 'from') {
    const prev = history.find((r) => r.instruction === 'FROM' && r.stage === step.stageName);
    if (prev?.inputs.base !== undefined && step.inputs.base !== undefined) {
      const ref = (s: string): string => s.replace(/ \(.*\)$/, '');
      if (ref(prev.inputs.base) === ref(step.inputs.base)) {
        return { reason: `base image ${ref(step.inputs.base)} now points to a different image`, details: [`was: ${prev.inputs.base}`, `now: ${step.inputs.base}`] };
      }
      return { reason: 'base image changed', details: [`was: ${prev.inputs.base}`, `now: ${step.inputs.base}`] };
    }
    return { reason: 'base image never built on this builder', details: [] };
  }
  const sameParent = history.find((r) => r.parentKey === step.parentKey && r.instruction === step.instruction.keyword.toUpperCase());
  if (sameParent !== undefined) return diffInputs(sameParent.inputs, step.inputs);
  const sameText = history.find((r) => r.inputs.text === step.inputs.text && r.stage === step.stageName);
  if (sameText !== undefined) return diffInputs(sameText.inputs, step.inputs);
  return { reason: 'new step', details: [] };
}
