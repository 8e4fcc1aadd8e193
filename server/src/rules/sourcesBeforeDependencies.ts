/**
 * Part of cache/copy-all-before-install: a source folder copied into the project before the
 * dependency step (`COPY src ./src`, `COPY pom.xml .`, `RUN mvn dependency:go-offline`): every
 * source edit reruns the download, though it reads only the manifests. Fix: move that COPY to just
 * after the dependency step.
 */

import type { Instruction } from '../parser';
import type { CommandClass, Tool } from './commands';
import { isSystemPath, overlaps } from './commands';
import { isNestedManifest, manifestDirs, manifestNames } from './manifests';
import {
  contextDirs, contextPath, copyDestDir, copyInfo, isBroadCopy, kw, resolvePath, runInfo, runsAfter, stateOf, scanOnce,
  type CopyInfo, type StageInfo,
} from './model';
import { DocText, attachedStart, headRange, lineNo, quote } from './text';
import type { RuleContext, RuleDiagnostic, RuleFix } from './types';

type Install = Extract<CommandClass, { kind: 'install' }>;

/**
 * Tools whose dependency step provably reads only the manifests: no install-time scripts of the
 * project run (npm/yarn lifecycle scripts, composer scripts, a gemspec, build.rs may read anything).
 */
const NO_PROJECT_SCRIPTS = new Set<Tool>(['maven', 'gradle', 'go', 'dotnet', 'pip', 'poetry', 'uv', 'pipenv', 'pdm']);

/** Instructions that may sit between: they neither read nor write files. */
const CONFIG_ONLY = new Set(['ENV', 'ARG', 'LABEL', 'EXPOSE', 'CMD', 'ENTRYPOINT', 'HEALTHCHECK', 'STOPSIGNAL', 'MAINTAINER', 'SHELL']);

/** The diagnostic for a source folder copied before a dependency step, or undefined. */
export function sourcesBeforeDependencies(ctx: RuleContext, info: StageInfo, c: CopyInfo, index: number): Omit<RuleDiagnostic, 'rule' | 'severity'> | undefined {
  const files = ctx.contextFiles;
  if (files === undefined || c.sources.length !== 1 || c.fromOther || c.heredoc || !isBroadCopy(c, files)) return undefined;
  const source = contextPath(c.sources[0] ?? '');
  if (source === '') return undefined;
  const dest = copyDestDir(c, stateOf(info, c.inst));
  for (const { run, r, index: j } of runsAfter(info, index)) {
    const install = r.commands.find(({ cls }) => cls.kind === 'install')?.cls;
    if (install?.kind !== 'install') continue;
    if (!install.manifestOnly || !NO_PROJECT_SCRIPTS.has(install.tool)) return undefined;
    const cmd = r.commands.find(({ cls }) => cls === install)?.cmd;
    if (cmd?.cwd === undefined) return undefined;
    const cwd = resolvePath(stateOf(info, run).workdir, cmd.cwd === '' ? '.' : cmd.cwd);
    // Strictly inside the project (a source folder), not a folder the install reads (`.mvn`), not a module with manifests of its own.
    if (!dest.startsWith(`${cwd}/`)) return undefined;
    const rel = dest.slice(cwd.length + 1);
    const top = rel.split('/')[0] ?? '';
    if (manifestDirs(install.tool).includes(top) || manifestNames(install.tool).some((p) => (typeof p === 'string' ? p === top : p.test(top)))) return undefined;
    if (holdsManifest(files, source, rel, install.tool)) return undefined;
    const message = `${quote(c.inst)} copies sources before ${quote(run)} (line ${lineNo(run)}), which reads only the manifests: every change to any file in \`${source}/\` reruns it and every step after it.`;
    const fix = moveAfter(ctx, info, c, index, j, install, dest);
    return typeof fix === 'string'
      ? { range: headRange(c.inst), message: `${message} Copy them after it (no automatic fix: ${fix}).`, fixes: [] }
      : { range: headRange(c.inst), message: `${message} Copy them after it.`, fixes: [fix] };
  }
  return undefined;
}

/** Whether the copied folder holds a manifest of the tool (a module, a project): the install would read it. */
function holdsManifest(files: ReadonlySet<string>, source: string, rel: string, tool: Tool): boolean {
  return scanOnce(files, `manifest under ${source} for ${tool} at ${rel}`, () => {
    for (const f of files) {
      if (!f.startsWith(`${source}/`)) continue;
      if (isNestedManifest(tool, `${rel}/${f.slice(source.length + 1)}`)) return true;
    }
    return false;
  });
}

function moveAfter(ctx: RuleContext, info: StageInfo, c: CopyInfo, index: number, runIndex: number, install: Install, dest: string): RuleFix | string {
  const cmds = info.stage.commands;
  const run = cmds[runIndex];
  if (run === undefined) return 'internal';
  if (isSystemPath(dest)) return `${quote(c.inst)} copies into a folder of the base image`;
  const r = runInfo(run);
  // Nothing in the dependency RUN may touch the copied folder.
  for (const { cmd, cls } of r?.commands ?? []) {
    if (cls === install || cls.kind === 'noop') continue;
    if (cls.kind === 'fs' && cls.paths.every((p) => p.startsWith('/') && !overlaps(p, dest))) continue;
    return `the RUN also runs \`${cmd.argv.join(' ')}\``;
  }
  if (r?.contextMounts === true) return 'the RUN mounts files from the build context';
  for (let k = index + 1; k < runIndex; k++) {
    const between = cmds[k];
    if (between === undefined) continue;
    const why = blocks(ctx, info, between, dest);
    if (why !== undefined) return why;
  }
  const doc = new DocText(ctx.text);
  const from = attachedStart(ctx.ast, c.inst);
  return {
    title: `Move ${quote(c.inst, 40)} after ${quote(run, 40)}`,
    edits: [doc.insertAfter(run.range.end.line, doc.blockText(from, c.inst.range.end.line)), doc.deleteLines(from, c.inst.range.end.line)],
    isPreferred: true,
  };
}

/** Why the COPY cannot move past this instruction, or undefined when it can. */
function blocks(ctx: RuleContext, info: StageInfo, inst: Instruction, dest: string): string | undefined {
  const where = `${quote(inst)} (line ${lineNo(inst)})`;
  const k = kw(inst);
  if (CONFIG_ONLY.has(k)) return undefined;
  if (k === 'COPY' || k === 'ADD') {
    const other = copyInfo(inst);
    if (other === undefined || other.heredoc || other.fromOther) return `${where} is not understood`;
    const otherDest = copyDestDir(other, stateOf(info, inst));
    if (!overlaps(otherDest, dest)) return undefined;
    // Plain files (the manifests) into the project folder: each lands at its name, beside the moved folder.
    const files = ctx.contextFiles;
    const plain = files !== undefined && other.sources.every((s) => { const p = contextPath(s); return p !== '' && files.has(p) && !contextDirs(files).has(p); });
    const intoDir = other.sources.length > 1 || other.dest.endsWith('/') || other.dest === '.';
    const written = other.sources.map((s) => (intoDir ? `${otherDest}/${contextPath(s).replace(/^.*\//, '')}` : otherDest));
    return plain && written.every((w) => !overlaps(w, dest)) ? undefined : `${where} copies into the same place`;
  }
  return `${where} comes between and may use the copied files`;
}
