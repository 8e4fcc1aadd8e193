/** Code lenses: the prediction on every step, and a summary at the top of each stage. */

import { Command, type CodeLens } from 'vscode-languageserver-types';
import { SHOW_STEP_COMMAND, type StepDetailsArgs } from '../../../shared/src/protocol';
import type { StepPrediction } from '../cache/predict';
import type { DocumentPrediction } from '../session';

export function formatSeconds(ms: number): string {
  const s = ms / 1000;
  if (s < 0.1) return '<0.1 s';
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 90) return `${Math.round(s)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

export function formatAgo(iso: string, now: number): string {
  const ms = now - Date.parse(iso);
  if (!Number.isFinite(ms) || ms < 0) return 'just now';
  const min = Math.floor(ms / 60_000);
  if (min < 1) return 'just now';
  if (min < 60) return `${min} min ago`;
  const h = Math.floor(min / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.floor(h / 24)} days ago`;
}

/** The lens title of one step, as the user reads it on the line. */
export function stepTitle(p: StepPrediction, targetName: string): string {
  // Under a tenth of a second is not worth a number on the line.
  const est = p.estimatedMs === undefined || p.estimatedMs < 100 ? '' : ` · ~${formatSeconds(p.estimatedMs)}`;
  switch (p.prediction) {
    case 'hit': return '✓ cached';
    case 'miss': return `↻ rebuilds: ${p.reason}${est}`;
    case 'unknown': return `? unknown: ${p.reason}`;
    case 'skipped': return `– not built for target ${targetName}`;
  }
}

function command(uri: string, p: StepPrediction, title: string): Command {
  const args: StepDetailsArgs = { uri, vertex: p.step.vertex, prediction: p.prediction, reason: p.reason, details: p.details };
  return Command.create(title, SHOW_STEP_COMMAND, args);
}

export function codeLenses(uri: string, prediction: DocumentPrediction, now = Date.now()): CodeLens[] {
  if (prediction.status === 'failed') return [];
  if (prediction.status === 'hashing') {
    const progress = prediction.total > 0
      ? `${prediction.done.toLocaleString('en-US')} / ${prediction.total.toLocaleString('en-US')} files`
      : 'listing files';
    const range = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
    return [{ range, command: Command.create(`$(sync~spin) hashing build context… ${progress}`, '') }];
  }
  const { run } = prediction;
  const targetName = run.plan.stages[run.plan.target]?.displayName ?? '';
  const lenses: CodeLens[] = [];
  for (const stage of run.plan.stages) {
    const preds = stage.steps.map((i) => run.result.steps[i]).filter((p): p is StepPrediction => p !== undefined);
    const from = stage.stage.from;
    const line = { start: from.range.start, end: from.range.start };
    if (!stage.reachable) continue; // each of its steps says so
    // Every step under the summary counts (a step shared with another stage too); its time once.
    const counted = preds;
    const hits = counted.filter((p) => p.prediction === 'hit').length;
    const rebuildMs = counted.filter((p) => p.prediction === 'miss' && p.step.dedupOf === undefined).reduce((a, p) => a + (p.estimatedMs ?? 0), 0);
    const parts = [`${hits} of ${counted.length} steps cached`];
    if (rebuildMs > 0) parts.push(`rebuild ~${formatSeconds(rebuildMs)}`);
    if (prediction.lastBuildTime !== undefined) parts.push(`last built ${formatAgo(prediction.lastBuildTime, now)}`);
    else parts.push('never built');
    lenses.push({ range: line, command: Command.create(parts.join(' · '), '') });
  }
  for (const p of run.result.steps) {
    const inst = p.step.instruction;
    const line = { start: inst.range.start, end: inst.range.start };
    const title = stepTitle(p, targetName);
    lenses.push({ range: line, command: command(uri, p, title) });
  }
  return lenses;
}
