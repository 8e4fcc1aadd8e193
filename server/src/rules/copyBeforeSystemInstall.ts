/**
 * cache/copy-before-system-install: a system package install (`apt-get install`, `apk add`,
 * `dnf install`…) that reads nothing from the context, or only a file or two of it (a package list,
 * a local .deb), placed after a broad COPY reruns on every source edit. Flagged at the COPY. Fix:
 * move it above the COPY (with the files it reads copied on their own first) when nothing in
 * between affects it.
 */

import { flagValues, type Instruction } from '../parser';
import { isSystemPath, overlaps } from './commands';
import {
  analyzeStages, argPairs, contextDirs, contextPath, copyDestDir, copyInfo, envPairs, isBroadCopy, isWholeContext, kw, resolvePath, runInfo, stateOf, stepText,
  type CopyInfo, type RunInfo, type StageInfo,
} from './model';
import { mentionsVar } from './shell';
import { DocText, headRange, instructionBlock, keywordLike, lineNo, quote } from './text';
import type { Rule, RuleContext, RuleDiagnostic, RuleFix } from './types';

export const ID = 'cache/copy-before-system-install';

/** Variables package managers and their maintainer scripts read without being named. */
const AFFECTS_PACKAGES = /^(DEBIAN_FRONTEND|DEBCONF_.*|APT_.*|PATH|HOME|SHELL|LANG|LANGUAGE|LC_.*|TZ|LD_.*|[Hh][Tt][Tt][Pp][Ss]?_[Pp][Rr][Oo][Xx][Yy]|[Nn][Oo]_[Pp][Rr][Oo][Xx][Yy]|[Ff][Tt][Pp]_[Pp][Rr][Oo][Xx][Yy]|[Aa][Ll][Ll]_[Pp][Rr][Oo][Xx][Yy]|TARGET.*|BUILD.*)$/;

/** A RUN that only installs system packages (and cleans up after): it reads nothing from the context. */
export function isSystemInstall(r: RunInfo): boolean {
  return systemInstallReads(r)?.length === 0;
}

/**
 * For a RUN that only installs system packages (and cleans up after): the files it reads, absolute
 * (a package list, a local .deb), `[]` when none. Undefined for any other RUN, or when what it
 * reads is not known (`apk add $PKGS`).
 */
function systemInstallReads(r: RunInfo, workdir = '/'): string[] | undefined {
  if (r.contextMounts || r.commands.length === 0) return undefined;
  let installs = false;
  const reads: string[] = [];
  for (const { cmd, cls } of r.commands) {
    if (cls.kind === 'system') {
      if (cls.localFiles && (cls.action !== 'install' || cls.reads.length === 0 || cmd.cwd === undefined)) return undefined;
      if (cls.action === 'install') installs = true;
      const cwd = resolvePath(workdir, cmd.cwd === undefined || cmd.cwd === '' ? '.' : cmd.cwd);
      for (const f of cls.reads) reads.push(resolvePath(cwd, f));
      continue;
    }
    if (cls.kind === 'noop' || cls.kind === 'fs') continue;
    return undefined;
  }
  return installs ? reads : undefined;
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
        const copy = cmds[firstBroad];
        const ci = copy === undefined ? undefined : copyInfo(copy);
        if (r === undefined || copy === undefined || ci === undefined) return;
        const reads = systemInstallReads(r, stateOf(info, inst).workdir);
        if (reads === undefined) return;
        // What it reads of the copied tree, as context paths: copied on its own first, the rest after.
        const own = reads.length === 0 ? [] : readFromCopy(ctx, info, ci, reads);
        if (own === undefined) return;
        const scope = ci.sources.every(isWholeContext) ? 'the build context' : `\`${ci.sources.map(contextPath).join('`, `')}\``;
        const needs = own.length === 0 ? 'though they need none of it' : `though they read only ${own.map((f) => `\`${f.context}\``).join(', ')} of it`;
        const message = `${quote(copy)} (line ${lineNo(copy)}) comes before ${quote(inst)} (line ${lineNo(inst)}): every change to any file in ${scope} reinstalls these system packages, ${needs}.`;
        const advice = own.length === 0 ? 'Install them before the COPY' : `Copy ${own.map((f) => `\`${f.context}\``).join(', ')} on ${own.length === 1 ? 'its' : 'their'} own and install before the COPY`;
        const fix = moveAbove(ctx, info, firstBroad, j, own);
        // At the COPY: the line a fix changes, and the one that busts the cache.
        out.push({
          range: headRange(copy),
          message: typeof fix === 'string' ? `${message} ${advice} (no automatic fix: ${fix}).` : `${message} ${advice}.`,
          fixes: typeof fix === 'string' ? [] : [fix],
        });
      });
    }
    return out;
  },
};

interface ReadFile {
  /** Where the install reads it, absolute. */
  image: string;
  /** The context file the broad COPY puts there. */
  context: string;
}

/**
 * The context files behind the image paths an install reads, when each is a plain file the broad
 * COPY puts there; undefined when one is not (it comes from elsewhere, or its source is unknown).
 */
function readFromCopy(ctx: RuleContext, info: StageInfo, c: CopyInfo, reads: readonly string[]): ReadFile[] | undefined {
  const files = ctx.contextFiles;
  if (files === undefined || c.sources.length !== 1) return undefined;
  const dest = copyDestDir(c, stateOf(info, c.inst));
  const base = contextPath(c.sources[0] ?? '');
  const dirs = contextDirs(files);
  const out: ReadFile[] = [];
  for (const image of reads) {
    if (!image.startsWith(`${dest}/`) || /[*?[$\s"'\\]/.test(image)) return undefined;
    const rel = image.slice(dest.length + 1);
    const context = base === '' ? rel : `${base}/${rel}`;
    if (!files.has(context) || dirs.has(context)) return undefined;
    if (!out.some((f) => f.image === image)) out.push({ image, context });
  }
  return out;
}

function moveAbove(ctx: RuleContext, info: StageInfo, copyIndex: number, runIndex: number, own: readonly ReadFile[]): RuleFix | string {
  const cmds = info.stage.commands;
  const run = cmds[runIndex];
  const copy = cmds[copyIndex];
  if (run === undefined || copy === undefined) return 'internal';
  const text = stepText(run);
  // Paths the RUN creates or removes itself (`useradd -m`, `mkdir`, `rm`): a COPY it passes must not land there.
  const touched = (runInfo(run)?.commands ?? []).flatMap(({ cls }) => (cls.kind === 'fs' ? cls.paths : []));
  const hit = own.find((f) => touched.some((p) => overlaps(p, f.image)));
  if (hit !== undefined) return `the RUN changes ${hit.image}, which the COPY would then put back`;
  if (own.length > 0 && ['parents', 'exclude', 'link'].some((fl) => flagValues(copy, fl).length > 0)) return `${quote(copy)} uses --parents, --exclude or --link`;
  for (let k = copyIndex; k < runIndex; k++) {
    const inst = cmds[k];
    if (inst === undefined) continue;
    const why = blocks(info, inst, text, touched);
    if (why !== undefined) return why;
  }
  const doc = new DocText(ctx.text);
  const block = instructionBlock(ctx.ast, run);
  const target = instructionBlock(ctx.ast, copy);
  // The files it reads, each copied to where the broad COPY puts it, with the same flags (owner, mode).
  const keyword = keywordLike(copy.keyword, 'COPY');
  const flags = copy.flags.filter((fl) => fl.name !== 'from').map((fl) => doc.slice(fl.range));
  const copies = own.map((f) => `${[keyword, ...flags, f.context, f.image].join(' ')}${doc.eol}`).join('');
  return {
    title: own.length === 0 ? `Move ${quote(run, 40)} above ${quote(copy, 30)}` : `Copy ${own.map((f) => f.context).join(', ')} first and move ${quote(run, 40)} above ${quote(copy, 30)}`,
    edits: [doc.insertBefore(target.from, copies + doc.blockText(block.from, block.to)), doc.deleteLines(block.from, block.to)],
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
