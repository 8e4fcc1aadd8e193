/**
 * The step model: from a parsed Dockerfile and the build's options to the list of BuildKit
 * vertices (FROM of an image, RUN, COPY, ADD, WORKDIR), with the name BuildKit prints for each and
 * a cache key that changes exactly when BuildKit's would. Mirrors BuildKit's dockerfile2llb
 * (`convert.go`, `convert_copy.go`): stage reachability, ARG/ENV scoping, step numbering, dedup.
 *
 * Pure: the context's checksums and the base images' configs come in through the options.
 */

import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { parseMount, splitStages, flagValue, flagValues, type DockerfileAST, type Instruction, type Mount, type Stage } from '../parser';
import { ShellLex, type ShellEnv } from '../parser/shellLex';
import { argPairs, imageLookup, isURL, targetIndex, tryWord } from './instructionWords';
import { parseHeredocWord } from '../parser/parser';
import { normalizeImageRef } from './imageRef';
import type { StepInputs } from './types';

/** What the engine knows of a base image (from `docker image inspect`). */
export interface ImageInfo {
  id: string;
  env: Array<[string, string]>;
  workdir: string;
  user: string;
  shell: string[] | undefined;
}

/** The content of a COPY/ADD or bind-mount source selection in the build context. */
export interface ContextSelection {
  checksum: string;
  /** The selected files with their entry hashes; may be listed anew on each read (read it once, to record or explain). */
  readonly files: Array<{ path: string; hash: string }>;
  /** How many files `files` lists, when known without listing them. */
  readonly count?: number;
  missing: string[];
  /** Optional shortcuts a context selection offers (SourceSelection): see there. */
  forEachFile?(fn: (path: string, hash: string) => void): void;
  fileAt?(rel: string): { selected: boolean; hash: string | undefined } | undefined;
  readonly derived?: { fromChecksum: string; changed: ReadonlySet<string> } | undefined;
  readonly key?: string;
}

export type ContextSelector = (
  sources: readonly string[],
  // literal: no wildcard expansion (bind mount sources).
  options: { excludes: readonly string[]; parents: boolean; literal?: boolean },
) => ContextSelection;

export interface PlanOptions {
  target?: string | undefined;
  buildArgs?: Record<string, string>;
  /** The `--platform` of the build. */
  platform?: string | undefined;
  /** The builder's own platform (BUILDPLATFORM, and TARGETPLATFORM when no --platform). */
  builderPlatform?: string;
  /** Looks up a normalised image reference; undefined when the engine does not have it (or cannot be asked). */
  images?: (normalizedRef: string) => ImageInfo | undefined;
  /** Selects and checksums context sources; undefined when the context has not been hashed yet. */
  context?: ContextSelector | undefined;
  /** Whether the worker supports merge ops (`COPY --link` independent of its parent). */
  mergeOps?: boolean;
  /**
   * The image store resolves a base tag to its digest (the containerd store): BuildKit then names
   * the FROM vertex `FROM ref@<image id>`. The classic store resolves local images without one.
   */
  baseNamesPinned?: boolean;
  /** `--pull`: base images are resolved again at build time. */
  pull?: boolean;
  /**
   * `--no-cache-filter`: stage names (the frontend's IsNoCache: every stage when the list is
   * empty) whose steps BuildKit runs without the cache. Undefined: no filter.
   */
  noCacheFilter?: readonly string[] | undefined;
  /** Set when the engine cannot be asked about images: FROM steps are unknown for this reason. */
  imagesUnavailable?: string | undefined;
}

export type StepKind = 'from' | 'run' | 'copy' | 'add' | 'workdir';

export interface PlannedStep {
  index: number;
  kind: StepKind;
  stage: number;
  /** The stage's name as BuildKit shows it (`build`, `stage-2`), even when the progress name omits it. */
  stageName: string;
  instruction: Instruction;
  /**
   * BuildKit's progress name, character for character. Steps merged into one vertex (`dedupOf`)
   * carry the first one's name; BuildKit may show the vertex under any of their names.
   */
  vertex: string;
  /** The name this step would have if BuildKit had not merged it with another. */
  ownVertex: string;
  /** Undefined when an input cannot be known before the build (then `unknownReason` says why). */
  key: string | undefined;
  parentKey: string | undefined;
  unknownReason: string | undefined;
  inputs: StepInputs;
  reachable: boolean;
  /** An earlier step with the same operation on the same parent: BuildKit shows one vertex for both. */
  dedupOf: number | undefined;
  /** Stages whose output this step reads by content (COPY --from, RUN --mount from=). */
  readsStages: number[];
  /** For context sources: what was selected (for reasons naming files). */
  selection: ContextSelection | undefined;
  /** Steps whose key does not chain on the previous one (`COPY --link` on a worker with merge ops). */
  independent: boolean;
  /** `--no-cache-filter` names this step's stage: BuildKit runs it without looking in the cache. */
  ignoreCache?: boolean;
  /**
   * The key depends on something only the builder knows (its frontend's version): the step is
   * unknown for this reason unless exactly this key was recorded.
   */
  doubt?: string;
}

export type StageBase =
  | { kind: 'image'; ref: string; normalized: string; image: ImageInfo | undefined }
  | { kind: 'stage'; index: number }
  | { kind: 'scratch' };

export interface PlannedStage {
  index: number;
  name: string | undefined;
  /** `build`, or `stage-<n>` for an unnamed stage. */
  displayName: string;
  base: StageBase;
  reachable: boolean;
  steps: number[];
  /** The key of the stage's final state; undefined if unknown. */
  finalKey: string | undefined;
  /** True when every reachable step of the stage (and of the stages it reads) is certain. */
  stage: Stage;
}

export interface BuildPlan {
  stages: PlannedStage[];
  steps: PlannedStep[];
  /** Index of the target stage. */
  target: number;
  /** Problems that would fail the build before it starts (unknown target, blank base name...). */
  problems: string[];
  /** Every normalised image reference the plan looked up (bases and COPY --from images). */
  imageRefs: string[];
}

export function hashKey(...parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/** An ordered environment list with replace-in-place, like llb's EnvList. */
class EnvList implements ShellEnv {
  constructor(readonly entries: Array<[string, string]> = []) {}
  get(name: string): string | undefined {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i];
      if (e !== undefined && e[0] === name) return e[1];
    }
    return undefined;
  }
  keys(): string[] {
    return this.entries.map((e) => e[0]);
  }
  set(name: string, value: string): EnvList {
    const copy = this.entries.map((e): [string, string] => [e[0], e[1]]);
    const i = copy.findIndex((e) => e[0] === name);
    if (i >= 0) copy[i] = [name, value];
    else copy.push([name, value]);
    return new EnvList(copy);
  }
}

function platformParts(p: string): { os: string; arch: string; variant: string } {
  const [os = 'linux', arch = 'amd64', variant = ''] = p.split('/');
  return { os, arch, variant };
}

/** BuildKit's defaultArgs: the automatic platform args, overridable by --build-arg. */
function defaultArgs(builderPlatform: string, targetPlatform: string, target: string, overrides: Record<string, string>): EnvList {
  const b = platformParts(builderPlatform);
  const t = platformParts(targetPlatform);
  const pairs: Array<[string, string]> = [
    ['BUILDPLATFORM', builderPlatform], ['BUILDOS', b.os], ['BUILDOSVERSION', ''], ['BUILDARCH', b.arch], ['BUILDVARIANT', b.variant],
    ['TARGETPLATFORM', targetPlatform], ['TARGETOS', t.os], ['TARGETOSVERSION', ''], ['TARGETARCH', t.arch], ['TARGETVARIANT', t.variant],
    ['TARGETSTAGE', target === '' ? 'default' : target],
  ];
  let env = new EnvList();
  for (const [k, v] of pairs) env = env.set(k, overrides[k] ?? v);
  return env;
}

function uppercaseCmd(s: string): string {
  const sp = s.indexOf(' ');
  return sp < 0 ? s.toUpperCase() : s.slice(0, sp).toUpperCase() + s.slice(sp);
}

function summarizeHeredoc(doc: string): string {
  const lines = doc.trim().replace(/\r\n/g, '\n').split('\n');
  return (lines[0] ?? '') + (lines.length > 1 ? '...' : '');
}

/**
 * system.NormalizeWorkdir for Linux: a relative path is joined (and so cleaned), an absolute one is
 * kept as written — `/src/app/` stays with its slash, and RUN's working directory (part of its
 * key) is that string.
 */
function normalizeWorkdir(current: string, next: string): string {
  const parent = current === '' ? '/' : current;
  if (next === '') return parent;
  return next.startsWith('/') ? next : path.posix.join(parent.startsWith('/') ? parent : `/${parent}`, next);
}

/** The directory a WORKDIR's mkdir creates: file ops clean their paths. */
function cleanPath(p: string): string {
  return path.posix.normalize(p).replace(/(.)\/$/, '$1');
}

function isGitSource(s: string): boolean {
  return /^git@|^git:\/\/|^ssh:\/\/|\.git(#.*)?$|^https?:\/\/[^#]*\.git(#|$)/.test(s);
}

/** Plans the build of `options.target` (default: the last stage). */
export function planBuild(ast: DockerfileAST, options: PlanOptions = {}): BuildPlan {
  const problems: string[] = [];
  const { lookup: lookupImage, refs: imageRefs } = imageLookup(options);
  const buildArgs = options.buildArgs ?? {};
  const builderPlatform = options.builderPlatform ?? 'linux/amd64';
  const targetPlatform = options.platform ?? builderPlatform;
  const { metaArgs, stages: parsedStages } = splitStages(ast);
  const lex = new ShellLex(ast.escapeToken);
  const runNameLex = new ShellLex(ast.escapeToken, { rawQuotes: true, skipUnsetEnv: true });

  const target = targetIndex(parsedStages, options.target, problems);
  const targetName = parsedStages[target]?.name ?? '';

  // Global (meta) args: the automatic platform args, then ARGs before the first FROM.
  let globalArgs = defaultArgs(builderPlatform, targetPlatform, targetName, buildArgs);
  for (const inst of metaArgs) {
    for (const { key, value } of argPairs(inst)) {
      let v = value === undefined ? undefined : tryWord(lex, value, globalArgs);
      if (buildArgs[key] !== undefined) v = buildArgs[key];
      if (v !== undefined) globalArgs = globalArgs.set(key, v);
    }
  }

  // Stages and their bases; images read by COPY --from count as extra (unregistered) states.
  const stageIndexByName = new Map<string, number>();
  const stages: PlannedStage[] = parsedStages.map((s, i) => {
    const baseWord = s.base?.value ?? '';
    const baseName = tryWord(lex, baseWord, globalArgs);
    let base: StageBase;
    const byName = stageIndexByName.get(baseName.toLowerCase());
    if (byName !== undefined) base = { kind: 'stage', index: byName };
    else if (baseName === 'scratch') base = { kind: 'scratch' };
    else {
      if (baseName === '') problems.push(`base name (${baseWord}) should not be blank`);
      const normalized = normalizeImageRef(baseName);
      base = { kind: 'image', ref: baseName, normalized, image: lookupImage(normalized) };
    }
    if (s.name !== undefined) stageIndexByName.set(s.name, i);
    return { index: i, name: s.name, displayName: s.name ?? `stage-${i}`, base, reachable: false, steps: [], finalKey: undefined, stage: s };
  });

  const fromTarget = (word: string): { stage?: number; image?: string } => {
    const idx = /^\d+$/.test(word) ? Number(word) : undefined;
    if (idx !== undefined) return { stage: idx };
    const byName = stageIndexByName.get(word.toLowerCase());
    return byName !== undefined ? { stage: byName } : { image: word };
  };

  // Which stages each stage reads (for reachability and the count of states).
  const extraImages = new Set<string>();
  const deps = stages.map((st) => {
    const out = new Set<number>();
    if (st.base.kind === 'stage') out.add(st.base.index);
    for (const inst of st.stage.commands) {
      const kw = inst.keyword.toLowerCase();
      const froms: string[] = [];
      if (kw === 'copy') {
        const f = flagValue(inst, 'from');
        if (f !== undefined) froms.push(f);
      }
      if (kw === 'run') {
        for (const m of flagValues(inst, 'mount')) {
          const mount = m.flagValue === undefined ? undefined : parseMount(m.flagValue).mount;
          if (mount === undefined) continue;
          // BuildKit's detectRunMount: a mount reads its `from` (scratch when none) by stage name.
          const from = mount.from ?? 'scratch';
          const byName = stageIndexByName.get(from.toLowerCase());
          if (byName !== undefined) out.add(byName);
          else if (mount.from !== undefined && /^\d+$/.test(from) && Number(from) < stages.length) out.add(Number(from));
          else extraImages.add(from);
        }
      }
      for (const f of froms) {
        const r = fromTarget(f);
        if (r.stage !== undefined && r.stage < stages.length) out.add(r.stage);
        else if (r.image !== undefined) extraImages.add(r.image);
      }
    }
    return out;
  });
  const mark = (i: number): void => {
    const st = stages[i];
    if (st === undefined || st.reachable) return;
    st.reachable = true;
    for (const d of deps[i] ?? []) mark(d);
  };
  mark(target);
  // A build of a single stage (no image read by COPY --from, no RUN --mount) has no stage word in its names.
  const singleState = stages.length + extraImages.size === 1;

  const steps: PlannedStep[] = [];
  // What each stage hands to a stage built FROM it.
  const stageState = new Map<number, { env: EnvList; workdir: string; user: string; shell: string[]; certain: boolean; unknownWhy: string | undefined }>();
  const seenKeys = new Map<string, number>();

  for (const st of stages) {
    const s = st.stage;
    const image = st.base.kind === 'image' ? st.base.image : undefined;
    // Step numbering: FROM of an image plus RUN/COPY/ADD/WORKDIR, counted over the whole stage.
    let total = st.base.kind === 'image' ? 1 : 0;
    for (const c of s.commands) if (['add', 'copy', 'run', 'workdir'].includes(c.keyword.toLowerCase())) total++;
    const width = String(total).length;
    let counter = 0;
    const prefix = (name: string): string => {
      if (total === 0) return name;
      counter++;
      const stageWord = singleState ? '' : `${st.displayName} `;
      return `[${stageWord}${String(counter).padStart(width, ' ')}/${total}] ${name}`;
    };

    // dockerfile2llb: ds.ignoreCache = IsNoCache(stage name): by name only, never by index.
    const filter = options.noCacheFilter;
    const ignored = filter !== undefined && (filter.length === 0 || (s.name !== undefined && filter.some((f) => f.toLowerCase() === s.name?.toLowerCase())));
    // State carried through the stage.
    let key: string | undefined;
    let env: EnvList;
    let workdir: string;
    let user: string;
    let shell: string[];
    let certain = true;
    let unknownWhy: string | undefined;
    const argsInScope: Record<string, string> = {};

    if (st.base.kind === 'stage') {
      const baseStage = stages[st.base.index];
      key = baseStage?.finalKey;
      const inherited = stageState.get(st.base.index);
      env = inherited?.env ?? new EnvList();
      workdir = inherited?.workdir ?? '/';
      user = inherited?.user ?? '';
      shell = inherited?.shell ?? ['/bin/sh', '-c'];
      certain = inherited?.certain ?? true;
      unknownWhy = inherited?.unknownWhy;
    } else {
      env = new EnvList(image?.env ?? []);
      workdir = image?.workdir === undefined || image.workdir === '' ? '/' : image.workdir;
      user = image?.user ?? '';
      shell = image?.shell ?? ['/bin/sh', '-c'];
    }

    const addStep = (kind: StepKind, inst: Instruction, vertex: string, def: unknown[], inputs: StepInputs, extra: Partial<PlannedStep> & { contentKey?: string | undefined; unknown?: string | undefined; independent?: boolean } = {}): void => {
      const parentKey = key;
      let stepKey: string | undefined;
      let why = extra.unknown ?? (certain ? undefined : unknownWhy);
      if (why === undefined && (parentKey !== undefined || kind === 'from' || extra.independent === true)) {
        stepKey = hashKey(extra.independent === true ? 'independent' : parentKey ?? 'root', kind, def, extra.contentKey ?? null);
      } else {
        why ??= 'depends on an earlier step that cannot be predicted';
      }
      const index = steps.length;
      let dedupOf: number | undefined;
      if (stepKey !== undefined && st.reachable) {
        dedupOf = seenKeys.get(stepKey);
        if (dedupOf === undefined) seenKeys.set(stepKey, index);
      }
      const firstVertex = dedupOf === undefined ? vertex : (steps[dedupOf]?.vertex ?? vertex);
      steps.push({
        index, kind, stage: st.index, stageName: st.displayName, instruction: inst, vertex: firstVertex, ownVertex: vertex,
        key: stepKey, parentKey, unknownReason: stepKey === undefined ? why : undefined, inputs, reachable: st.reachable, dedupOf,
        readsStages: extra.readsStages ?? [], selection: extra.selection, independent: extra.independent ?? false,
        // dockerfile2llb marks only RUN and COPY/ADD with llb.IgnoreCache (not FROM, not WORKDIR's mkdir)
        ...(ignored && (kind === 'run' || kind === 'copy' || kind === 'add') ? { ignoreCache: true } : {}),
        ...(extra.doubt === undefined ? {} : { doubt: extra.doubt }),
      });
      st.steps.push(index);
      if (stepKey === undefined) {
        certain = false;
        unknownWhy = why;
      }
      if (extra.independent !== true) key = stepKey;
    };

    if (st.base.kind === 'image') {
      const normalized = st.base.normalized;
      const imgId = image?.id;
      const platform = s.platform === undefined ? targetPlatform : tryWord(lex, s.platform, globalArgs);
      // Keyed by the image, not the tag: two tags of one image are the same base to BuildKit.
      const pinned = options.baseNamesPinned === true && imgId !== undefined && !normalized.includes('@') ? `${normalized}@${imgId}` : normalized;
      addStep('from', s.from, prefix(`FROM ${pinned}`), [imgId ?? normalized, platform],
        { text: s.from.original.trim(), base: imgId === undefined ? normalized : `${normalized} (${imgId})`, platform },
        {
          unknown: options.pull === true ? `--pull: ${st.base.ref} is resolved again at build time`
            : options.imagesUnavailable !== undefined ? `${options.imagesUnavailable} (${st.base.ref})` : undefined,
        });
    } else if (st.base.kind === 'scratch') {
      key = hashKey('scratch', targetPlatform);
    }

    for (const inst of s.commands) {
      const kw = inst.keyword.toLowerCase();
      const expand = (w: string): string => tryWord(lex, w, env);
      switch (kw) {
        case 'arg':
          for (const { key: k, value } of argPairs(inst)) {
            let v: string | undefined;
            const has = Object.prototype.hasOwnProperty.call(buildArgs, k);
            if (has) v = buildArgs[k];
            else if (value !== undefined) v = expand(value);
            else v = globalArgs.get(k);
            if (v !== undefined) {
              env = env.set(k, v);
              argsInScope[k] = v;
            }
          }
          break;
        case 'env':
          for (let i = 0; i + 1 < inst.args.length; i += 3) {
            const k = expand(inst.args[i]?.value ?? '');
            const v = expand(inst.args[i + 1]?.value ?? '');
            env = env.set(k, v);
          }
          break;
        case 'user':
          user = expand(inst.args[0]?.value ?? '');
          break;
        case 'shell':
          if (inst.json) shell = inst.args.map((a) => a.value);
          break;
        case 'workdir': {
          workdir = normalizeWorkdir(workdir, expand(inst.args[0]?.value ?? ''));
          if (workdir !== '/') {
            // Frontends from Dockerfile 1.16 (BuildKit 0.23, "make WORKDIR respect SOURCE_DATE_EPOCH")
            // create the directory with the epoch's time; older ones ignore it. Docker's own
            // BuildKit does not tell its version (Debian: v0.0.0+unknown), so it is a doubt.
            const epoch = buildArgs.SOURCE_DATE_EPOCH;
            const withEpoch = epoch !== undefined && epoch !== '';
            addStep('workdir', inst, prefix(uppercaseCmd(expand(inst.original.trim()))), withEpoch ? [cleanPath(workdir), user, ['epoch', epoch]] : [cleanPath(workdir), user],
              { text: inst.original.trim(), workdir, user },
              withEpoch ? { doubt: 'SOURCE_DATE_EPOCH: newer Dockerfile frontends (1.16+) give WORKDIR its time, older ones do not, and this builder does not say which it has' } : {});
          }
          break;
        }
        case 'run': {
          const r = runStep(inst, shell);
          const mounts: unknown[] = [];
          const reads: number[] = [];
          const fromKeys: Array<[string, string]> = [];
          let unknown: string | undefined;
          let selection: ContextSelection | undefined;
          for (const f of flagValues(inst, 'mount')) {
            const parsed = f.flagValue === undefined ? undefined : parseMount(expand(f.flagValue)).mount;
            if (parsed === undefined) continue;
            const m = mountKey(parsed, workdir, buildArgs.BUILDKIT_CACHE_MOUNT_NS ?? '');
            if ((parsed.type === 'bind' || parsed.type === 'cache') && parsed.from !== undefined) {
              const src = fromTarget(parsed.from);
              const k = src.stage !== undefined ? stages[src.stage]?.finalKey : imageKey(src.image ?? '');
              if (src.stage !== undefined) reads.push(src.stage);
              if (k === undefined) unknown ??= `depends on what stage ${parsed.from} produces`;
              fromKeys.push([parsed.from, k ?? '?']);
              mounts.push([m, k ?? null]);
            } else if (parsed.type === 'bind') {
              if (options.context === undefined) {
                unknown ??= 'the build context has not been read yet';
                mounts.push([m, null]);
              } else {
                selection = options.context([parsed.source ?? '.'], { excludes: [], parents: false, literal: true });
                mounts.push([m, selection.checksum]);
              }
            } else {
              mounts.push([m]);
            }
          }
          const network = flagValue(inst, 'network') ?? 'default';
          const security = flagValue(inst, 'security') ?? 'sandbox';
          const name = uppercaseCmd(tryWord(runNameLex, inst.original.trim(), env)) + r.nameSuffix;
          addStep('run', inst, prefix(name), [r.args, env.entries, workdir, user, network, security, targetPlatform, mounts, r.inline],
            {
              text: inst.original.trim(), env: env.entries, args: { ...argsInScope }, workdir, user, shell, network, security,
              platform: targetPlatform, ...(selection === undefined ? {} : { filesChecksum: selection.checksum }), ...(fromKeys.length === 0 ? {} : { from: fromKeys }),
            },
            { unknown, readsStages: reads, selection });
          break;
        }
        case 'copy':
        case 'add': {
          const isAdd = kw === 'add';
          const argsAll = inst.args.map((a) => a.value);
          const destRaw = expand(argsAll[argsAll.length - 1] ?? '');
          const sourcesRaw = argsAll.slice(0, -1);
          let dest = destRaw.startsWith('/') ? destRaw : path.posix.join(workdir, destRaw);
          if (destRaw === '.' || destRaw === '' || destRaw.endsWith('/')) dest = dest.endsWith('/') ? dest : dest + '/';
          const chown = expand(flagValue(inst, 'chown') ?? '');
          const chmod = expand(flagValue(inst, 'chmod') ?? '');
          const parents = flagValue(inst, 'parents') === 'true';
          const link = flagValue(inst, 'link') === 'true' && chmod === '';
          const excludes = flagValues(inst, 'exclude').map((f) => expand(f.flagValue ?? ''));
          const checksum = flagValue(inst, 'checksum');
          const unpack = flagValue(inst, 'unpack');
          const from = kw === 'copy' ? flagValue(inst, 'from') : undefined;
          const heredocByName = new Map(inst.heredocs.map((h) => [h.name, h]));
          const local: string[] = [];
          const inline: Array<[string, string]> = [];
          let unknown: string | undefined;
          let contentKey: string | undefined;
          let selection: ContextSelection | undefined;
          const reads: number[] = [];
          const fromKeys: Array<[string, string]> = [];
          for (const src of sourcesRaw) {
            const h = safeHeredocWord(src);
            if (h !== undefined) {
              const doc = heredocByName.get(h.name);
              let data = doc?.content ?? '';
              if (h.chomp) data = data.replace(/^\t+/gm, '');
              if (h.expand) data = tryWord(new ShellLex('\\', { skipProcessQuotes: true }), data, env);
              inline.push([h.name, data]);
              continue;
            }
            local.push(expand(src));
          }
          if (from !== undefined) {
            const r = fromTarget(from);
            const k = r.stage !== undefined ? stages[r.stage]?.finalKey : imageKey(r.image ?? '');
            if (r.stage !== undefined) reads.push(r.stage);
            if (k === undefined) unknown = r.stage !== undefined ? `depends on what stage ${stages[r.stage]?.displayName ?? from} produces` : `image ${from} is not in the local image store`;
            fromKeys.push([from, k ?? '?']);
            contentKey = hashKey('from', k ?? null, local);
          } else if (isAdd && local.some((s) => isURL(s) || isGitSource(s))) {
            if (checksum !== undefined) contentKey = hashKey('checksum', checksum, local);
            else unknown = local.some(isGitSource)
              ? 'ADD of a git repository is resolved against the remote at build time'
              : 'ADD of a URL is checked against the server at build time';
          } else if (local.length > 0) {
            if (options.context === undefined) unknown = 'the build context has not been read yet';
            else {
              selection = options.context(local, { excludes, parents });
              if (selection.missing.length > 0) unknown = `${selection.missing.join(', ')} not found in the build context: the build will fail`;
              contentKey = selection.checksum;
            }
          } else {
            contentKey = hashKey('inline');
          }
          const def = [isAdd, dest, chownInKey(chown), chmodInKey(chmod), parents, link, excludes, unpack ?? null, flagValue(inst, 'keep-git-dir') ?? null,
            local.map((s) => path.posix.basename(s)), inline];
          const name = uppercaseCmd(tryWord(lex, inst.original.trim(), env));
          const independent = link && options.mergeOps === true;
          addStep(isAdd ? 'add' : 'copy', inst, prefix(name), def,
            {
              text: inst.original.trim(), workdir, user,
              ...(selection === undefined ? {} : { filesChecksum: selection.checksum }),
              ...(fromKeys.length === 0 ? {} : { from: fromKeys }),
            },
            { contentKey, unknown, readsStages: reads, selection, independent });
          if (independent) {
            // With merge ops the copy is its own vertex, on scratch; BuildKit then merges it onto
            // the stage under the same number (`[2/3] LINK COPY …`), a vertex keyed by both, so
            // it reruns whenever a step below changes, and what follows stands on the merge.
            const copy = steps[steps.length - 1];
            const copyVertex = copy?.ownVertex ?? name;
            const merged = copyVertex.replace(/^(\[[^\]]*\] )?/, (m) => `${m}LINK `);
            addStep(isAdd ? 'add' : 'copy', inst, merged, ['merge', copy?.key ?? null],
              { text: inst.original.trim(), workdir, user },
              { unknown: copy?.key === undefined ? copy?.unknownReason ?? unknown : undefined });
          }
          break;
        }
        default:
          break; // LABEL, CMD, EXPOSE... change the image config, not the cache.
      }
    }
    st.finalKey = certain ? key : undefined;
    stageState.set(st.index, { env, workdir, user, shell, certain, unknownWhy });
  }

  return { stages, steps, target, problems, imageRefs: [...imageRefs] };

  function imageKey(ref: string): string | undefined {
    const normalized = normalizeImageRef(ref);
    const info = lookupImage(normalized);
    return info === undefined ? undefined : hashKey('image', info.id);
  }
}

function safeHeredocWord(word: string): ReturnType<typeof parseHeredocWord> {
  try {
    return parseHeredocWord(word);
  } catch {
    return undefined;
  }
}

/** The command an exec op runs, and the name suffix BuildKit adds for a heredoc. */
function runStep(inst: Instruction, shell: string[]): { args: string[]; inline: unknown; nameSuffix: string } {
  if (inst.json) return { args: inst.args.map((a) => a.value), inline: null, nameSuffix: '' };
  const cmd = inst.args.map((a) => a.value).join(' ');
  const files = inst.heredocs;
  if (files.length === 0) return { args: [...shell, cmd], inline: null, nameSuffix: '' };
  const first = files[0];
  const h = safeHeredocWord(cmd);
  if (h !== undefined && first !== undefined) {
    let data = first.content;
    if (first.chomp) data = data.replace(/^\t+/gm, '');
    const suffix = ` (${summarizeHeredoc(first.content)})`;
    // A script with a shebang is run as a file mounted from an inline document.
    if (data.startsWith('#!')) return { args: [`/dev/pipes/${first.name}`], inline: ['script', first.name, data], nameSuffix: suffix };
    return { args: [...shell, data], inline: null, nameSuffix: suffix };
  }
  let joined = cmd;
  for (const f of files) joined += '\n' + f.content + f.name;
  return { args: [...shell, joined], inline: null, nameSuffix: '' };
}

function mountKey(m: Mount, workdir: string, cacheNamespace: string): unknown[] {
  const target = m.target === undefined ? '' : m.target.startsWith('/') ? m.target : path.posix.join('/', workdir, m.target);
  const dropped = m.type === 'cache' ? ['target', 'dst', 'destination', 'id', 'sharing'] : ['target', 'dst', 'destination'];
  const opts = m.options.filter(([k]) => !dropped.includes(k)).sort((a, b) => a[0].localeCompare(b[0]));
  return m.type === 'cache' ? [m.type, target, m.readOnly, opts, cacheIdInKey(m, target, cacheNamespace)] : [m.type, target, m.readOnly, opts];
}

/**
 * What of a cache mount's id and sharing reaches the key. The Dockerfile frontend makes the id
 * `<BUILDKIT_CACHE_MOUNT_NS>/<id, default path.Clean(target as written)>` (convert_runmount.go);
 * ExecOp.CacheMap (exec.go checkShouldClearCacheOpts) keeps it, and sharing=shared, only when it
 * is the target itself (the id equals the absolute target, or does after its first "/") and
 * sharing is shared; otherwise it clears both. So any custom id (or sharing) keys the same, but
 * not like the default: removing them, or setting them back to the default, changes the key.
 */
export function cacheIdInKey(m: Pick<Mount, 'id' | 'sharing' | 'target'>, absTarget: string, cacheNamespace: string): string {
  const id = `${cacheNamespace}/${m.id ?? path.posix.normalize(m.target ?? '').replace(/(.)\/+$/, '$1')}`;
  const shared = m.sharing === undefined || m.sharing.toLowerCase() === 'shared';
  const slash = id.indexOf('/');
  const keep = shared && (id === absTarget || (slash >= 0 && id.slice(slash + 1) === absTarget));
  return keep ? id : '';
}

/**
 * COPY --chown as the file op gets it (llb.WithUser): "user[:group]", each part an id when it is
 * "root" or a decimal int32 (strconv.ParseInt base 10: "0", "00", "+0" are one id), else a name
 * resolved inside the image at build time. "root" and "0" are one key; "root" and "root:root" are
 * not (no group vs group 0).
 */
export function chownInKey(chown: string): unknown {
  if (chown === '') return ''; // as before normalising: keys recorded then stay valid
  const colon = chown.indexOf(':');
  const parts = colon < 0 ? [chown] : [chown.slice(0, colon), chown.slice(colon + 1)];
  return parts.map((p) => {
    if (p === 'root') return ['id', 0];
    if (/^[+-]?\d+$/.test(p)) {
      const n = Number(p);
      if (n >= -(2 ** 31) && n < 2 ** 31) return ['id', n === 0 ? 0 : n];
    }
    return ['name', p];
  });
}

/**
 * COPY --chmod as the file op gets it: an octal number (strconv.ParseUint base 8, so "755",
 * "0755" and "00755" are one mode); anything else is kept as written (newer frontends send a
 * symbolic mode as a string).
 */
export function chmodInKey(chmod: string): unknown {
  if (chmod === '') return '';
  if (/^[0-7]+$/.test(chmod)) {
    const n = parseInt(chmod, 8);
    if (n <= 0xffffffff) return ['mode', n];
  }
  return ['text', chmod];
}

/** Every name under which BuildKit may show the vertex of `step` (its own and those of steps merged into it). */
export function vertexNames(plan: BuildPlan, step: PlannedStep): string[] {
  const first = step.dedupOf ?? step.index;
  const names = [plan.steps[first]?.ownVertex ?? step.vertex];
  for (const s of plan.steps) if (s.dedupOf === first && !names.includes(s.ownVertex)) names.push(s.ownVertex);
  return names;
}
