/**
 * What the rules need to know about each instruction besides its text: the stage it belongs to,
 * the working directory, environment and user it sees, what a COPY copies and where, and what a
 * RUN runs.
 */

import { flagValue, parseMount, type DockerfileStages, type Instruction, type Stage } from '../parser';
import { classify, type CommandClass } from './commands';
import { normalizePath, runScript, simpleCommands, type SimpleCommand } from './shell';

/** An unknown base-image working directory: paths relative to it compare only with each other. */
export const BASE_WORKDIR = '<base>';

export interface InstState {
  /** The working directory, absolute, or under {@link BASE_WORKDIR} when the base image's is unknown. */
  workdir: string;
  /** ENV values (quotes removed), inherited from a parent stage. */
  env: Map<string, string>;
  /** ARGs declared in this stage so far, with their defaults ('' when none). */
  args: Map<string, string>;
  user: string | undefined;
}

/** The variables an instruction expands: ARG values overridden by ENV, as in BuildKit. */
export function varsOf(state: InstState): Map<string, string> {
  return new Map([...state.args, ...state.env]);
}

export interface StageInfo {
  stage: Stage;
  /** The earlier stage this one is built `FROM`. */
  parent: StageInfo | undefined;
  /** Stages built `FROM` this one. */
  children: StageInfo[];
  /** The state before each command, in order. */
  before: Map<Instruction, InstState>;
  final: InstState;
}

export function unquote(s: string): string {
  if (s.length >= 2 && ((s.startsWith('"') && s.endsWith('"')) || (s.startsWith("'") && s.endsWith("'")))) return s.slice(1, -1);
  return s;
}

/** `$VAR` / `${VAR}` replaced from the environment; unknown variables stay as written. */
export function expand(s: string, env: ReadonlyMap<string, string>): string {
  return s.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g, (m, a: string | undefined, b: string | undefined) => env.get(a ?? b ?? '') ?? m);
}

/** A path made absolute against a working directory. */
export function resolvePath(workdir: string, p: string): string {
  if (p.startsWith('/')) return normalizePath(p);
  return normalizePath(`${workdir}/${p}`);
}

/** ENV instruction -> its pairs. */
export function envPairs(inst: Instruction): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < inst.args.length; i += 3) {
    const k = inst.args[i]?.value;
    const v = inst.args[i + 1]?.value;
    if (k !== undefined && v !== undefined) out.push([k, unquote(v)]);
  }
  return out;
}

/** ARG instruction -> names with their defaults (undefined when none). */
export function argPairs(inst: Instruction): Array<[string, string | undefined]> {
  return inst.args.map((a) => {
    const eq = a.value.indexOf('=');
    return eq < 0 ? [a.value, undefined] : [a.value.slice(0, eq), unquote(a.value.slice(eq + 1))];
  });
}

export function kw(inst: Instruction): string {
  return inst.keyword.toUpperCase();
}

export function analyzeStages(stages: DockerfileStages): StageInfo[] {
  const out: StageInfo[] = [];
  for (const stage of stages.stages) {
    const baseName = stage.base?.value.toLowerCase();
    const parent = baseName === undefined ? undefined
      : out.find((s) => s.stage.name === baseName) ?? (/^[0-9]+$/.test(baseName) ? out[Number(baseName)] : undefined);
    const init = parent?.final;
    // ARG values do not carry over to a child stage; ENV, WORKDIR and USER do.
    let state: InstState = { workdir: init?.workdir ?? BASE_WORKDIR, env: new Map(init?.env ?? []), args: new Map(), user: init?.user };
    const before = new Map<Instruction, InstState>();
    for (const inst of stage.commands) {
      before.set(inst, state);
      const next: InstState = { workdir: state.workdir, env: new Map(state.env), args: new Map(state.args), user: state.user };
      const vars = varsOf(state);
      switch (kw(inst)) {
        case 'WORKDIR': {
          const p = inst.args[0]?.value;
          if (p !== undefined) next.workdir = resolvePath(state.workdir, expand(unquote(p), vars));
          break;
        }
        case 'ENV':
          for (const [k, v] of envPairs(inst)) next.env.set(k, expand(v, vars));
          break;
        case 'ARG':
          for (const [k, v] of argPairs(inst)) next.args.set(k, v === undefined ? '' : expand(v, vars));
          break;
        case 'USER':
          next.user = inst.args[0]?.value;
          break;
        default:
          break;
      }
      state = next;
    }
    const info: StageInfo = { stage, parent, children: [], before, final: state };
    parent?.children.push(info);
    out.push(info);
  }
  return out;
}

/** The stage itself and every stage built on it, transitively. */
export function descendants(info: StageInfo): StageInfo[] {
  const out: StageInfo[] = [info];
  for (let i = 0; i < out.length; i++) out.push(...(out[i]?.children ?? []));
  return out;
}

/** The state before an instruction (every command of a stage has one). */
export function stateOf(info: StageInfo, inst: Instruction): InstState {
  return info.before.get(inst) ?? info.final;
}

// ---- COPY / ADD ----------------------------------------------------------------------------

export interface CopyInfo {
  inst: Instruction;
  /** Sources as written (quotes removed). */
  sources: string[];
  dest: string;
  /** From another stage or image (`--from`). */
  fromOther: boolean;
  heredoc: boolean;
}

export function copyInfo(inst: Instruction): CopyInfo | undefined {
  const k = kw(inst);
  if (k !== 'COPY' && k !== 'ADD') return undefined;
  const words = inst.args.map((a) => (inst.json ? a.value : unquote(a.value)));
  if (words.length < 2) return undefined;
  const dest = words[words.length - 1] ?? '';
  return {
    inst,
    sources: words.slice(0, -1),
    dest,
    fromOther: flagValue(inst, 'from') !== undefined,
    heredoc: inst.heredocs.length > 0,
  };
}

export function isUrl(src: string): boolean {
  return /^https?:\/\//i.test(src);
}

/** A git source as ADD understands it (`git@…`, `git://…`, `ssh://…`, `https://….git[#ref]`). */
export function isGitUrl(src: string): boolean {
  return /^(git@|git:\/\/|ssh:\/\/|git\+)/i.test(src) || /^https?:\/\/[^#?]+\.git([#?].*)?$/i.test(src) || /^https?:\/\/(github\.com|gitlab\.com|bitbucket\.org)\/[^/]+\/[^/#?]+(\/)?#/.test(src);
}

/** A source path relative to the context, normalised (`''` for the whole context). */
export function contextPath(src: string): string {
  const n = normalizePath(src.replace(/^\/+/, ''));
  return n === '.' ? '' : n;
}

/** The whole build context: `.`, `./`, `/`. */
export function isWholeContext(src: string): boolean {
  return contextPath(src) === '';
}

/** What rules ask of the context's paths, worked out once per file list: the server passes the same list for every keystroke. */
interface PathFacts {
  /** Folders that hold something. */
  dirs: Set<string>;
  /** Folder ('' the root) -> the names directly in it, sorted. */
  children: Map<string, string[]>;
  /** Answers of scans over every path, by question. */
  scans: Map<string, unknown>;
}

const factCache = new WeakMap<ReadonlySet<string>, PathFacts>();

function factsOf(files: ReadonlySet<string>): PathFacts {
  let facts = factCache.get(files);
  if (facts === undefined) {
    const dirs = new Set<string>();
    const children = new Map<string, string[]>();
    for (const f of files) {
      for (let i = f.indexOf('/'); i > 0; i = f.indexOf('/', i + 1)) dirs.add(f.slice(0, i));
      const slash = f.lastIndexOf('/');
      const parent = slash < 0 ? '' : f.slice(0, slash);
      let list = children.get(parent);
      if (list === undefined) children.set(parent, (list = []));
      list.push(f.slice(slash + 1));
    }
    for (const list of children.values()) list.sort();
    facts = { dirs, children, scans: new Map() };
    factCache.set(files, facts);
  }
  return facts;
}

/** The folders of the context that hold something (computed once per file list). */
export function contextDirs(files: ReadonlySet<string>): ReadonlySet<string> {
  return factsOf(files).dirs;
}

/** The names directly in a folder of the context ('' the root), sorted (computed once per file list). */
export function contextChildren(files: ReadonlySet<string>, dir: string): readonly string[] {
  return factsOf(files).children.get(dir) ?? [];
}

/** The answer of a scan over every path, remembered per file list under `question`. */
export function scanOnce<T>(files: ReadonlySet<string>, question: string, scan: () => T): T {
  const scans = factsOf(files).scans;
  if (!scans.has(question)) scans.set(question, scan());
  return scans.get(question) as T;
}

/** A directory of the context (with something in it). */
export function isContextDir(src: string, files: ReadonlySet<string> | undefined): boolean {
  const p = contextPath(src);
  if (p === '') return true;
  if (files === undefined || /[*?[]/.test(p)) return false;
  return contextDirs(files).has(p);
}

/** A COPY/ADD that takes the whole context or a directory of it: most edits change it. */
export function isBroadCopy(c: CopyInfo, files: ReadonlySet<string> | undefined): boolean {
  if (c.fromOther || c.heredoc) return false;
  return c.sources.some((s) => !isUrl(s) && !isGitUrl(s) && isContextDir(s, files));
}

/** The destination directory of a COPY made absolute (a directory: the sources' contents land in it). */
export function copyDestDir(c: CopyInfo, state: InstState): string {
  return resolvePath(state.workdir, expand(c.dest, varsOf(state)));
}

// ---- RUN -----------------------------------------------------------------------------------

/** The RUN steps of a stage after the instruction at `index`, with what the rules read of each. */
export function* runsAfter(info: StageInfo, index: number): Generator<{ run: Instruction; r: RunInfo; index: number }> {
  const cmds = info.stage.commands;
  for (let j = index + 1; j < cmds.length; j++) {
    const run = cmds[j];
    const r = run === undefined ? undefined : runInfo(run);
    if (run !== undefined && r !== undefined) yield { run, r, index: j };
  }
}

export interface RunInfo {
  inst: Instruction;
  commands: Array<{ cmd: SimpleCommand; cls: CommandClass }>;
  /** Mounts from the build context (`--mount=type=bind` without `from`): the RUN reads files directly. */
  contextMounts: boolean;
  cacheTargets: string[];
}

const runCache = new WeakMap<Instruction, RunInfo>();

export function runInfo(inst: Instruction): RunInfo | undefined {
  if (kw(inst) !== 'RUN') return undefined;
  const cached = runCache.get(inst);
  if (cached !== undefined) return cached;
  const commands = simpleCommands(runScript(inst)).map((cmd) => ({ cmd, cls: classify(cmd) }));
  let contextMounts = false;
  const cacheTargets: string[] = [];
  for (const f of inst.flags) {
    if (f.name !== 'mount' || f.flagValue === undefined) continue;
    const m = parseMount(f.flagValue).mount;
    if (m === undefined) continue;
    if (m.type === 'bind' && m.from === undefined) contextMounts = true;
    if (m.type === 'cache' && m.target !== undefined) cacheTargets.push(m.target);
  }
  const info: RunInfo = { inst, commands, contextMounts, cacheTargets };
  runCache.set(inst, info);
  return info;
}

/** The full text a step expands variables in: the instruction line, its flags and heredoc bodies. */
export function stepText(inst: Instruction): string {
  return [inst.original, ...inst.heredocs.map((h) => h.content)].join('\n');
}
