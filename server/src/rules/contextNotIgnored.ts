/**
 * cache/context-not-ignored: `COPY . …` of a context without a `.dockerignore`, or one that still
 * holds `.git`, `node_modules` or build outputs: a commit, a host-side install or a local build
 * then changes the copied files and reruns everything after the COPY. Fix: ignore those entries —
 * only the ones the image provably does not need (it installs or builds them itself).
 */

import * as path from 'node:path';
import { analyzeStages, copyInfo, isWholeContext, kw, runInfo, scanOnce, type StageInfo } from './model';
import { runScript } from './shell';
import { headRange } from './text';
import type { FixEdit, Rule, RuleContext, RuleDiagnostic, RuleFix } from './types';

export const ID = 'cache/context-not-ignored';

interface Candidate {
  entry: string;
  /** Why it changes often (for the message). */
  what: string;
  /** Whether ignoring it leaves the image as the Dockerfile means it to be. */
  safe: (ctx: RuleContext, stages: StageInfo[]) => boolean;
}

const allRuns = (stages: StageInfo[]): string[] => stages.flatMap((s) => s.stage.commands).filter((i) => kw(i) === 'RUN').map(runScript);
const anyRun = (stages: StageInfo[], re: RegExp): boolean => allRuns(stages).some((t) => re.test(t));

/** Every stage that copies the whole context also installs the Node dependencies itself. */
function installsNodeModules(stages: StageInfo[]): boolean {
  let copies = 0;
  for (const s of stages) {
    const broad = s.stage.commands.some((i) => copyInfo(i)?.sources.some((src) => isWholeContext(src)) === true && copyInfo(i)?.fromOther === false);
    if (!broad) continue;
    copies++;
    const installs = s.stage.commands.some((i) => runInfo(i)?.commands.some(({ cls }) => cls.kind === 'install' && ['npm', 'yarn', 'pnpm', 'bun'].includes(cls.tool)) === true);
    if (!installs) return false;
  }
  return copies > 0 && !namesPath(stages, 'node_modules');
}

/** A COPY/ADD or mount that names the path explicitly (`COPY node_modules …`): the image wants it. */
function namesPath(stages: StageInfo[], entry: string): boolean {
  const re = new RegExp(`(^|[\\s/"'=,])${entry.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(/|[\\s"',]|$)`);
  return stages.some((s) => s.stage.commands.some((i) => {
    const k = kw(i);
    if (k === 'COPY' || k === 'ADD') return copyInfo(i)?.fromOther === false && (copyInfo(i)?.sources.some((src) => re.test(src)) ?? false);
    if (k === 'RUN') return i.flags.some((f) => f.name === 'mount' && re.test(f.flagValue ?? ''));
    return false;
  }));
}

const JS_BUILD = /\b(npm|pnpm|yarn|bun)\s+(run\s+)?build\b|\b(ng|vite|next|nuxt|tsc|webpack|rollup|parcel|astro|svelte-kit|gatsby)\b|\bnpx\s+\S+\s+build\b/;
const PY_RUN = /\b(python[0-9.]*|pip[0-9.]*|uv|poetry|pipenv|pdm|gunicorn|uvicorn|flask|django-admin|pytest)\b/;

const CANDIDATES: Candidate[] = [
  { entry: '.git', what: 'every commit, checkout or fetch changes it', safe: (_c, st) => !anyRun(st, /\bgit\b/) && !namesPath(st, '.git') },
  { entry: 'node_modules', what: 'an `npm install` on the host changes it', safe: (_c, st) => installsNodeModules(st) },
  { entry: 'dist', what: 'a local build changes it', safe: (_c, st) => anyRun(st, JS_BUILD) && !namesPath(st, 'dist') },
  { entry: 'build', what: 'a local build changes it', safe: (_c, st) => anyRun(st, new RegExp(`${JS_BUILD.source}|\\bgradle(w)?\\b`)) && !namesPath(st, 'build') },
  { entry: '.next', what: 'a local `next build` or `next dev` changes it', safe: (_c, st) => anyRun(st, /\bnext\s+build\b|\b(npm|pnpm|yarn|bun)\s+(run\s+)?build\b/) && !namesPath(st, '.next') },
  { entry: 'target', what: 'a local build changes it', safe: (_c, st) => anyRun(st, /\b(cargo|mvn|mvnw|sbt)\b/) && !namesPath(st, 'target') },
  { entry: '__pycache__', what: 'running the code on the host changes it', safe: (_c, st) => !namesPath(st, '__pycache__') },
  { entry: '.venv', what: 'a host-side install changes it', safe: (_c, st) => anyRun(st, PY_RUN) && !namesPath(st, '.venv') },
  { entry: 'bin', what: 'a local `dotnet build` changes it', safe: (_c, st) => anyRun(st, /\bdotnet\s+(build|publish|restore|test)\b/) && !namesPath(st, 'bin') },
  { entry: 'obj', what: 'a local `dotnet build` changes it', safe: (_c, st) => anyRun(st, /\bdotnet\s+(build|publish|restore|test)\b/) && !namesPath(st, 'obj') },
];

/** `__pycache__` anywhere: it is written next to every module. */
function present(files: ReadonlySet<string>, entry: string): boolean {
  if (files.has(entry)) return true;
  if (entry !== '__pycache__') return false;
  return scanOnce(files, 'nested __pycache__', () => {
    for (const f of files) if (f.endsWith('/__pycache__')) return true;
    return false;
  });
}

const pattern = (entry: string): string => (entry === '__pycache__' ? '**/__pycache__' : entry);

export const contextNotIgnored: Rule = {
  id: ID,
  title: 'The whole context is copied while it holds .git, node_modules or build outputs (or has no .dockerignore).',
  defaultSeverity: 'warning',
  check(ctx) {
    const out: Array<Omit<RuleDiagnostic, 'rule' | 'severity'>> = [];
    const stages = analyzeStages(ctx.stages);
    const broad = stages.flatMap((s) => s.stage.commands).filter((i) => {
      const c = copyInfo(i);
      return c !== undefined && !c.fromOther && !c.heredoc && c.sources.some(isWholeContext);
    });
    if (broad.length === 0) return out;
    // Until the context has been read, neither its entries nor its ignore file are known.
    const files = ctx.contextFiles;
    if (files === undefined) return out;
    const found = CANDIDATES.filter((c) => present(files, c.entry));
    if (found.length === 0 && ctx.dockerignore !== undefined) return out;
    const safe = found.filter((c) => c.safe(ctx, stages));
    const listed = found.map((c) => `\`${c.entry}\` (${c.what})`).join(', ');
    const message = found.length === 0
      ? 'There is no .dockerignore: every file of the build context is copied, the Dockerfile included, so editing the Dockerfile or any stray file (a log, an editor backup) reruns this COPY and every step after it.'
      : `The build context still holds ${listed}: copied here, ${found.length === 1 ? 'it reruns' : 'they rerun'} this COPY and every step after it${ctx.dockerignore === undefined ? ' (there is no .dockerignore)' : ''}.`;
    const skipped = found.filter((c) => !safe.includes(c));
    const note = skipped.length === 0 ? '' : ` ${skipped.map((c) => `\`${c.entry}\``).join(', ')} ${skipped.length === 1 ? 'is' : 'are'} not offered for ignoring: the image may use ${skipped.length === 1 ? 'it' : 'them'}.`;
    const fix = ignoreFix(ctx, safe.map((c) => pattern(c.entry)));
    // Nothing in the context to keep out, only no ignore file: advice (a Dockerfile edit reruns the COPY), a hint.
    for (const inst of broad) out.push({ range: headRange(inst), message: message + note, fixes: fix === undefined ? [] : [fix], ...(found.length === 0 ? { hint: true } : {}) });
    return out;
  },
};

function ignoreFix(ctx: RuleContext, entries: string[]): RuleFix | undefined {
  if (entries.length === 0) return undefined;
  const text = `${entries.join('\n')}\n`;
  let edit: FixEdit;
  if (ctx.dockerignore !== undefined) edit = { file: ctx.dockerignore.path, newText: text };
  else if (ctx.contextRoot !== undefined) edit = { file: path.join(ctx.contextRoot, '.dockerignore'), newText: text };
  else return undefined;
  // Ignored files are no longer copied: the image changes, so the title says so and it is never preferred.
  const what = `${entries.join(', ')} no longer copied into the image`;
  return {
    title: ctx.dockerignore === undefined ? `Create .dockerignore with ${entries.join(', ')} (changes the image: ${what})` : `Add ${entries.join(', ')} to ${path.basename(ctx.dockerignore.path)} (changes the image: ${what})`,
    edits: [edit],
    onRequest: `changes the image: ${what}`,
  };
}
