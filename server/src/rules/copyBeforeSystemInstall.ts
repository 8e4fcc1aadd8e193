/**
 * cache/copy-before-system-install: a system package install (`apt-get install`, `apk add`,
 * `dnf install`…) that reads nothing from the context placed after a broad COPY reruns on every
 * source edit. Fix: move it above the COPY when nothing in between affects it.
 */

import type { Instruction } from '../parser';
import { isSystemPath, overlaps } from './commands';
import {
  analyzeStages, argPairs, contextPath, copyDestDir, copyInfo, envPairs, isBroadCopy, isWholeContext, kw, runInfo, stateOf, stepText,
  type RunInfo, type StageInfo,
} from './model';
import { mentionsVar } from './shell';
import { DocText, headRange, instructionBlock, lineNo, quote } from './text';
import type { Rule, RuleContext, RuleDiagnostic, RuleFix } from './types';

export const ID = 'cache/copy-before-system-install';

/** Variables package managers and their maintainer scripts read without being named. */
const AFFECTS_PACKAGES = /^(DEBIAN_FRONTEND|DEBCONF_.*|APT_.*|PATH|HOME|SHELL|LANG|LANGUAGE|LC_.*|TZ|LD_.*|[Hh][Tt][Tt][Pp][Ss]?_[Pp][Rr][Oo][Xx][Yy]|[Nn][Oo]_[Pp][Rr][Oo][Xx][Yy]|[Ff][Tt][Pp]_[Pp][Rr][Oo][Xx][Yy]|[Aa][Ll][Ll]_[Pp][Rr][Oo][Xx][Yy]|TARGET.*|BUILD.*)$/;

/** A RUN that only installs system packages (and cleans up after): it reads nothing from the context. */
export function isSystemInstall(r: RunInfo): boolean {
  if (r.contextMounts || r.commands.length === 0) return false;
  let installs = false;
  for (const { cls } of r.commands) {
    if (cls.kind === 'system') {
      if (cls.localFiles) return false;
      if (cls.action === 'install') installs = true;
      continue;
    }
    if (cls.kind === 'noop' || cls.kind === 'fs') continue;
    return false;
  }
  return installs;
}

export const copyBeforeSystemInstall: Rule = {
  id: ID,
  title: 'System packages are installed after a broad COPY: every source edit reinstalls them.',
  defaultSeverity: 'warning',
  check(ctx) {
    const out: Array<Omit<RuleDiagnostic, 'rule' | 'severity'>> = [];
    for (const info of analyzeStages(ctx.stages)) {
      const cmds = info.stage.commands;
      let firstBroad = -1;
      cmds.forEach((inst, j) => {
        const c = copyInfo(inst);
        if (c !== undefined && firstBroad < 0 && isBroadCopy(c, ctx.contextFiles)) { firstBroad = j; return; }
        if (firstBroad < 0) return;
        const r = runInfo(inst);
        if (r === undefined || !isSystemInstall(r)) return;
        const copy = cmds[firstBroad];
        if (copy === undefined) return;
        const ci = copyInfo(copy);
        const scope = ci !== undefined && ci.sources.every(isWholeContext) ? 'the build context' : `\`${ci?.sources.map(contextPath).join('`, `') ?? ''}\``;
        const message = `${quote(copy)} (line ${lineNo(copy)}) comes first: every change to any file in ${scope} reinstalls these system packages, though they need none of it.`;
        const fix = moveAbove(ctx, info, firstBroad, j);
        out.push({
          range: headRange(inst),
          message: typeof fix === 'string' ? `${message} Install them before the COPY (no automatic fix: ${fix}).` : `${message} Install them before the COPY.`,
          fixes: typeof fix === 'string' ? [] : [fix],
        });
      });
    }
    return out;
  },
};

function moveAbove(ctx: RuleContext, info: StageInfo, copyIndex: number, runIndex: number): RuleFix | string {
  const cmds = info.stage.commands;
  const run = cmds[runIndex];
  const copy = cmds[copyIndex];
  if (run === undefined || copy === undefined) return 'internal';
  const text = stepText(run);
  // Paths the RUN creates or removes itself (`useradd -m`, `mkdir`, `rm`): a COPY it passes must not land there.
  const touched = (runInfo(run)?.commands ?? []).flatMap(({ cls }) => (cls.kind === 'fs' ? cls.paths : []));
  for (let k = copyIndex; k < runIndex; k++) {
    const inst = cmds[k];
    if (inst === undefined) continue;
    const why = blocks(info, inst, text, touched);
    if (why !== undefined) return why;
  }
  const doc = new DocText(ctx.text);
  const block = instructionBlock(ctx.ast, run);
  const target = instructionBlock(ctx.ast, copy);
  return {
    title: `Move ${quote(run, 40)} above ${quote(copy, 30)}`,
    edits: [doc.insertBefore(target.from, doc.blockText(block.from, block.to)), doc.deleteLines(block.from, block.to)],
    isPreferred: true,
  };
}

/** Why the system install cannot move above this instruction, or undefined when it can. */
function blocks(info: StageInfo, inst: Instruction, runText: string, touched: readonly string[]): string | undefined {
  const where = `${quote(inst)} (line ${lineNo(inst)})`;
  switch (kw(inst)) {
    case 'COPY': case 'ADD': {
      const c = copyInfo(inst);
      if (c === undefined) return `${where} is not understood`;
      const dest = copyDestDir(c, stateOf(info, inst));
      if (isSystemPath(dest)) return `${where} copies into ${dest.startsWith('/') ? dest : 'a folder of the base image'}, where packages may install files`;
      const hit = touched.find((p) => overlaps(p, dest));
      return hit === undefined ? undefined : `${where} copies into ${dest}, which the RUN changes (${hit})`;
    }
    case 'ENV': {
      const hit = envPairs(inst).map(([k]) => k).find((k) => mentionsVar(runText, k) || AFFECTS_PACKAGES.test(k));
      return hit === undefined ? undefined : `${where} sets ${hit}, which the install may read`;
    }
    case 'ARG': {
      const hit = argPairs(inst).map(([k]) => k).find((k) => mentionsVar(runText, k) || AFFECTS_PACKAGES.test(k));
      return hit === undefined ? undefined : `${where} declares ${hit}, which the install may read`;
    }
    case 'WORKDIR': case 'LABEL': case 'EXPOSE': case 'CMD': case 'ENTRYPOINT': case 'HEALTHCHECK': case 'STOPSIGNAL': case 'MAINTAINER': case 'ONBUILD':
      return undefined;
    default:
      return `${where} comes between and may change what the install does`;
  }
}
