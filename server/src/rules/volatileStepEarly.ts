/**
 * cache/volatile-step-early: from the recorded builds, a COPY whose files changed in most recent
 * builds, placed before a RUN that does not read them and kept its text: each change reruns that
 * RUN (and everything after the COPY) for nothing. No fix: where the COPY can go is the user's call.
 */

import type { Instruction } from '../parser';
import type { StepRecord } from '../cache/types';
import { sameFiles } from '../cache/predict';
import { analyzeStages, copyInfo, kw, runInfo, type StageInfo } from './model';
import { headRange, lineNo, quote } from './text';
import type { Rule, RuleContext, RuleDiagnostic } from './types';

export const ID = 'cache/volatile-step-early';

const WINDOW = 5;
const THRESHOLD = 3;

type Rec = StepRecord & { time?: string };

/** The name the step model gives a stage in its records. */
const stageName = (info: StageInfo): string => info.stage.name ?? `stage-${info.stage.index}`;
const textOf = (inst: Instruction): string => inst.original.trim();
const CACHE_STEPS = new Set(['RUN', 'COPY', 'ADD', 'WORKDIR']);

/**
 * Build ids for the records: the build time where recorded; otherwise a new build starts whenever
 * a progress name repeats (a build runs each vertex once).
 */
function buildIds(history: readonly Rec[]): string[] {
  const ids: string[] = [];
  let n = 0;
  let seen = new Set<string>();
  for (const r of history) {
    if (typeof r.time === 'string') { ids.push(r.time); continue; }
    if (seen.has(r.vertex)) { n++; seen = new Set(); }
    seen.add(r.vertex);
    ids.push(`#${n}`);
  }
  return ids;
}


/** A RUN that reads nothing the COPY brings: system packages, global tools, harmless commands. */
function independent(run: Instruction): boolean {
  const r = runInfo(run);
  if (r === undefined || r.contextMounts || r.commands.length === 0) return false;
  return r.commands.every(({ cls }) => cls.kind === 'system' ? !cls.localFiles : cls.kind === 'global' || cls.kind === 'noop' || cls.kind === 'fs');
}

export const volatileStepEarly: Rule = {
  id: ID,
  title: 'A COPY that changed in most recent builds sits before steps that do not need it.',
  defaultSeverity: 'info',
  check(ctx: RuleContext) {
    const out: Array<Omit<RuleDiagnostic, 'rule' | 'severity'>> = [];
    if (ctx.history.length === 0) return out;
    const ids = buildIds(ctx.history);
    for (const info of analyzeStages(ctx.stages)) {
      const name = stageName(info);
      const recs = ctx.history.map((r, i) => ({ r, id: ids[i] ?? '' })).filter(({ r }) => r.stage === name);
      // The stage's most recent builds, newest first.
      const builds: string[] = [];
      for (const { id } of recs) if (!builds.includes(id)) builds.push(id);
      const window = builds.slice(0, WINDOW);
      if (window.length < THRESHOLD) continue;
      const cmds = info.stage.commands;
      cmds.forEach((inst, i) => {
        const c = copyInfo(inst);
        if (c === undefined || c.fromOther || c.heredoc) return;
        const text = textOf(inst);
        const own = recs.filter(({ r }) => r.instruction === kw(inst) && r.inputs.text === text);
        // Builds where its files differed from the build before.
        const changed = new Set<string>();
        own.forEach(({ r, id }, k) => {
          const older = own[k + 1];
          if (older === undefined || r.result !== 'built') return;
          if (!sameFiles(r.inputs, older.r.inputs) && window.includes(id)) changed.add(id);
        });
        if (changed.size < THRESHOLD) return;
        const later = cmds.slice(i + 1);
        // A later RUN that does not read the COPY's files and ran with the same text in those builds.
        const stable = later.find((run) => kw(run) === 'RUN' && independent(run)
          && [...changed].every((id) => recs.some(({ r, id: rid }) => rid === id && r.instruction === 'RUN' && r.inputs.text === textOf(run))));
        if (stable === undefined) return;
        const reruns = later.filter((l) => CACHE_STEPS.has(kw(l))).length;
        out.push({
          range: headRange(inst),
          message: `${quote(inst)} changed in ${changed.size} of the last ${window.length} builds and reruns the ${reruns} step${reruns === 1 ? '' : 's'} after it, among them ${quote(stable)} (line ${lineNo(stable)}), which does not read its files: move that work above this COPY.`,
          fixes: [],
        });
      });
    }
    return out;
  },
};
