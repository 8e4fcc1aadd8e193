/**
 * cache/apt-update-separate: `RUN apt-get update` on its own is a cached step: when the install
 * after it changes, it runs against package lists as old as that cache entry. Fix: run the update
 * in the install's RUN.
 */

import type { Instruction } from '../parser';
import { isSystemPath } from './commands';
import { analyzeStages, argPairs, copyDestDir, copyInfo, envPairs, kw, runInfo, stateOf, type StageInfo } from './model';
import { DocText, headRange, lineNo, quote } from './text';
import type { Rule, RuleContext, RuleDiagnostic, RuleFix } from './types';

export const ID = 'cache/apt-update-separate';

const APT_ENV = /^(DEBIAN_FRONTEND|DEBCONF_.*|APT_.*|PATH|HOME|LANG|LANGUAGE|LC_.*|TZ|[Hh][Tt][Tt][Pp][Ss]?_[Pp][Rr][Oo][Xx][Yy]|[Nn][Oo]_[Pp][Rr][Oo][Xx][Yy]|[Aa][Ll][Ll]_[Pp][Rr][Oo][Xx][Yy])$/;

/**
 * A RUN that updates apt's lists and installs nothing after: `apt-get update` alone, or with
 * `apt-get upgrade` (the lists it leaves go just as stale for a later install).
 */
function isUpdateOnly(inst: Instruction): boolean {
  const r = runInfo(inst);
  if (r === undefined || r.commands.length === 0) return false;
  let update = false;
  for (const { cls } of r.commands) {
    if (cls.kind === 'system' && cls.manager === 'apt' && cls.action === 'update') { update = true; continue; }
    if (cls.kind === 'system' && cls.manager === 'apt' && cls.action === 'upgrade' && update) continue;
    if (cls.kind === 'noop') continue;
    return false;
  }
  return update;
}

const aptInstall = (inst: Instruction): boolean =>
  runInfo(inst)?.commands.some(({ cls }) => cls.kind === 'system' && cls.manager === 'apt' && cls.action === 'install') === true;
const aptUpdate = (inst: Instruction): boolean =>
  runInfo(inst)?.commands.some(({ cls }) => cls.kind === 'system' && cls.manager === 'apt' && cls.action === 'update') === true;
/** Touches apt's sources or keys, or runs apt/dpkg: the update's place matters to it. */
const aptRelated = (inst: Instruction): boolean => /\b(apt|apt-get|aptitude|dpkg|apt-key|add-apt-repository|gpg|sources\.list|\/etc\/apt|keyrings?)\b/.test(inst.original + inst.heredocs.map((h) => h.content).join('\n'));

export const aptUpdateSeparate: Rule = {
  id: ID,
  title: '`RUN apt-get update` on its own: its cached package lists go stale for the install after it.',
  defaultSeverity: 'warning',
  check(ctx) {
    const out: Array<Omit<RuleDiagnostic, 'rule' | 'severity'>> = [];
    for (const info of analyzeStages(ctx.stages)) {
      const cmds = info.stage.commands;
      cmds.forEach((inst, i) => {
        if (!isUpdateOnly(inst)) return;
        const j = cmds.findIndex((c, k) => k > i && kw(c) === 'RUN' && aptInstall(c));
        const install = cmds[j];
        if (j < 0 || install === undefined || aptUpdate(install)) return;
        const fix = merge(ctx, info, i, j);
        const message = `${quote(inst)} is its own cached step: when ${quote(install)} (line ${lineNo(install)}) changes, it runs against package lists as old as that cache entry (missing or outdated packages). Update in the same RUN.`;
        out.push({ range: headRange(inst), message: typeof fix === 'string' ? `${message} (No automatic fix: ${fix}.)` : message, fixes: typeof fix === 'string' ? [] : [fix] });
      });
    }
    return out;
  },
};

function merge(ctx: RuleContext, info: StageInfo, i: number, j: number): RuleFix | string {
  const cmds = info.stage.commands;
  const update = cmds[i];
  const install = cmds[j];
  if (update === undefined || install === undefined) return 'internal';
  if (update.flags.length > 0) return 'the update has flags of its own';
  if (install.json || install.heredocs.length > 0) return 'the install is not a one-line shell command';
  for (let k = i + 1; k < j; k++) {
    const inst = cmds[k];
    if (inst === undefined) continue;
    const why = blocks(info, inst);
    if (why !== undefined) return why;
  }
  const doc = new DocText(ctx.text);
  const updateCmd = update.json ? update.args.map((a) => a.value).join(' ') : update.argsText.replace(/\s+/g, ' ').trim();
  // Right before the install's command: its flags, continuation lines and indentation stay as they are.
  const at = install.argsRange.start;
  return {
    title: `Run \`${updateCmd}\` in the install's RUN`,
    edits: [
      doc.deleteLines(update.range.start.line, update.range.end.line),
      { range: { start: at, end: at }, newText: `${updateCmd} && ` },
    ],
    isPreferred: true,
  };
}

function blocks(info: StageInfo, inst: Instruction): string | undefined {
  const where = `${quote(inst)} (line ${lineNo(inst)})`;
  switch (kw(inst)) {
    case 'RUN': return aptRelated(inst) ? `${where} uses apt in between` : undefined;
    case 'COPY': case 'ADD': {
      const c = copyInfo(inst);
      if (c === undefined) return `${where} is not understood`;
      return isSystemPath(copyDestDir(c, stateOf(info, inst))) ? `${where} may change apt's configuration` : undefined;
    }
    case 'ENV': {
      const hit = envPairs(inst).find(([k]) => APT_ENV.test(k));
      return hit === undefined ? undefined : `${where} sets ${hit[0]}, which apt reads`;
    }
    case 'ARG': {
      const hit = argPairs(inst).find(([k]) => APT_ENV.test(k));
      return hit === undefined ? undefined : `${where} declares ${hit[0]}, which apt reads`;
    }
    case 'USER': case 'SHELL': return `${where} changes how the update would run`;
    default: return undefined;
  }
}
