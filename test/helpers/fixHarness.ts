/**
 * The fix-safety harness (test/engine/fixes.test.ts, docs/fixes.md): builds a project's Dockerfile
 * before and after a quick-fix on the real engine, compares the images (file system and config),
 * checks statically that every step whose view of the build context the fix shrank still sees
 * every file its real tool reads, and measures the steps rerun after a typical edit.
 *
 * The stand-in tools of the engine's base images never read their inputs, so an identical image
 * proves less than it seems (shared notes, buildkit-cache-semantics.md section 10): the static
 * "inputs" check is what catches a split that leaves out a file the real `npm ci`, `cargo fetch`,
 * `dotnet restore`, ... would read.
 */

import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runBuild } from '../../server/src/build/docker';
import { ContextHasher } from '../../server/src/cache/contextHash';
import { containsWildcards, goClean, goPathMatch } from '../../server/src/cache/sourceSelection';
import type { VertexResult } from '../../server/src/cache/types';
import { parse, splitStages, type Instruction } from '../../server/src/parser';
import type { Rule, RuleContext, RuleDiagnostic, RuleFix } from '../../server/src/rules/types';
import type { EngineInfo } from './differential';
import { isStepVertex } from './differential';
import type { Ecosystem, FixProject, ProjectEdit } from './fixProjects';

export const REPO = path.join(__dirname, '..', '..');
export const FIXES_REPORT = path.join(REPO, 'test-output', 'fixes.json');

// ------------------------------------------------------------------------------------------------
// The rules API (server/src/rules/index.ts), loaded at run time so the suite can say it is missing
// ------------------------------------------------------------------------------------------------

export interface RulesApi {
  RULES: readonly Rule[];
  runRules(ctx: RuleContext): RuleDiagnostic[];
  applyFix(text: string, fix: RuleFix): string;
}

export const RULES_MODULE = path.join(REPO, 'server', 'src', 'rules', 'index.ts');

/** DCL_FIXES_RULES=<module> tries the harness on another implementation (a hand-written stand-in). */
export async function loadRules(): Promise<RulesApi | string> {
  const file = process.env.DCL_FIXES_RULES ?? RULES_MODULE;
  if (!fs.existsSync(file)) return `${path.relative(REPO, file)} does not exist yet`;
  const mod = (await import(file)) as unknown;
  if (typeof mod !== 'object' || mod === null) return 'server/src/rules/index.ts: not a module';
  const m = mod as Record<string, unknown>;
  if (!Array.isArray(m.RULES) || typeof m.runRules !== 'function' || typeof m.applyFix !== 'function') {
    return 'server/src/rules/index.ts does not export RULES, runRules and applyFix';
  }
  const runRules = m.runRules as (ctx: RuleContext) => RuleDiagnostic[];
  const applyFix = m.applyFix as (text: string, fix: RuleFix) => string;
  return { RULES: m.RULES as Rule[], runRules: (ctx) => runRules(ctx), applyFix: (t, f) => applyFix(t, f) };
}

// ------------------------------------------------------------------------------------------------
// Processes
// ------------------------------------------------------------------------------------------------

interface Exec { code: number; stdout: Buffer; stderr: string }

function exec(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<Exec> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, encoding: 'buffer', maxBuffer: 512 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1;
      resolve({ code, stdout, stderr: stderr.toString('utf8') });
    });
  });
}

async function docker(env: NodeJS.ProcessEnv, args: string[]): Promise<Buffer> {
  const r = await exec('docker', args, env);
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

// ------------------------------------------------------------------------------------------------
// Projects on disk
// ------------------------------------------------------------------------------------------------

export function writeFiles(dir: string, files: Record<string, string>, executables: readonly string[] = []): void {
  for (const [rel, content] of Object.entries(files)) {
    const abs = path.join(dir, rel);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, content);
    fs.chmodSync(abs, executables.includes(rel) ? 0o755 : 0o644);
  }
}

/** A fix's edits of files other than the Dockerfile (a `.dockerignore`), made relative to the context. */
export interface OtherFileEdit { file: string; newText: string }

export function otherFileEdits(fix: RuleFix, contextRoot: string): OtherFileEdit[] {
  return fix.edits.filter((e) => e.file !== undefined).map((e) => ({ file: path.relative(contextRoot, e.file ?? ''), newText: e.newText }));
}

/** Creates or appends to the file, as FixEdit says for other files. */
export function applyOtherFileEdits(dir: string, edits: readonly OtherFileEdit[]): void {
  for (const e of edits) {
    const abs = path.join(dir, e.file);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    const old = fs.existsSync(abs) ? fs.readFileSync(abs, 'utf8') : '';
    fs.writeFileSync(abs, old + e.newText);
  }
}

export interface ContextView {
  ctx: RuleContext;
  /** Relative path -> entry type. */
  entries: Map<string, 'file' | 'dir' | 'symlink' | 'other'>;
}

/** The RuleContext the extension would build for `<dir>/Dockerfile` with `text`. */
export async function ruleContext(dir: string, text: string, dockerfile = path.join(dir, 'Dockerfile')): Promise<ContextView> {
  const hasher = new ContextHasher(dir, { dockerfile });
  const snap = await hasher.snapshot();
  const ast = parse(text);
  const entries = new Map<string, 'file' | 'dir' | 'symlink' | 'other'>();
  for (const [p, e] of snap.entries) entries.set(p, e.type);
  return {
    ctx: {
      ast,
      stages: splitStages(ast),
      text,
      contextFiles: new Set(snap.entries.keys()),
      dockerignore: snap.ignoreFile === undefined ? undefined : { path: snap.ignoreFile, patterns: snap.ignorePatterns },
      contextRoot: dir,
      history: [],
    },
    entries,
  };
}

// ------------------------------------------------------------------------------------------------
// Builds
// ------------------------------------------------------------------------------------------------

export interface BuildResult {
  success: boolean;
  error: string | undefined;
  vertices: VertexResult[];
  durationMs: number;
}

export async function build(env: NodeJS.ProcessEnv, dockerfile: string, dir: string, tag: string, buildArgs: Record<string, string> = {}): Promise<BuildResult> {
  const outcome = await runBuild({ dockerfile, context: dir, tag, buildArgs, env }).result;
  return { success: outcome.success, error: outcome.errorMessage, vertices: outcome.vertices, durationMs: outcome.durationMs };
}

export interface RerunCount {
  steps: number;
  ms: number;
  names: string[];
}

/** Steps BuildKit ran (not from its cache): Dockerfile steps only, FROM and `[internal]` ones left out. */
export function rerunSteps(vertices: readonly VertexResult[]): RerunCount {
  const ran = vertices.filter((v) => isStepVertex(v.name) && !/^\[[^\]]*\] FROM /.test(v.name) && !v.cached);
  return { steps: ran.length, ms: ran.reduce((s, v) => s + (v.durationMs ?? 0), 0), names: ran.map((v) => v.name) };
}

// ------------------------------------------------------------------------------------------------
// Images: file system listing (docker create + docker export) and config (docker image inspect)
// ------------------------------------------------------------------------------------------------

export interface FsEntry {
  type: 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo' | 'other';
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** sha256 of a regular file's content; link target for links. */
  content: string;
}

function octal(buf: Buffer, start: number, len: number): number {
  const field = buf.subarray(start, start + len);
  if (((field[0] ?? 0) & 0x80) !== 0) {
    // base-256
    let n = 0;
    for (let i = 1; i < field.length; i++) n = n * 256 + (field[i] ?? 0);
    return n;
  }
  const s = field.toString('latin1').replace(/\0.*$/s, '').trim();
  return s === '' ? 0 : parseInt(s, 8);
}

function cstr(buf: Buffer, start: number, len: number): string {
  const field = buf.subarray(start, start + len);
  const nul = field.indexOf(0);
  return field.subarray(0, nul < 0 ? field.length : nul).toString('utf8');
}

/** A tar stream as path -> entry (ustar, pax and GNU long names). */
export function parseTar(tar: Buffer): Map<string, FsEntry> {
  const out = new Map<string, FsEntry>();
  let off = 0;
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  while (off + 512 <= tar.length) {
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const typeflag = String.fromCharCode(h[156] ?? 0x30);
    let size = octal(h, 124, 12);
    if (pax.size !== undefined) size = Number(pax.size);
    const body = tar.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (typeflag === 'x' || typeflag === 'g') {
      if (typeflag === 'x') {
        const text = body.toString('utf8');
        let i = 0;
        while (i < text.length) {
          const sp = text.indexOf(' ', i);
          if (sp < 0) break;
          const len = parseInt(text.slice(i, sp), 10);
          if (!Number.isFinite(len) || len <= 0) break;
          const rec = text.slice(sp + 1, i + len - 1);
          const eq = rec.indexOf('=');
          if (eq > 0) pax[rec.slice(0, eq)] = rec.slice(eq + 1);
          i += len;
        }
      }
      continue;
    }
    if (typeflag === 'L') { longName = cstr(body, 0, body.length); continue; }
    if (typeflag === 'K') { longLink = cstr(body, 0, body.length); continue; }
    const magic = h.subarray(257, 262).toString('latin1');
    const prefix = magic === 'ustar' ? cstr(h, 345, 155) : '';
    let name = pax.path ?? longName ?? (prefix !== '' ? `${prefix}/${cstr(h, 0, 100)}` : cstr(h, 0, 100));
    const link = pax.linkpath ?? longLink ?? cstr(h, 157, 100);
    name = name.replace(/^\.?\/+/, '').replace(/\/+$/, '');
    const type: FsEntry['type'] =
      typeflag === '0' || typeflag === '\0' || typeflag === '7' ? 'file'
        : typeflag === '5' ? 'dir'
          : typeflag === '2' ? 'symlink'
            : typeflag === '1' ? 'hardlink'
              : typeflag === '3' ? 'char'
                : typeflag === '4' ? 'block'
                  : typeflag === '6' ? 'fifo' : 'other';
    if (name !== '' && name !== '.') {
      out.set(name, {
        type,
        mode: octal(h, 100, 8) & 0o7777,
        uid: pax.uid !== undefined ? Number(pax.uid) : octal(h, 108, 8),
        gid: pax.gid !== undefined ? Number(pax.gid) : octal(h, 116, 8),
        size: type === 'file' ? size : 0,
        content: type === 'file' ? createHash('sha256').update(body).digest('hex') : type === 'symlink' || type === 'hardlink' ? link : '',
      });
    }
    pax = {};
    longName = undefined;
    longLink = undefined;
  }
  return out;
}

/** The image's file system as a container would see it (`docker create` + `docker export`). */
export async function exportImage(env: NodeJS.ProcessEnv, tag: string): Promise<Map<string, FsEntry>> {
  const id = (await docker(env, ['create', tag])).toString('utf8').trim();
  try {
    return parseTar(await docker(env, ['export', id]));
  } finally {
    await docker(env, ['rm', '-f', id]).catch(() => undefined);
  }
}

/** `docker image inspect`'s Config (Env, Cmd, Entrypoint, WorkingDir, User, Labels, ExposedPorts, Volumes, Healthcheck, ...). */
export async function imageConfig(env: NodeJS.ProcessEnv, tag: string): Promise<Record<string, unknown>> {
  const json = JSON.parse((await docker(env, ['image', 'inspect', tag])).toString('utf8')) as unknown;
  const first: unknown = Array.isArray(json) ? (json as unknown[])[0] : undefined;
  const config = typeof first === 'object' && first !== null ? (first as Record<string, unknown>).Config : undefined;
  return typeof config === 'object' && config !== null ? config as Record<string, unknown> : {};
}

export async function removeImages(env: NodeJS.ProcessEnv, tags: readonly string[]): Promise<void> {
  if (tags.length > 0) await exec('docker', ['rmi', '-f', ...tags], env);
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** Keys of Config whose values differ, with both values. */
export function diffConfig(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.filter((k) => canonical(a[k]) !== canonical(b[k])).map((k) => `${k}: ${canonical(a[k])} -> ${canonical(b[k])}`);
}

export interface FsDifference {
  path: string;
  /** only-before, only-after, or the fields that differ. */
  what: string;
}

export function diffListings(a: ReadonlyMap<string, FsEntry>, b: ReadonlyMap<string, FsEntry>): FsDifference[] {
  const out: FsDifference[] = [];
  for (const [p, ea] of a) {
    const eb = b.get(p);
    if (eb === undefined) { out.push({ path: p, what: 'only before the fix' }); continue; }
    const fields: string[] = [];
    if (ea.type !== eb.type) fields.push(`type ${ea.type} -> ${eb.type}`);
    if (ea.mode !== eb.mode) fields.push(`mode ${ea.mode.toString(8)} -> ${eb.mode.toString(8)}`);
    if (ea.uid !== eb.uid || ea.gid !== eb.gid) fields.push(`owner ${ea.uid}:${ea.gid} -> ${eb.uid}:${eb.gid}`);
    if (ea.size !== eb.size) fields.push(`size ${ea.size} -> ${eb.size}`);
    if (ea.content !== eb.content) fields.push(ea.type === 'file' ? 'content' : `target ${ea.content} -> ${eb.content}`);
    if (fields.length > 0) out.push({ path: p, what: fields.join(', ') });
  }
  for (const p of b.keys()) if (!a.has(p)) out.push({ path: p, what: 'only after the fix' });
  return out.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
}

// ------------------------------------------------------------------------------------------------
// Static model of what each step sees of the build context
// ------------------------------------------------------------------------------------------------

/** Image path (absolute, `/`-separated) -> context path it came from. */
export type View = Map<string, string>;

export interface RunStep {
  stage: number;
  /** Index among the stage's commands. */
  position: number;
  inst: Instruction;
  /** The command (heredoc bodies included), flags left out: matches a step before and after a fix. */
  command: string;
  /** command + occurrence number within the stage, to pair steps of two Dockerfiles. */
  key: string;
  workdir: string;
  /** Context files visible when it runs. */
  view: View;
  cacheMounts: string[];
}

export interface CopyEvent {
  stage: number;
  position: number;
  mapped: View;
}

export interface DockerfileModel {
  runs: RunStep[];
  copies: CopyEvent[];
  /** Per stage: context files in the stage's file system at its end. */
  stageEnd: View[];
  stageNames: Array<string | undefined>;
  /** Per stage: the earlier stage it is built on, or -1 (an image). */
  parents: number[];
}

const posixJoin = (...p: string[]): string => path.posix.normalize(path.posix.join(...p));

function commandOf(inst: Instruction): string {
  const body = inst.heredocs.map((h) => h.content).join('\n');
  const args = inst.json ? inst.args.map((a) => a.value).join(' ') : inst.args.map((a) => a.value).join(' ');
  return (body !== '' ? `${args}\n${body}` : args).replace(/\s+/g, ' ').trim();
}

function cacheMountsOf(inst: Instruction, workdir: string): string[] {
  const out: string[] = [];
  for (const f of inst.flags) {
    if (f.name !== 'mount' || f.flagValue === undefined) continue;
    const fields = new Map(f.flagValue.split(',').map((kv) => { const i = kv.indexOf('='); return i < 0 ? [kv, ''] : [kv.slice(0, i), kv.slice(i + 1)]; }));
    if (fields.get('type') !== 'cache') continue;
    const target = fields.get('target') ?? fields.get('dst') ?? fields.get('destination');
    if (target !== undefined) out.push(target.startsWith('/') ? posixJoin(target) : posixJoin(workdir, target));
  }
  return out;
}

/** Where the context sources of one COPY/ADD land (image path -> context path), BuildKit's rules for the common forms. */
export function mapCopy(entries: ReadonlyMap<string, string>, sources: readonly string[], dest: string, workdir: string, dirs: ReadonlySet<string>): View {
  const out: View = new Map();
  const destAbs = dest.startsWith('/') ? posixJoin(dest) : posixJoin(workdir, dest);
  const many = sources.length > 1 || sources.some(containsWildcards);
  const destIsDir = dest.endsWith('/') || dest === '.' || many || dirs.has(destAbs);
  const under = (dir: string): string[] => [...entries.keys()].filter((p) => dir === '' || p.startsWith(dir + '/'));
  for (const raw of sources) {
    let src = goClean(raw.startsWith('/') ? raw : '/' + raw).replace(/^\//, '');
    if (src === '') src = '.';
    const matches = containsWildcards(src) ? [...entries.keys()].filter((p) => { try { return goPathMatch(src, p); } catch { return false; } }) : [src];
    for (const m of matches) {
      const type = m === '.' ? 'dir' : entries.get(m);
      if (type === undefined) continue;
      if (type === 'dir') {
        const base = m === '.' ? '' : m;
        for (const p of under(base)) {
          if (entries.get(p) === 'dir') continue;
          out.set(posixJoin(destAbs, base === '' ? p : p.slice(base.length + 1)), p);
        }
      } else {
        out.set(destIsDir ? posixJoin(destAbs, path.posix.basename(m)) : destAbs, m);
      }
    }
  }
  return out;
}

/**
 * Follows the stages of a Dockerfile and records, for every RUN, which context files are in its
 * file system and where (COPY/ADD from the context; `COPY --from` and files RUN makes are not
 * tracked). Variables in paths are not expanded.
 */
export function modelDockerfile(text: string, entries: ReadonlyMap<string, string>): DockerfileModel {
  const { stages } = splitStages(parse(text));
  const runs: RunStep[] = [];
  const copies: CopyEvent[] = [];
  const stageEnd: View[] = [];
  const stageWorkdir: string[] = [];
  const stageDirs: Array<Set<string>> = [];
  const names = stages.map((s) => s.name);
  const parents: number[] = [];
  for (const stage of stages) {
    const baseRef = stage.base?.value.toLowerCase();
    const parentIdx = baseRef === undefined ? -1 : names.findIndex((n, i) => i < stage.index && (n === baseRef || String(i) === baseRef));
    parents.push(parentIdx);
    const view: View = new Map(parentIdx >= 0 ? stageEnd[parentIdx] : []);
    let workdir = parentIdx >= 0 ? stageWorkdir[parentIdx] ?? '/' : '/';
    const dirs = new Set<string>(parentIdx >= 0 ? stageDirs[parentIdx] : ['/']);
    const seen = new Map<string, number>();
    stage.commands.forEach((inst, position) => {
      const kw = inst.keyword.toUpperCase();
      if (kw === 'WORKDIR') {
        const arg = inst.args[0]?.value ?? '/';
        workdir = arg.startsWith('/') ? posixJoin(arg) : posixJoin(workdir, arg);
        for (let d = workdir; d !== '/'; d = path.posix.dirname(d)) dirs.add(d);
      } else if (kw === 'COPY' || kw === 'ADD') {
        if (inst.flags.some((f) => f.name === 'from')) return;
        const words = inst.args.map((a) => a.value);
        const dest = words[words.length - 1];
        if (dest === undefined || words.length < 2) return;
        const mapped = mapCopy(entries, words.slice(0, -1), dest, workdir, dirs);
        for (const [img, ctx] of mapped) {
          view.set(img, ctx);
          for (let d = path.posix.dirname(img); d !== '/'; d = path.posix.dirname(d)) dirs.add(d);
        }
        copies.push({ stage: stage.index, position, mapped });
      } else if (kw === 'RUN') {
        const command = commandOf(inst);
        const n = (seen.get(command) ?? 0) + 1;
        seen.set(command, n);
        runs.push({ stage: stage.index, position, inst, command, key: `${stage.index}:${command}#${n}`, workdir, view: new Map(view), cacheMounts: cacheMountsOf(inst, workdir) });
      }
    });
    stageEnd.push(view);
    stageWorkdir.push(workdir);
    stageDirs.push(dirs);
  }
  return { runs, copies, stageEnd, stageNames: names, parents };
}

// ------------------------------------------------------------------------------------------------
// What the real tools read
// ------------------------------------------------------------------------------------------------

export interface ToolNeeds {
  /** The tools recognised, e.g. `npm ci`. */
  tools: string[];
  /** Files (relative to the step's working directory) the real tools read, or a test on such a path. */
  files: Array<{ test: (rel: string) => boolean; why: string }>;
  /** The real tool reads the whole source tree (a build, an install of the project itself). */
  all: string[];
  /** Install outputs (relative to the working directory) a later COPY must not overwrite. */
  outputs: string[];
}

const base = (rel: string): string => path.posix.basename(rel);
const oneOf = (...names: string[]) => (rel: string): boolean => names.includes(rel);
const inDir = (dir: string) => (rel: string): boolean => rel.startsWith(dir + '/');

/** The segments of a shell command (`a && b; c | d`). */
function segments(command: string): string[] {
  return command.split(/&&|\|\||;|\||\n/).map((s) => s.trim()).filter((s) => s !== '');
}

/**
 * What the real package managers and build tools read from the working directory (their manifest
 * sets), per command. `readContext` gives a context file's content (package.json scripts,
 * requirement includes, composer.json, pyproject.toml, Gemfile).
 */
export function toolNeeds(command: string, workdirFiles: ReadonlySet<string>, readContext: (rel: string) => string | undefined, earlierRuns: readonly string[]): ToolNeeds {
  const needs: ToolNeeds = { tools: [], files: [], all: [], outputs: [] };
  const need = (why: string, test: (rel: string) => boolean): void => { needs.files.push({ test, why }); };
  for (const seg of segments(command)) {
    const words = seg.split(/\s+/);
    const has = (re: RegExp): boolean => re.test(seg);
    const lifecycle = (why: string): void => {
      // install/postinstall/prepare scripts run during the install and may read any file.
      if (has(/--ignore-scripts\b/)) return;
      const pkg = readContext('package.json');
      if (pkg === undefined) return;
      let scripts: Record<string, unknown> = {};
      try { scripts = ((JSON.parse(pkg) as { scripts?: Record<string, unknown> }).scripts) ?? {}; } catch { /* not JSON */ }
      for (const s of ['preinstall', 'install', 'postinstall', 'prepare', 'preprepare', 'postprepare']) {
        const body = scripts[s];
        if (typeof body !== 'string') continue;
        const referenced = [...workdirFiles].filter((f) => body.split(/[\s"'=]+/).some((w) => w.replace(/^\.\//, '') === f));
        if (referenced.length > 0) need(`${why}: the \`${s}\` script reads ${referenced.join(', ')}`, oneOf(...referenced));
      }
    };
    if (/^(npm|pnpm)$/.test(words[0] ?? '') && /^(ci|install|i|add)$/.test(words[1] ?? '') && !has(/\s(-g|--global)\b/)) {
      const pnpm = words[0] === 'pnpm';
      needs.tools.push(seg);
      need(`${words[0]} reads package.json, its lock file and .npmrc`, pnpm
        ? oneOf('package.json', 'pnpm-lock.yaml', 'pnpm-workspace.yaml', '.npmrc', '.pnpmfile.cjs')
        : oneOf('package.json', 'package-lock.json', 'npm-shrinkwrap.json', '.npmrc'));
      if (pnpm) need('pnpm applies patches/', inDir('patches'));
      lifecycle(seg);
      needs.outputs.push('node_modules');
    } else if (words[0] === 'yarn' && (words.length === 1 || words[1] === 'install' || (words[1] ?? '').startsWith('--'))) {
      needs.tools.push(seg);
      need('yarn reads package.json, yarn.lock and its rc files', oneOf('package.json', 'yarn.lock', '.yarnrc', '.yarnrc.yml', '.npmrc'));
      need('yarn berry reads .yarn/releases, plugins, patches', (r) => /^\.yarn\/(releases|plugins|patches)\//.test(r));
      lifecycle(seg);
      needs.outputs.push('node_modules');
    } else if (/^(npm|yarn|pnpm)$/.test(words[0] ?? '') && (words[1] === 'run' || words[1] === 'build' || words[1] === 'test')) {
      needs.tools.push(seg);
      needs.all.push(`\`${seg}\` runs a package script over the sources`);
    } else if (/^(pip3?|python3?|uv)$/.test(words[0] ?? '') && has(/\bpip3?\s+install\b/)) {
      needs.tools.push(seg);
      const reqs: string[] = [];
      for (let i = 0; i < words.length; i++) {
        const w = words[i] ?? '';
        if (w === '-r' || w === '--requirement' || w === '-c' || w === '--constraint') reqs.push(words[i + 1] ?? '');
        else if (/^-r./.test(w)) reqs.push(w.slice(2));
        else if (/^--(requirement|constraint)=/.test(w)) reqs.push(w.slice(w.indexOf('=') + 1));
        else if (/^(\.|\.\/.*|\/.*)$/.test(w) && i > 1 && words[i - 1] !== '-t' && words[i - 1] !== '--target' && words[i - 1] !== '--prefix') needs.all.push(`\`${seg}\` installs the project itself (setup.py / pyproject.toml and its package)`);
      }
      const seen = new Set<string>();
      const walk = (rel: string): void => {
        const clean = path.posix.normalize(rel.replace(/^\.\//, ''));
        if (clean === '' || seen.has(clean)) return;
        seen.add(clean);
        const text = readContext(clean);
        for (const line of (text ?? '').split('\n')) {
          const m = /^\s*(?:-r|--requirement|-c|--constraint)\s*=?\s*(\S+)/.exec(line);
          if (m?.[1] !== undefined) walk(path.posix.join(path.posix.dirname(clean), m[1]));
          if (/^\s*(-e\s+)?(\.|\.\/\S*|file:)/.test(line)) needs.all.push(`${clean} installs a local path (${line.trim()})`);
        }
      };
      for (const r of reqs) walk(r);
      if (seen.size > 0) need(`pip reads ${[...seen].join(', ')} (and the files they include)`, oneOf(...seen));
    } else if (words[0] === 'poetry' && /^(install|sync)$/.test(words[1] ?? '')) {
      needs.tools.push(seg);
      need('poetry reads pyproject.toml, poetry.lock and poetry.toml', oneOf('pyproject.toml', 'poetry.lock', 'poetry.toml'));
      if (!has(/--no-root\b/) && !has(/--no-directory\b/)) needs.all.push('`poetry install` without --no-root installs the project itself (its package and README)');
    } else if (words[0] === 'uv' && words[1] === 'sync') {
      needs.tools.push(seg);
      need('uv reads pyproject.toml, uv.lock, .python-version and uv.toml', oneOf('pyproject.toml', 'uv.lock', '.python-version', 'uv.toml'));
      const packaged = /^\s*\[build-system\]/m.test(readContext('pyproject.toml') ?? '') || /^\s*\[tool\.uv\][^[]*package\s*=\s*true/m.test(readContext('pyproject.toml') ?? '');
      if (packaged && !has(/--no-install-project\b/) && !has(/--no-install-workspace\b/) && !has(/--only-install/)) {
        needs.all.push('`uv sync` without --no-install-project builds and installs the project itself (pyproject.toml has a [build-system]): it needs the package sources and README');
      }
      needs.outputs.push('.venv');
    } else if (words[0] === 'go' && words[1] === 'mod' && words[2] === 'download') {
      needs.tools.push(seg);
      need('go reads go.mod, go.sum, go.work and go.work.sum', oneOf('go.mod', 'go.sum', 'go.work', 'go.work.sum'));
    } else if (words[0] === 'go' && /^(build|install|test|run|vet|generate)$/.test(words[1] ?? '')) {
      needs.tools.push(seg);
      needs.all.push(`\`${seg}\` compiles the sources`);
    } else if (words[0] === 'cargo' && words[1] === 'fetch') {
      needs.tools.push(seg);
      need('cargo reads Cargo.toml, Cargo.lock, rust-toolchain(.toml) and .cargo/config(.toml)', oneOf('Cargo.toml', 'Cargo.lock', 'rust-toolchain', 'rust-toolchain.toml', '.cargo/config', '.cargo/config.toml'));
      // A manifest without a target fails to parse ("no targets specified in the manifest").
      const madeTarget = earlierRuns.some((r) => /\bcargo\s+(init|new)\b|src\/(main|lib)\.rs/.test(r));
      if (!madeTarget) need('cargo needs a target to parse the manifest (src/main.rs or src/lib.rs; no earlier `cargo init` makes one)', oneOf('src/main.rs', 'src/lib.rs'));
    } else if (words[0] === 'cargo' && /^(build|b|install|test|run|check)$/.test(words[1] ?? '')) {
      needs.tools.push(seg);
      needs.all.push(`\`${seg}\` compiles the sources`);
    } else if (words[0] === 'mvn' || words[0] === './mvnw') {
      needs.tools.push(seg);
      const goals = words.slice(1).filter((w) => !w.startsWith('-'));
      if (goals.length > 0 && goals.every((g) => g.startsWith('dependency:'))) need('maven reads pom.xml and .mvn/', (r) => r === 'pom.xml' || r.startsWith('.mvn/') || /^[^/]+\/pom\.xml$/.test(r));
      else needs.all.push(`\`${seg}\` compiles the sources`);
    } else if (words[0] === 'gradle' || words[0] === './gradlew') {
      needs.tools.push(seg);
      const tasks = words.slice(1).filter((w) => !w.startsWith('-'));
      if (tasks.length > 0 && tasks.every((t) => /^(dependencies|resolveDependencies|downloadDependencies)$/.test(t))) {
        need('gradle reads its build and settings scripts, gradle.properties and gradle/', (r) => /^(build|settings)\.gradle(\.kts)?$/.test(r) || r === 'gradle.properties' || r === 'gradlew' || r.startsWith('gradle/'));
      } else needs.all.push(`\`${seg}\` compiles the sources`);
    } else if (/^bundle(r)?$/.test(words[0] ?? '') && (words.length === 1 || words[1] === 'install')) {
      needs.tools.push(seg);
      need('bundler reads Gemfile, Gemfile.lock (gems.rb, gems.locked) and .bundle/config', oneOf('Gemfile', 'Gemfile.lock', 'gems.rb', 'gems.locked', '.bundle/config'));
      const gemfile = readContext('Gemfile') ?? '';
      if (/^\s*gemspec\b/m.test(gemfile)) need('the Gemfile says `gemspec`: bundler reads the *.gemspec', (r) => !r.includes('/') && r.endsWith('.gemspec'));
      if (/\bpath:\s*["']/.test(gemfile)) needs.all.push('the Gemfile has `path:` gems (read from the source tree)');
    } else if (words[0] === 'composer' && /^(install|update|require)$/.test(words.find((w, i) => i > 0 && !w.startsWith('-')) ?? '')) {
      needs.tools.push(seg);
      need('composer reads composer.json, composer.lock and auth.json', oneOf('composer.json', 'composer.lock', 'auth.json'));
      let cj: { scripts?: Record<string, unknown>; autoload?: Record<string, unknown> } = {};
      try { cj = JSON.parse(readContext('composer.json') ?? '{}') as typeof cj; } catch { /* not JSON */ }
      const hooks = ['pre-install-cmd', 'post-install-cmd', 'pre-autoload-dump', 'post-autoload-dump', 'post-update-cmd'].filter((k) => cj.scripts?.[k] !== undefined);
      if (!has(/--no-scripts\b/) && hooks.length > 0) needs.all.push(`composer runs the ${hooks.join(', ')} scripts (no --no-scripts)`);
      if (!has(/--no-autoloader\b/) && (cj.autoload?.classmap !== undefined || cj.autoload?.files !== undefined || has(/(--optimize-autoloader|\s-o\b|--classmap-authoritative|\s-a\b)/))) {
        needs.all.push('composer dumps a scanning autoloader (classmap/files or --optimize-autoloader) over the sources (no --no-autoloader)');
      }
      needs.outputs.push('vendor');
    } else if (words[0] === 'composer' && /^(dump-autoload|dumpautoload)$/.test(words[1] ?? '')) {
      needs.tools.push(seg);
      needs.all.push('`composer dump-autoload` scans the sources');
    } else if (words[0] === 'dotnet' && words[1] === 'restore') {
      needs.tools.push(seg);
      need('dotnet restore reads the project/solution files, NuGet.config, Directory.Build.*/Directory.Packages.props, global.json, packages.lock.json',
        (r) => /\.(csproj|fsproj|vbproj|sln|slnx)$/.test(r) || /^(nuget\.config|directory\.build\.(props|targets)|directory\.packages\.props|global\.json|packages\.lock\.json)$/i.test(base(r)));
      needs.outputs.push('obj');
    } else if (words[0] === 'dotnet' && /^(build|publish|test|pack|run)$/.test(words[1] ?? '')) {
      needs.tools.push(seg);
      needs.all.push(`\`${seg}\` compiles the sources`);
    }
  }
  return needs;
}

// ------------------------------------------------------------------------------------------------
// The inputs check: before vs after a fix
// ------------------------------------------------------------------------------------------------

export interface RunInputs {
  /** The RUN after the fix (first line). */
  run: string;
  /** Context files it no longer sees (or sees later), count. */
  lost: number;
  tools: string[];
  /** Files the real tool reads that it sees, at the same path, from the same context file. */
  present: string[];
  missing: string[];
  problems: string[];
}

export interface InputsCheck {
  ok: boolean;
  runs: RunInputs[];
  problems: string[];
}

const rel = (workdir: string, img: string): string | undefined => {
  if (workdir === '/') return img.replace(/^\//, '');
  return img.startsWith(workdir + '/') ? img.slice(workdir.length + 1) : undefined;
};

/**
 * For every RUN of the fixed Dockerfile whose view of the context shrank (it runs before some
 * files arrive now) or that is new: every file its real tool reads (toolNeeds) and that the
 * project has must be visible at the same path from the same context file; a tool that reads the
 * whole tree must have lost nothing; and no later COPY may drop context files onto what an install
 * wrote (a host node_modules/ over the one `npm ci` made).
 */
export function checkInputs(before: DockerfileModel, after: DockerfileModel, contextDir: string, afterContext: ReadonlySet<string>): InputsCheck {
  const runs: RunInputs[] = [];
  const problems: string[] = [];
  const beforeByKey = new Map(before.runs.map((r) => [r.key, r]));
  const readContext = (p: string): string | undefined => {
    try { return fs.readFileSync(path.join(contextDir, p), 'utf8'); } catch { return undefined; }
  };
  for (const run of after.runs) {
    const ref = beforeByKey.get(run.key);
    const refView = ref?.view ?? before.stageEnd[run.stage] ?? new Map<string, string>();
    const lostAll = [...refView].filter(([img, ctx]) => run.view.get(img) !== ctx);
    if (ref !== undefined && lostAll.length === 0) continue;
    // Files the fix's .dockerignore excludes are gone by design (checked only if a tool reads them).
    const lost = lostAll.filter(([, ctx]) => afterContext.has(ctx));
    const workdirFiles = new Map<string, string>(); // rel -> image path, in the reference view
    for (const img of refView.keys()) {
      const r = rel(run.workdir, img);
      if (r !== undefined) workdirFiles.set(r, img);
    }
    const ctxOf = (r: string): string | undefined => {
      const img = workdirFiles.get(r);
      return img === undefined ? undefined : refView.get(img);
    };
    const earlier = after.runs.filter((r) => r.stage === run.stage && r.position < run.position).map((r) => r.command);
    const needs = toolNeeds(run.command, new Set(workdirFiles.keys()), (r) => { const c = ctxOf(r); return c === undefined ? undefined : readContext(c); }, earlier);
    const present: string[] = [];
    const missing: string[] = [];
    const runProblems: string[] = [];
    for (const n of needs.files) {
      const wanted = [...workdirFiles.keys()].filter(n.test);
      for (const r of wanted) {
        const img = workdirFiles.get(r) ?? '';
        if (run.view.get(img) === refView.get(img)) present.push(r);
        else { missing.push(r); runProblems.push(`${r} is not there (${n.why})`); }
      }
      // A file the tool needs that the project lacks entirely (e.g. no src/main.rs for cargo) is
      // not the fix's doing unless the step is new or moved.
    }
    if (needs.all.length > 0 && lost.length > 0) runProblems.push(`${needs.all.join('; ')} — but ${lost.length} context file(s) are not there yet (${lost.slice(0, 5).map(([img]) => img).join(', ')}${lost.length > 5 ? ', ...' : ''})`);
    // A command that names a file it no longer sees (chmod +x entrypoint.sh, python setup.py ...).
    for (const [img] of lost) {
      const r = rel(run.workdir, img) ?? img;
      const words = run.command.split(/[\s"'=]+/).map((w) => w.replace(/^\.\//, ''));
      if (words.includes(r) || words.includes(img)) runProblems.push(`the command names ${r}, which is not there yet`);
    }
    // An install's output overwritten by a later COPY of the context.
    for (const out of needs.outputs) {
      const outDir = posixJoin(run.workdir, out);
      const clobbers = (m: DockerfileModel, stage: number, position: number): string[] => m.copies
        .filter((c) => c.stage === stage && c.position > position)
        .flatMap((c) => [...c.mapped.keys()].filter((img) => img.startsWith(outDir + '/')));
      const nowClobbered = clobbers(after, run.stage, run.position);
      const wasClobbered = new Set(ref === undefined ? [] : clobbers(before, ref.stage, ref.position));
      const fresh = nowClobbered.filter((img) => !wasClobbered.has(img));
      if (fresh.length > 0) runProblems.push(`a later COPY puts the context's ${fresh.join(', ')} over the ${out}/ that \`${needs.tools.join(' && ')}\` wrote (the real install replaces ${out}/; now the host's copy wins)`);
    }
    runs.push({ run: run.inst.original.split('\n')[0] ?? '', lost: lost.length, tools: needs.tools, present, missing, problems: runProblems });
    problems.push(...runProblems.map((p) => `${run.inst.original.split('\n')[0] ?? ''}: ${p}`));
  }
  return { ok: problems.length === 0, runs, problems };
}

// ------------------------------------------------------------------------------------------------
// Differences a fix is allowed to make in the image, and why
// ------------------------------------------------------------------------------------------------

/** Package-manager caches (never read by the application): a cache mount may take them out of the image. */
const PURE_CACHES = [
  '/root/.npm', '/root/.cache/yarn', '/usr/local/share/.cache/yarn', '/root/.local/share/pnpm/store', '/root/.cache/pnpm',
  '/root/.cache/pip', '/root/.cache/uv', '/root/.cache/pypoetry/cache', '/root/.cache/pypoetry/artifacts', '/root/.cache/go-build', '/go-build',
  '/var/cache/apt', '/var/cache/apk', '/root/.composer/cache', '/root/.cache/composer', '/tmp/cache',
];

export interface Exemption {
  /** Image path prefix without the leading `/`; exact path or everything under it. */
  prefix: string;
  reason: string;
}

const ancestorsOf = (p: string): string[] => {
  const out: string[] = [];
  for (let d = path.posix.dirname(p); d !== '/' && d !== '.'; d = path.posix.dirname(d)) out.push(d);
  return out;
};

/**
 * The image paths a fix may change by design: files the fix's .dockerignore now excludes (and the
 * .dockerignore itself when a COPY takes it in); a package manager's cache moved into a cache
 * mount; apt's lists when the same RUN updates and installs.
 */
export function exemptions(before: DockerfileModel, after: DockerfileModel, beforeEntries: ReadonlyMap<string, string>, afterEntries: ReadonlyMap<string, string>): Exemption[] {
  const out: Exemption[] = [];
  const finalBefore = before.stageEnd[before.stageEnd.length - 1] ?? new Map<string, string>();
  const finalAfter = after.stageEnd[after.stageEnd.length - 1] ?? new Map<string, string>();
  for (const [img, ctx] of finalBefore) {
    if (ctx === 'Dockerfile') out.push({ prefix: img.slice(1), reason: 'the Dockerfile itself, copied into the image by a COPY of the whole context' });
    if (afterEntries.has(ctx) || !beforeEntries.has(ctx)) continue;
    const reason = `excluded by the fix's .dockerignore (${ctx.split('/')[0] ?? ctx})`;
    out.push({ prefix: img.slice(1), reason });
    // The directories above it that came only from ignored context directories.
    const imgDirs = ancestorsOf(img);
    const ctxDirs = ancestorsOf('/' + ctx).map((d) => d.slice(1));
    for (let i = 0; i < ctxDirs.length && i < imgDirs.length; i++) {
      const d = ctxDirs[i] ?? '';
      if (afterEntries.has(d)) break;
      out.push({ prefix: (imgDirs[i] ?? '').slice(1), reason });
    }
  }
  for (const [img, ctx] of finalAfter) {
    if (ctx === '.dockerignore' && !beforeEntries.has('.dockerignore')) out.push({ prefix: img.slice(1), reason: 'the .dockerignore the fix creates, copied into the image by a COPY of the whole context' });
  }
  const beforeMounts = new Set(before.runs.flatMap((r) => r.cacheMounts));
  for (const r of after.runs) {
    for (const m of r.cacheMounts) {
      if (beforeMounts.has(m)) continue;
      const pure = PURE_CACHES.some((c) => m === c || m.startsWith(c + '/'));
      const aptLists = m === '/var/lib/apt' && /\bapt(-get)?\s+update\b/.test(r.command) && /\bapt(-get)?\s+install\b/.test(r.command);
      if (!pure && !aptLists) continue;
      const reason = aptLists ? `apt's package lists in a cache mount (${m}), updated and used by the same RUN, no longer in the image` : `package-manager cache now in a cache mount (${m}), no longer in the image`;
      out.push({ prefix: m.slice(1), reason });
      for (const d of ancestorsOf(m)) out.push({ prefix: d.slice(1), reason: `${reason} (its parent directory, left empty)` });
    }
  }
  return out;
}

/**
 * The exemption that covers a difference: a path under an exempt prefix; a directory that is an
 * exempt parent (only when nothing else in it differs: callers pass the other differences).
 */
export function exempted(diff: FsDifference, ex: readonly Exemption[], all: readonly FsDifference[] = []): Exemption | undefined {
  const direct = ex.find((e) => !e.reason.endsWith('(its parent directory, left empty)') && (diff.path === e.prefix || diff.path.startsWith(e.prefix + '/')));
  if (direct !== undefined) return direct;
  const parent = ex.find((e) => diff.path === e.prefix);
  if (parent === undefined) return undefined;
  // A parent directory: exempt if everything beneath it that differs is exempt too.
  const under = all.filter((d) => d.path.startsWith(diff.path + '/'));
  return under.every((d) => ex.some((e) => !e.reason.endsWith('(its parent directory, left empty)') && (d.path === e.prefix || d.path.startsWith(e.prefix + '/')) || d.path === e.prefix)) ? parent : undefined;
}

// ------------------------------------------------------------------------------------------------
// Cache mounts a fix adds: nothing earlier may have left what the step reads there, nothing later
// may read from there without the mount
// ------------------------------------------------------------------------------------------------

/** Folders that hold a tool's product (downloaded dependencies), not only a cache, with who writes and reads them. */
const PRODUCT_DIRS: ReadonlyArray<{ dir: string; writers: RegExp; readers: RegExp }> = [
  { dir: '/root/.m2', writers: /\b(mvn|mvnw)\b/, readers: /\b(mvn|mvnw)\b/ },
  { dir: '/root/.gradle', writers: /\bgradlew?\b/, readers: /\bgradlew?\b/ },
  { dir: '/root/.nuget/packages', writers: /\bdotnet\s+(restore|build|publish|test)\b/, readers: /\bdotnet\s+(restore|build|publish|test|run|pack)\b/ },
  { dir: '/go/pkg/mod', writers: /\bgo\s+(mod\s+download|build|install|get)\b/, readers: /\bgo\s+(build|run|test|install|vet|mod|generate)\b/ },
  { dir: '/usr/local/cargo/registry', writers: /\bcargo\s+(fetch|build|install)\b/, readers: /\bcargo\s+(build|run|test|install|check)\b/ },
  { dir: '/usr/local/cargo/git', writers: /\bcargo\s+(fetch|build|install)\b/, readers: /\bcargo\s+(build|run|test|install|check)\b/ },
  { dir: '/var/lib/apt', writers: /\bapt(-get)?\s+update\b/, readers: /\bapt(-get)?\s+(install|upgrade|dist-upgrade)\b/ },
  { dir: '/usr/local/bundle', writers: /\bbundle(r)?\b/, readers: /\b(bundle|bundler|rails|rake|ruby)\b/ },
];

const overlap = (a: string, b: string): boolean => a === b || a.startsWith(b + '/') || b.startsWith(a + '/');

/** Stage indexes `stage` is built on (itself first). */
function chain(model: DockerfileModel, stage: number): number[] {
  const out: number[] = [];
  for (let s = stage; s >= 0 && !out.includes(s); s = model.parents[s] ?? -1) out.push(s);
  return out;
}

export function checkCacheMounts(before: DockerfileModel, after: DockerfileModel): string[] {
  const problems: string[] = [];
  const beforeByKey = new Map(before.runs.map((r) => [r.key, r]));
  for (const r of after.runs) {
    const old = new Set(beforeByKey.get(r.key)?.cacheMounts ?? []);
    for (const m of r.cacheMounts) {
      if (old.has(m)) continue;
      for (const p of PRODUCT_DIRS.filter((x) => overlap(x.dir, m))) {
        const mine = chain(after, r.stage);
        const earlier = after.runs.filter((e) => mine.includes(e.stage) && (e.stage !== r.stage || e.position < r.position));
        for (const e of earlier) {
          if (p.writers.test(e.command) && !e.cacheMounts.some((x) => overlap(x, m))) {
            problems.push(`\`${r.inst.original.split('\n')[0] ?? ''}\` mounts a cache over ${m}, hiding what \`${e.command}\` left there: the real tool starts from an empty ${p.dir} on a new builder (downloads everything again, or fails offline)`);
          }
        }
        const later = after.runs.filter((l) => l !== r && (chain(after, l.stage).includes(r.stage)) && (l.stage !== r.stage || l.position > r.position));
        for (const l of later) {
          if (p.readers.test(l.command) && !l.cacheMounts.some((x) => overlap(x, m))) {
            problems.push(`\`${l.command}\` reads ${p.dir}, but what \`${r.command}\` put there is now in a cache mount, not in the image`);
          }
        }
      }
    }
  }
  return [...new Set(problems)];
}

// ------------------------------------------------------------------------------------------------
// Text diff (for the report)
// ------------------------------------------------------------------------------------------------

/** A unified-style line diff (`-`/`+`/` `), context lines trimmed to 2 around changes. */
export function lineDiff(a: string, b: string): string {
  const x = a.split('\n');
  const y = b.split('\n');
  const n = x.length;
  const m = y.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      const row = lcs[i] ?? [];
      row[j] = x[i] === y[j] ? (lcs[i + 1]?.[j + 1] ?? 0) + 1 : Math.max(lcs[i + 1]?.[j] ?? 0, row[j + 1] ?? 0);
    }
  }
  const ops: Array<[' ' | '-' | '+', string]> = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) { ops.push([' ', x[i] ?? '']); i++; j++; }
    else if (j < m && (i >= n || (lcs[i]?.[j + 1] ?? 0) >= (lcs[i + 1]?.[j] ?? 0))) { ops.push(['+', y[j] ?? '']); j++; }
    else { ops.push(['-', x[i] ?? '']); i++; }
  }
  const keep = ops.map((op, k) => op[0] !== ' ' || ops.slice(Math.max(0, k - 2), k + 3).some((o) => o[0] !== ' '));
  const out: string[] = [];
  ops.forEach((op, k) => {
    if (keep[k] === true) out.push(op[0] + op[1]);
    else if (keep[k - 1] === true) out.push('...');
  });
  return out.join('\n');
}

// ------------------------------------------------------------------------------------------------
// Edits with a nonce (every measurement is a change BuildKit has never seen)
// ------------------------------------------------------------------------------------------------

export interface AppliedEdit {
  files: Record<string, string>;
  buildArgs: Record<string, string>;
  description: string;
}

export function materialiseEdit(edit: ProjectEdit, project: FixProject): AppliedEdit {
  const nonce = randomBytes(4).toString('hex');
  if (edit.kind === 'build-arg') {
    return { files: {}, buildArgs: { ...project.buildArgs, [edit.name]: `${edit.value}+${nonce}` }, description: edit.description };
  }
  const comment = /\.(py|rb|toml|ya?ml|txt)$|^Gemfile$|\.gitignore$/.test(edit.path) ? `# ${nonce}\n`
    : /\.(html|vue|cshtml|xml)$/.test(edit.path) ? `<!-- ${nonce} -->\n`
      : /\.(js|ts|go|rs|java|cs|php|css|scss)$/.test(edit.path) ? `// ${nonce}\n` : `${nonce}\n`;
  return { files: { [edit.path]: edit.content + comment }, buildArgs: { ...project.buildArgs }, description: edit.description };
}

// ------------------------------------------------------------------------------------------------
// The report
// ------------------------------------------------------------------------------------------------

/** Rules whose fixes do not claim fewer reruns (they make the build smaller, correct or safer). */
export const NO_RERUN_CLAIM = new Set(['package-cache-mount', 'add-instead-of-copy', 'apt-update-separate']);

/** `cache/copy-all-before-install` -> `copy-all-before-install`. */
export const ruleName = (id: string): string => id.slice(id.lastIndexOf('/') + 1);

export interface FixResult {
  project: string;
  ecosystem: Ecosystem;
  /** `single`: one fix; `all`: every preferred fix, applied one after another (rules rerun in between). */
  kind: 'single' | 'all';
  rule: string;
  fixTitle: string;
  preferred: boolean;
  diagnostic: string;
  dockerfileDiff: string;
  otherFiles: OtherFileEdit[];
  buildBefore: { success: boolean; error: string | undefined };
  buildAfter: { success: boolean; error: string | undefined };
  image: {
    entries: number;
    identical: boolean;
    /** Differences a fix makes by design (the Dockerfile copied into the image ...), with the reason. */
    exempt: Array<FsDifference & { reason: string }>;
    differences: FsDifference[];
  };
  config: { identical: boolean; differences: string[] };
  /** The same comparison after the edit (both rebuilt). */
  afterEdit: { imageIdentical: boolean; configIdentical: boolean; differences: string[] };
  inputs: InputsCheck;
  /** Cache mounts the fix adds that hide an earlier step's downloads or take a later step's inputs out of the image. */
  cacheMounts: string[];
  ruleAfter: { before: number; after: number; remaining: string[] };
  benefit: {
    edit: string;
    editKind: 'file' | 'build-arg';
    claimsFewerReruns: boolean;
    before: RerunCount;
    after: RerunCount;
  };
  failures: string[];
}

export interface FixesReport {
  version: 1;
  generatedAt: string;
  durationMs: number;
  engine: EngineInfo;
  rulesAvailable: boolean;
  rulesProblem: string | undefined;
  /** Projects built at once. */
  concurrency: number;
  /** The probe: a cache mount hid the file an earlier step wrote at its target (the premise of checkCacheMounts). */
  cacheMountHidesLayer: boolean | undefined;
  rules: Array<{ id: string; title: string; offeredFixes: number }>;
  projects: Array<{
    name: string;
    ecosystem: Ecosystem;
    modelledOn: string | undefined;
    variant: string;
    files: number;
    sourceEdit: string;
    diagnostics: Array<{ rule: string; message: string; fixes: string[] }>;
    error: string | undefined;
  }>;
  results: FixResult[];
}
