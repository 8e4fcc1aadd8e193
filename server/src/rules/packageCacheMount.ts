/**
 * cache/package-cache-mount: a package install without a cache mount for its download cache
 * downloads everything again whenever the step reruns. Fix: `--mount=type=cache,target=<dir>`,
 * only for folders that hold nothing the image or a later step uses.
 */

import type { Instruction } from '../parser';
import type { Tool } from './commands';
import { overlaps } from './commands';
import { analyzeStages, copyInfo, descendants, kw, runInfo, stateOf, varsOf, type InstState, type StageInfo } from './model';
import { runScript } from './shell';
import { headRange } from './text';
import type { Rule, RuleContext, RuleDiagnostic } from './types';

export const ID = 'cache/package-cache-mount';

type Manager = Tool | 'apt';

interface CacheDir {
  target: string;
  sharing?: 'locked';
  /**
   * Besides the downloads it holds what the install produced (Go's module cache, Maven's
   * repository, apt's package lists): mounting it is safe only when nothing later uses it.
   */
  product: boolean;
}

const root = (user: string | undefined): boolean => user === undefined || /^(root|0)(:(root|0))?$/.test(user);

/** The cache folders of a tool for a root user, honouring the environment that moves them. */
function cacheDirs(m: Manager, env: ReadonlyMap<string, string>, run: Instruction, baseImage: string): CacheDir[] | 'off' | undefined {
  const e = (k: string): string | undefined => { const v = env.get(k); return v === undefined || v === '' ? undefined : v; };
  switch (m) {
    case 'npm': return [{ target: e('npm_config_cache') ?? e('NPM_CONFIG_CACHE') ?? '/root/.npm', product: false }];
    case 'yarn': return [{ target: e('YARN_CACHE_FOLDER') ?? '/usr/local/share/.cache/yarn', product: false }];
    case 'pnpm': return [{ target: e('npm_config_store_dir') ?? '/root/.local/share/pnpm/store', product: false }];
    case 'bun': return [{ target: e('BUN_INSTALL_CACHE_DIR') ?? '/root/.bun/install/cache', product: false }];
    case 'pip': {
      const off = e('PIP_NO_CACHE_DIR');
      if (off !== undefined && !/^(0|false|no|off)$/i.test(off)) return 'off';
      return [{ target: e('PIP_CACHE_DIR') ?? '/root/.cache/pip', product: false }];
    }
    case 'uv': return e('UV_NO_CACHE') !== undefined ? 'off' : [{ target: e('UV_CACHE_DIR') ?? '/root/.cache/uv', product: false }];
    case 'pipenv': return [{ target: e('PIPENV_CACHE_DIR') ?? '/root/.cache/pipenv', product: false }];
    case 'pdm': return [{ target: e('PDM_CACHE_DIR') ?? '/root/.cache/pdm', product: false }];
    // Poetry keeps its virtualenvs under its cache folder: only the download parts are pure caches.
    case 'poetry': {
      const base = e('POETRY_CACHE_DIR') ?? '/root/.cache/pypoetry';
      return [{ target: `${base}/cache`, product: false }, { target: `${base}/artifacts`, product: false }];
    }
    case 'go': {
      const gopath = e('GOPATH') ?? '/go';
      const mod = { target: e('GOMODCACHE') ?? `${gopath.split(':')[0] ?? '/go'}/pkg/mod`, product: true };
      const download = runInfo(run)?.commands.every(({ cmd, cls }) => cls.kind !== 'install' || (cmd.argv[1] === 'mod')) === true;
      return download ? [mod] : [mod, { target: e('GOCACHE') ?? '/root/.cache/go-build', product: false }];
    }
    case 'cargo': {
      const home = e('CARGO_HOME') ?? (/^(docker\.io\/)?(library\/)?rust\b/.test(baseImage) ? '/usr/local/cargo' : '/root/.cargo');
      return [{ target: `${home}/registry`, product: true }, { target: `${home}/git/db`, product: true }];
    }
    case 'maven': return [{ target: '/root/.m2', product: true }];
    case 'gradle': return [{ target: e('GRADLE_USER_HOME') ?? '/root/.gradle', product: true }];
    case 'composer': {
      const home = e('COMPOSER_HOME');
      return [{ target: e('COMPOSER_CACHE_DIR') ?? (home !== undefined ? `${home}/cache` : /^(docker\.io\/)?(library\/)?composer\b/.test(baseImage) ? '/tmp/cache' : '/root/.cache/composer'), product: false }];
    }
    case 'dotnet': return [{ target: e('NUGET_PACKAGES') ?? '/root/.nuget/packages', product: true }];
    case 'apt': {
      // The lists are the update's product: only when this RUN updates them itself.
      const updates = runInfo(run)?.commands.some(({ cls }) => cls.kind === 'system' && cls.manager === 'apt' && cls.action === 'update') === true;
      const dirs: CacheDir[] = [{ target: '/var/cache/apt', sharing: 'locked', product: false }];
      if (updates) dirs.push({ target: '/var/lib/apt', sharing: 'locked', product: true });
      return dirs;
    }
    case 'bundler': return undefined;
  }
}

/** Programs whose later use reads a tool's product folder. */
const USERS: Partial<Record<Manager, RegExp>> = {
  go: /(^|[\s;&|(/"'])go(["'\s]|$)/,
  cargo: /\bcargo\b|\brustc\b/,
  maven: /\bmvnw?\b/,
  gradle: /\bgradlew?\b/,
  dotnet: /\bdotnet\b/,
  apt: /\b(apt|apt-get|aptitude|apt-cache)\b/,
};

/** Whether anything after `run` (in its stage or stages built on it) may read `dir`. */
function usedLater(stages: StageInfo[], info: StageInfo, run: Instruction, m: Manager, dir: string): boolean {
  const re = USERS[m];
  const family = descendants(info);
  const names = new Set(family.flatMap((s) => [s.stage.name, String(s.stage.index)]).filter((n): n is string => n !== undefined));
  for (const s of family) {
    const cmds = s === info ? s.stage.commands.slice(s.stage.commands.indexOf(run) + 1) : s.stage.commands;
    for (const inst of cmds) {
      const k = kw(inst);
      const text = k === 'RUN' ? runScript(inst) : inst.original;
      if ((k === 'RUN' || k === 'CMD' || k === 'ENTRYPOINT') && re !== undefined && re.test(text)) return true;
    }
  }
  // Copied out by another stage.
  for (const s of stages) {
    for (const inst of s.stage.commands) {
      const c = copyInfo(inst);
      const from = inst.flags.find((f) => f.name === 'from')?.flagValue?.toLowerCase();
      if (c === undefined || from === undefined || !names.has(from)) continue;
      if (c.sources.some((src) => !src.startsWith('/') || overlaps(src, dir))) return true;
    }
  }
  return false;
}

/**
 * Whether a step before `run` (in its stage or the stages it is built FROM) may have left something
 * in `dir` with the same tool: a cache mount there would hide it (e.g. `mvn dependency:go-offline`
 * then `mvn install`; `dotnet restore` then `dotnet publish --no-restore`).
 */
function usedEarlier(info: StageInfo, run: Instruction, m: Manager): boolean {
  const re = USERS[m];
  if (re === undefined) return false;
  for (let s: StageInfo | undefined = info; s !== undefined; s = s.parent) {
    const cmds = s === info ? s.stage.commands.slice(0, s.stage.commands.indexOf(run)) : s.stage.commands;
    if (cmds.some((inst) => kw(inst) === 'RUN' && re.test(runScript(inst)))) return true;
  }
  return false;
}

const LABEL: Record<Manager, string> = {
  npm: 'npm', yarn: 'yarn', pnpm: 'pnpm', bun: 'bun', pip: 'pip', uv: 'uv', poetry: 'Poetry', pipenv: 'Pipenv', pdm: 'PDM', go: 'Go',
  cargo: 'Cargo', maven: 'Maven', gradle: 'Gradle', bundler: 'Bundler', composer: 'Composer', dotnet: 'NuGet', apt: 'apt',
};

export const packageCacheMount: Rule = {
  id: ID,
  title: 'A package install without a cache mount downloads everything again on every rerun.',
  defaultSeverity: 'hint',
  check(ctx: RuleContext) {
    const out: Array<Omit<RuleDiagnostic, 'rule' | 'severity'>> = [];
    const stages = analyzeStages(ctx.stages);
    for (const info of stages) {
      for (const inst of info.stage.commands) {
        const r = runInfo(inst);
        // A step that already mounts a cache: its author chose what to cache.
        if (r === undefined || r.cacheTargets.length > 0) continue;
        // `--no-cache-dir`, `--cache <dir>`…: the user already decided where downloads go.
        if (r.commands.some(({ cls }) => cls.kind === 'install' && cls.cacheConfigured)) continue;
        const managers: Manager[] = [];
        for (const { cls } of r.commands) {
          if (cls.kind === 'install' && !managers.includes(cls.tool)) managers.push(cls.tool);
          if (cls.kind === 'system' && cls.manager === 'apt' && cls.action === 'install' && !managers.includes('apt')) managers.push('apt');
        }
        if (managers.length === 0) continue;
        const state: InstState = stateOf(info, inst);
        const env = varsOf(state);
        let top = info;
        while (top.parent !== undefined) top = top.parent;
        const baseImage = top.stage.base?.value ?? '';
        const mounts: string[] = [];
        const described: string[] = [];
        const unfixable: string[] = [];
        let skip = false;
        for (const m of managers) {
          const dirs = cacheDirs(m, env, inst, baseImage);
          if (dirs === 'off') { skip = true; break; }
          if (dirs === undefined) { unfixable.push(`${LABEL[m]} (its cache folder holds the installed gems)`); continue; }
          described.push(`${LABEL[m]} → ${dirs.map((d) => d.target).join(', ')}`);
          if (!root(state.user)) { unfixable.push(`${LABEL[m]} (the step runs as ${state.user ?? ''}, whose cache folders are elsewhere)`); continue; }
          // A folder the tool's results live in (not a pure download cache) is mounted on every step
          // that uses it or on none: a mount would hide what an earlier step left there.
          const earlier = usedEarlier(info, inst, m);
          const hidden = dirs.filter((d) => d.product && earlier);
          const safe = dirs.filter((d) => !hidden.includes(d) && (!d.product || !usedLater(stages, info, inst, m, d.target)));
          const unsafe = dirs.filter((d) => !safe.includes(d) && !hidden.includes(d));
          if (hidden.length > 0) unfixable.push(`${hidden.map((d) => d.target).join(', ')} (an earlier step with the same tool left files there that a mount would hide)`);
          if (unsafe.length > 0) unfixable.push(`${unsafe.map((d) => d.target).join(', ')} (later steps or the image use what the install leaves there)`);
          for (const d of safe) mounts.push(`--mount=type=cache,target=${d.target}${d.sharing === undefined ? '' : `,sharing=${d.sharing}`}`);
        }
        // Nothing to offer: the step keeps its downloads elsewhere already (in the image, as a
        // product later steps read) or runs as a user whose cache we cannot place; a hint then is noise.
        if (skip || mounts.length === 0) continue;
        const what = described.length > 0 ? ` (${described.join('; ')})` : '';
        const note = unfixable.length > 0 ? ` Not offered: ${unfixable.join('; ')}.` : '';
        const at = inst.flags[0]?.range.start ?? inst.argsRange.start;
        out.push({
          range: headRange(inst),
          message: `Every rerun of this step downloads its packages again${what}: a cache mount keeps the downloads between builds, outside the image.${note}`,
          fixes: [{
            title: `Add ${mounts.length === 1 ? 'a cache mount' : `${mounts.length} cache mounts`} (${mounts.map((x) => x.replace(/^--mount=type=cache,target=/, '').replace(/,sharing=locked$/, '')).join(', ')})`,
            edits: [{ range: { start: at, end: at }, newText: `${mounts.join(' ')} ` }],
            // A suggestion, not a repair: applied only when asked for by rule id.
            onRequest: 'a suggestion (downloads kept between builds), not a cache-order repair',
          }],
        });
      }
    }
    return out;
  },
};
