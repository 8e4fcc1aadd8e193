/**
 * cache/copy-all-before-install: a COPY of the whole context (or of the folder holding the
 * manifests) before the dependency install makes every source edit reinstall the dependencies.
 * Fix: copy the manifests first, run the install, then copy the rest.
 */

import { flagValue, flagValues, type Instruction } from '../parser';
import type { CommandClass, Tool } from './commands';
import { isSystemPath, overlaps } from './commands';
import { manifestLabel, manifestNames, planManifests } from './manifests';
import {
  analyzeStages, contextPath, copyDestDir, copyInfo, descendants, isBroadCopy, isContextDir, isWholeContext, kw, resolvePath, runInfo, runsAfter, stateOf,
  type CopyInfo, type StageInfo, contextChildren,
} from './model';
import { normalizePath, type SimpleCommand } from './shell';
import { sourcesBeforeDependencies } from './sourcesBeforeDependencies';
import { DocText, attachedStart, headRange, keywordLike, lineNo, quote } from './text';
import type { FixEdit, Rule, RuleContext, RuleDiagnostic, RuleFix } from './types';

export const ID = 'cache/copy-all-before-install';

type Install = Extract<CommandClass, { kind: 'install' }>;

/** What to do instead when the install needs the sources itself. */
const DEPENDENCY_STEP: Record<Tool, string> = {
  npm: 'copy package.json and its lock file and run `npm ci` before copying the sources',
  yarn: 'copy package.json and yarn.lock and run `yarn install --frozen-lockfile` before copying the sources',
  pnpm: 'copy pnpm-lock.yaml and run `pnpm fetch` before copying the sources',
  bun: 'copy package.json and bun.lock and run `bun install --frozen-lockfile` before copying the sources',
  pip: 'copy the requirements files and run `pip install -r …` before copying the sources',
  uv: 'copy pyproject.toml and uv.lock and run `uv sync --no-install-project` before copying the sources',
  poetry: 'copy pyproject.toml and poetry.lock and run `poetry install --no-root` before copying the sources',
  pipenv: 'copy Pipfile and Pipfile.lock and run `pipenv install --deploy` before copying the sources',
  pdm: 'copy pyproject.toml and pdm.lock and run `pdm install --no-self` before copying the sources',
  go: 'copy go.mod and go.sum and run `go mod download` before copying the sources',
  cargo: 'copy Cargo.toml and Cargo.lock with a placeholder src/main.rs and run `cargo fetch` before copying the sources',
  maven: 'copy pom.xml and run `mvn dependency:go-offline` before copying the sources',
  gradle: 'copy the Gradle build files and run `gradle dependencies` before copying the sources',
  bundler: 'copy Gemfile and Gemfile.lock and run `bundle install` before copying the sources',
  composer: 'copy composer.json and composer.lock and run `composer install --no-scripts --no-autoloader` before copying the sources',
  dotnet: 'copy the project files and run `dotnet restore` before copying the sources',
};

/** Instructions that may sit between the COPY and the install: they neither read nor write files. */
const CONFIG_ONLY = new Set(['ENV', 'ARG', 'LABEL', 'EXPOSE', 'CMD', 'ENTRYPOINT', 'HEALTHCHECK', 'STOPSIGNAL', 'MAINTAINER', 'ONBUILD', 'SHELL']);

interface Found {
  copy: CopyInfo;
  run: Instruction;
  install: Install;
  /** The install's command in the RUN. */
  cmd: SimpleCommand;
  /** The install's directory, absolute (or under the base image's workdir). */
  cwd: string;
  dest: string;
  /** The context folder that lands where the install runs. */
  root: string;
  source: string;
}

export const copyAllBeforeInstall: Rule = {
  id: ID,
  title: 'The whole context is copied before the dependency install: every source edit reinstalls the dependencies.',
  defaultSeverity: 'warning',
  check(ctx) {
    const out: Array<Omit<RuleDiagnostic, 'rule' | 'severity'>> = [];
    const infos = analyzeStages(ctx.stages);
    for (const info of infos) {
      const cmds = info.stage.commands;
      cmds.forEach((inst, i) => {
        const c = copyInfo(inst);
        if (c === undefined || !isBroadCopy(c, ctx.contextFiles)) return;
        const found = findInstall(ctx, info, c, i);
        if (found !== undefined) { out.push(diagnose(ctx, info, found, i)); return; }
        const early = sourcesBeforeDependencies(ctx, info, c, i);
        if (early !== undefined) out.push(early);
      });
    }
    return out;
  },
};

function findInstall(ctx: RuleContext, info: StageInfo, c: CopyInfo, index: number): Found | undefined {
  const dest = copyDestDir(c, stateOf(info, c.inst));
  for (const { run, r } of runsAfter(info, index)) {
    const state = stateOf(info, run);
    for (const { cmd, cls: found } of r.commands) {
      if (found.kind !== 'install' || cmd.cwd === undefined) continue;
      const cwd = resolvePath(state.workdir, cmd.cwd === '' ? '.' : cmd.cwd);
      // `cargo fetch` reads the crate's targets too: a `cargo init` there before the COPY made placeholders, so the manifests suffice.
      const cls = found.tool === 'cargo' && cmd.argv[1] === 'fetch' && !found.manifestOnly && cargoInitBefore(info, c.inst, cwd) ? { ...found, manifestOnly: true } : found;
      const rel = cwd === dest ? '' : cwd.startsWith(`${dest}/`) ? cwd.slice(dest.length + 1) : undefined;
      if (rel === undefined) continue;
      for (const source of c.sources) {
        if (!isContextDir(source, ctx.contextFiles)) continue;
        const base = contextPath(source);
        const root = [base, rel].filter((s) => s !== '').join('/');
        if (!provides(ctx, cls, root, isWholeContext(source))) continue;
        // Split already: the downloads ran before this COPY (`pnpm fetch` then `pnpm install --offline`,
        // `cargo fetch` with placeholder targets then `cargo build`); what is left needs the sources.
        if ((!cls.manifestOnly || cmd.argv.includes('--offline')) && hasEarlierDependencyStep(info, c.inst, cls.tool)) continue;
        if (cls.tool === 'go' && !cls.manifestOnly && ctx.contextFiles?.has(root === '' ? 'vendor' : `${root}/vendor`) === true) continue;
        return { copy: c, run, install: cls, cmd, cwd, dest, root, source };
      }
    }
  }
  return undefined;
}

/** A `cargo init` / `cargo new .` run in `dir` before `before` in this stage: the crate has placeholder targets. */
function cargoInitBefore(info: StageInfo, before: Instruction, dir: string): boolean {
  for (const inst of info.stage.commands) {
    if (inst === before) return false;
    const r = runInfo(inst);
    if (r === undefined) continue;
    const workdir = stateOf(info, inst).workdir;
    for (const { cmd } of r.commands) {
      if (cmd.argv[0] !== 'cargo' || cmd.cwd === undefined) continue;
      const at = resolvePath(workdir, cmd.cwd === '' ? '.' : cmd.cwd);
      if (cmd.argv[1] !== 'init' && cmd.argv[1] !== 'new') continue;
      // The path: the first word that is neither a flag nor a flag's value (`--name x`, `--vcs none`).
      const words = cmd.argv.slice(2);
      const path = words.find((a, k) => !a.startsWith('-') && !/^--(name|vcs|edition|registry|color|config)$/.test(words[k - 1] ?? ''));
      if (path === undefined && cmd.argv[1] === 'new') continue;
      if (resolvePath(at, path ?? '.') === dir) return true;
    }
  }
  return false;
}

/** Whether the copied folder holds what the install reads. */
function provides(ctx: RuleContext, cls: Install, root: string, whole: boolean): boolean {
  const files = ctx.contextFiles;
  // Unread context: a whole-context COPY holds the manifests if any copy does (but `go build` also works without go.mod).
  if (files === undefined) return whole && (cls.manifestOnly || cls.tool !== 'go');
  const at = (rel: string): string => (root === '' ? rel : `${root}/${rel}`);
  if (cls.files.length > 0 && (cls.tool === 'pip' || cls.tool === 'uv')) return cls.files.every((f) => files.has(at(normalizePath(f))));
  return contextChildren(files, root).some((name) => manifestNames(cls.tool).some((p) => (typeof p === 'string' ? p === name : p.test(name))));
}

/**
 * An install of the same tool before `before` (the broad COPY), in this stage or its parents: it ran
 * without the sources, so it is the dependency step (a `cargo fetch` or `cargo build` needs
 * placeholder targets for that, and gets them there).
 */
function hasEarlierDependencyStep(info: StageInfo, before: Instruction, tool: Tool): boolean {
  for (let s: StageInfo | undefined = info; s !== undefined; s = s.parent) {
    for (const inst of s.stage.commands) {
      if (inst === before) break;
      const r = runInfo(inst);
      if (r?.commands.some(({ cls }) => cls.kind === 'install' && cls.tool === tool) === true) return true;
    }
  }
  return false;
}

function diagnose(ctx: RuleContext, info: StageInfo, f: Found, index: number): Omit<RuleDiagnostic, 'rule' | 'severity'> {
  const scope = isWholeContext(f.source) ? 'the build context' : `\`${contextPath(f.source)}/\``;
  const head = `Every change to any file in ${scope} reruns ${quote(f.run)} (line ${lineNo(f.run)}) and every step after it.`;
  if (!f.install.manifestOnly) {
    const needs = `${head} It needs the sources (${f.install.why ?? 'it reads them'}), but its downloads do not: ${DEPENDENCY_STEP[f.install.tool]}`;
    const split = SPLITS[f.install.tool] === undefined || !SPLITS[f.install.tool]?.subcommands.includes(f.cmd.argv[1] ?? '') ? 'not proven safe for this tool; do it by hand' : fixPlan(ctx, info, f, index, 'split');
    return typeof split === 'string'
      ? { range: headRange(f.copy.inst), message: `${needs} (no automatic fix: ${split}).`, fixes: [] }
      : { range: headRange(f.copy.inst), message: `${needs}.`, fixes: [split] };
  }
  const plan = fixPlan(ctx, info, f, index);
  const label = manifestLabel(f.install.tool);
  if (typeof plan === 'string') {
    return { range: headRange(f.copy.inst), message: `${head} Copy ${label} first, run the install, then copy the rest (no automatic fix: ${plan}).`, fixes: [] };
  }
  return { range: headRange(f.copy.inst), message: `${head} Copy ${label} first, run the install, then copy the rest.`, fixes: [plan] };
}

/**
 * Installs that need the sources but whose downloads can run first, in a step of their own, with the
 * same result in the shipped image: the dependency command to insert, for these subcommands.
 * Go only: `go build` reads the module cache `go mod download` fills, and its output does not depend
 * on who filled it. Maven's go-offline, cargo fetch and a restore before `dotnet build` fill their
 * caches differently from the build itself: done by hand (the message says how).
 */
const SPLITS: Partial<Record<Tool, { subcommands: string[]; command: string }>> = {
  go: { subcommands: ['build', 'install'], command: 'go mod download' },
};

/** The split, or why it is not safe. `move`: the broad COPY goes after the install; `split`: a dependency step is inserted before it. */
function fixPlan(ctx: RuleContext, info: StageInfo, f: Found, index: number, mode: 'move' | 'split' = 'move'): RuleFix | string {
  const files = ctx.contextFiles;
  if (files === undefined) return 'the build context has not been read yet, so which lock files exist is unknown';
  const copy = f.copy.inst;
  const run = f.run;
  const r = runInfo(run);
  if (r === undefined) return 'not a RUN';
  if (f.copy.sources.length !== 1) return 'the COPY has several sources';
  if (['parents', 'exclude', 'checksum', 'unpack', 'keep-git-dir'].some((fl) => flagValues(copy, fl).length > 0)) return `the ${kw(copy)} uses --parents, --exclude or an ADD-only flag`;
  if (r.contextMounts) return 'the RUN mounts files from the build context';
  const copyState = stateOf(info, copy);
  if (f.dest !== copyState.workdir) return 'the COPY does not copy into the working directory';
  if (f.cwd !== f.dest) return 'the install runs in a subfolder of the copy';
  // The install RUN must read nothing else: its other commands may not touch the copied files.
  for (const { cmd, cls } of r.commands) {
    if (cmd === f.cmd || mode === 'split') continue;
    if (!harmless(cls, f.dest)) return `the RUN also runs \`${cmd.argv.join(' ')}\`, which may read the sources`;
  }
  // The download fills the module cache in its own way: only where that stays out of the image.
  if (mode === 'split') {
    const why = shipsStage(ctx, info);
    if (why !== undefined) return why;
    // A cache mount over the module cache already keeps the downloads, and would hide the new step's.
    if (r.cacheTargets.some((t) => /(^|\/)pkg\/mod(\/|$)/.test(t) || overlaps(t, '/go'))) return 'the build mounts a cache over the module cache already';
  }
  const cmds = info.stage.commands;
  const runIndex = cmds.indexOf(run);
  for (let k = index + 1; k < runIndex; k++) {
    const between = cmds[k];
    if (between === undefined) continue;
    const k2 = kw(between);
    if (CONFIG_ONLY.has(k2)) {
      if ((k2 === 'ENV' || k2 === 'ARG') && copy.original.includes('$')) return `${quote(between)} (line ${lineNo(between)}) may change how the COPY expands`;
      continue;
    }
    const br = runInfo(between);
    if (br !== undefined && !br.contextMounts && br.commands.every(({ cls }) => harmless(cls, f.dest))) continue;
    return `${quote(between)} (line ${lineNo(between)}) comes between and may use the copied files`;
  }
  const plan = planManifests(mode === 'split' ? { ...f.install, manifestOnly: true, files: [] } : f.install, files, f.root);
  if ('blocked' in plan) return plan.blocked;
  const srcPrefix = contextPath(f.source) === '' ? '' : `${contextPath(f.source)}/`;
  const all = [...plan.files, ...plan.dirs, ...plan.members].map((p) => srcPrefix + p);
  if (all.some((p) => /[\s"'\\$]/.test(p))) return 'a manifest name needs quoting';

  const doc = new DocText(ctx.text);
  // Manifests are plain files: COPY, even when the broad copy is an ADD.
  const keyword = keywordLike(copy.keyword, 'COPY');
  const flags = copy.flags.map((fl) => doc.slice(fl.range)).join(' ');
  const destWord = copy.args[copy.args.length - 1]?.value ?? '.';
  const destText = (copy.json ? destWord : destWord.replace(/^(["'])(.*)\1$/, '$2')).replace(/\/*$/, '/');
  const line = (sources: string[], dest: string): string => {
    const parts = copy.json
      ? [keyword, ...(flags === '' ? [] : [flags]), `[${[...sources, dest].map((s) => JSON.stringify(s)).join(', ')}]`]
      : [keyword, ...(flags === '' ? [] : [flags]), ...sources, dest];
    return parts.join(' ');
  };
  // Members' manifests: a COPY per folder, each into the same folder under the destination (the
  // Docker 26.1 built-in frontend has no `COPY --parents`, which needs the 1.7-labs syntax).
  const folders = new Map<string, string[]>();
  for (const m of plan.members) {
    const dir = m.slice(0, m.lastIndexOf('/'));
    folders.set(dir, [...(folders.get(dir) ?? []), m]);
  }
  const lines = [
    ...(plan.files.length === 0 ? [] : [line(plan.files.map((p) => srcPrefix + p), destText)]),
    ...plan.dirs.map((d) => line([srcPrefix + d], `${destText}${d}/`)),
    ...[...folders].map(([dir, ms]) => line(ms.map((m) => srcPrefix + m), `${destText}${dir}/`)),
  ];
  const indent = doc.indentOf(copy.range.start.line);
  const edits: FixEdit[] = [];
  // The broad COPY (with its comments) moves to just after the install; the manifests take its place.
  const commentStart = attachedStart(ctx.ast, copy);
  if (commentStart < copy.range.start.line) edits.push(doc.deleteLines(commentStart, copy.range.start.line - 1));
  const split = SPLITS[f.install.tool];
  if (mode === 'split' && split !== undefined) {
    // The manifests and the download go before the broad COPY (and its comments); the build stays as it is.
    const runLine = `${keywordLike(copy.keyword, 'RUN')} ${split.command}`;
    return {
      title: `Download the dependencies first (\`${split.command}\`)`,
      edits: [doc.insertBefore(commentStart, [...lines, runLine].map((l) => indent + l + doc.eol).join(''))],
      isPreferred: true,
      cheaperReruns: true,
    };
  }
  edits.push({ range: { start: copy.keywordRange.start, end: copy.range.end }, newText: lines.join(doc.eol + indent) });
  edits.push(doc.insertAfter(run.range.end.line, doc.blockText(commentStart, copy.range.end.line)));
  return {
    title: 'Copy the dependency manifests first',
    edits,
    isPreferred: f.install.frozen,
  };
}

/**
 * Why this stage's files may reach the shipped image (it is the last stage or one is built on it,
 * or a `COPY --from` takes a relative path or one under /go or /root from it), or undefined.
 */
function shipsStage(ctx: RuleContext, info: StageInfo): string | undefined {
  const all = analyzeStages(ctx.stages);
  const lastIndex = all[all.length - 1]?.stage.index;
  const family = descendants(info);
  if (family.some((s) => s.stage.index === lastIndex)) return 'the stage is the image (or one is built on it), and the download would leave its module cache there';
  const names = new Set(family.flatMap((s) => [s.stage.name?.toLowerCase(), String(s.stage.index)]).filter((n): n is string => n !== undefined));
  for (const s of all) {
    for (const inst of s.stage.commands) {
      const c = copyInfo(inst);
      const from = flagValue(inst, 'from')?.toLowerCase();
      if (c === undefined || from === undefined || !names.has(from)) continue;
      if (c.sources.some((src) => !src.startsWith('/') || src.includes('$') || overlaps(src, '/go') || overlaps(src, '/root'))) return `${quote(inst)} (line ${lineNo(inst)}) may copy the module cache out`;
    }
  }
  return undefined;
}

/** A command that neither reads nor writes the copied files. */
function harmless(cls: CommandClass, dest: string): boolean {
  switch (cls.kind) {
    case 'noop': return true;
    case 'global': return !isSystemPath(dest);
    case 'system': return !cls.localFiles && !isSystemPath(dest);
    case 'fs': return dest.startsWith('/') && cls.paths.every((p) => !overlaps(p, dest));
    default: return false;
  }
}
