/**
 * The step model of the legacy builder (`DOCKER_BUILDKIT=0 docker build`): the same BuildPlan as
 * steps.ts, so predict() works unchanged, but with the classic builder's rules. Modelled on
 * moby/moby v26.1 `builder/dockerfile` (builder.go, evaluator.go, dispatchers.go, internals.go,
 * copy.go, buildargs.go) and `image/cache` (compare.go), and checked against a real Docker 26.1:
 *
 * - Every instruction after FROM is a step with a cache lookup: the children of the parent image
 *   whose container config equals the step's (Env, Cmd, Entrypoint, Shell, ExposedPorts, Volumes,
 *   Labels, OnBuild, User, WorkingDir, StopSignal, Healthcheck, ArgsEscaped). Metadata instructions
 *   commit an empty layer with `Cmd = [shell, "#(nop) ", "<INSTRUCTION ...>"]`, so a LABEL/CMD/EXPOSE
 *   change misses and every later step of the stage misses with it.
 * - A step's key is therefore the parent's key plus that config (never the instruction's text):
 *   `COPY ./a /a` after `COPY a /a` is the same lookup, an ARG value never enters an ARG's key.
 * - RUN's Cmd is prefixed `|N K=V...` with the ARGs declared in the stage that have a value (sorted,
 *   those overridden by ENV left out, proxy args only when declared): an ARG change misses RUNs only.
 * - COPY/ADD: `#(nop) COPY [--chown=x ]<srchash> in <dest>`; the source hash is tarsum, whose header
 *   includes each file's path relative to the context (not its mtime): a renamed file misses.
 *   An ADD of a URL is downloaded on every build (then compared by content): unknown.
 * - Progress names are `Step i/N : <instruction as written>` (continuation lines joined, no
 *   expansion); N counts the ARGs before the first FROM, every FROM and every instruction of the
 *   stages up to the target. Stages before the target are all built (needed or not); stages after
 *   it are not parsed as steps at all.
 * - RUN with any flag (`--mount`, `--network`), COPY/ADD `--chmod` and heredoc sources fail the
 *   build at that step; `--parents`, `--exclude` and RUN `--security` fail it before it starts;
 *   `--link`, `--checksum`, `--keep-git-dir` are accepted and ignored.
 *
 * Pure: the context's files and the base images come in through the options.
 */

import * as path from 'node:path';
import { flagValue, flagValues, parse, parseHeredocWord, splitStages, type DockerfileAST, type Instruction, type Stage } from '../parser';
import { ShellLex, type ShellEnv } from '../parser/shellLex';
import { argPairs, imageLookup, isURL, targetIndex, tryWord } from './instructionWords';
import { normalizeImageRef } from './imageRef';
import { hashKey, type BuildPlan, type ContextSelection, type PlannedStage, type PlannedStep, type PlanOptions, type StageBase, type StepKind } from './steps';
import type { StepInputs } from './types';

/** Proxy args: usable without an ARG, left out of RUN's cache key unless declared (buildargs.go). */
const BUILTIN_ARGS = new Set(['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy']);
const DEFAULT_SHELL = ['/bin/sh', '-c'];
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The container config the cache compares, as far as the Dockerfile changes it. Fields the base
 * image sets and the Dockerfile never touches stay `undefined`: the chain of keys already pins the
 * base image, so they are equal whenever the parent is.
 */
interface LegacyConfig {
  env: Array<[string, string]>;
  /** undefined: the base image's; null: cleared. */
  entrypoint: string[] | null | undefined;
  shell: string[] | undefined;
  ports: string[] | undefined;
  volumes: string[] | undefined;
  labels: Array<[string, string]> | undefined;
  onbuild: string[] | undefined;
  user: string;
  workdir: string;
  stopSignal: string | undefined;
  healthcheck: unknown;
}

/** One stage's view of build args (a BuildArgs clone with ResetAllowed, as newDispatchState makes). */
class LegacyArgs {
  /** ARGs declared in the stage: key -> expanded default (undefined: no default). */
  readonly declared = new Map<string, string | undefined>();

  constructor(private readonly options: Record<string, string>, private readonly meta: ReadonlyMap<string, string | undefined>) {}

  /** getBuildArg: --build-arg, else the ARG's default, else (no default) the meta ARG's value. */
  private value(key: string, defaults: ReadonlyMap<string, string | undefined>): string | undefined {
    if (Object.prototype.hasOwnProperty.call(this.options, key)) return this.options[key];
    const d = defaults.get(key);
    if (d !== undefined) return d;
    return this.meta.get(key);
  }

  /** GetAllAllowed: the declared args and the proxy args, each with a value. */
  allowed(): Array<[string, string]> {
    const out: Array<[string, string]> = [];
    for (const key of new Set([...this.declared.keys(), ...BUILTIN_ARGS])) {
      const v = this.value(key, this.declared);
      if (v !== undefined) out.push([key, v]);
    }
    return out;
  }

  /** FilterAllowed: the allowed args not overridden by an ENV of the same name. */
  filterAllowed(env: ReadonlyArray<[string, string]>): Array<[string, string]> {
    const envKeys = new Set(env.map((e) => e[0]));
    return this.allowed().filter(([k]) => !envKeys.has(k));
  }

  /** What prependEnvOnCmd keeps: declared or non-proxy args, sorted as `K=V` strings. */
  runPrefix(env: ReadonlyArray<[string, string]>): { prefix: string[]; args: Record<string, string> } {
    const kept = this.filterAllowed(env).filter(([k]) => this.declared.has(k) || !BUILTIN_ARGS.has(k));
    const strings = kept.map(([k, v]) => `${k}=${v}`).sort();
    return { prefix: strings.length === 0 ? [] : [`|${strings.length}`, ...strings], args: Object.fromEntries(kept) };
  }
}

function envOf(pairs: ReadonlyArray<[string, string]>): ShellEnv {
  const map = new Map<string, string>(pairs);
  return { get: (name) => map.get(name), keys: () => [...map.keys()] };
}

function tryWords(lex: ShellLex, word: string, env: ShellEnv): string[] {
  try {
    return lex.processWords(word, env);
  } catch {
    return [word];
  }
}

/** ENV/LABEL key,value,separator triples. */
function kvTriples(inst: Instruction): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < inst.args.length; i += 3) out.push([inst.args[i]?.value ?? '', inst.args[i + 1]?.value ?? '']);
  return out;
}

function setPair(list: ReadonlyArray<[string, string]>, key: string, value: string): Array<[string, string]> {
  const copy = list.map((e): [string, string] => [e[0], e[1]]);
  const i = copy.findIndex((e) => e[0] === key);
  if (i >= 0) copy[i] = [key, value];
  else copy.push([key, value]);
  return copy;
}

function addToSet(list: readonly string[] | undefined, items: readonly string[]): string[] {
  return [...new Set([...(list ?? []), ...items])].sort();
}

/** nat.ParsePortSpecs, enough for a set: `80` -> `80/tcp`, ranges expanded. */
function portSpecs(words: readonly string[]): string[] {
  const out: string[] = [];
  for (const w of words) {
    const [portPart = '', proto = 'tcp'] = w.split('/');
    const port = portPart.includes(':') ? portPart.slice(portPart.lastIndexOf(':') + 1) : portPart;
    const range = /^(\d+)-(\d+)$/.exec(port);
    if (range !== null && Number(range[2]) - Number(range[1]) < 70000) {
      for (let p = Number(range[1]); p <= Number(range[2]); p++) out.push(`${p}/${proto.toLowerCase()}`);
    } else {
      out.push(`${port}/${proto.toLowerCase()}`);
    }
  }
  return out;
}

/** normalizeWorkdir for Linux: relative paths join the current one; the result is cleaned. */
function normalizeWorkdir(current: string, next: string): string {
  const joined = next.startsWith('/') ? next : path.posix.join('/', current, next);
  const clean = path.posix.normalize(joined);
  return clean.length > 1 ? clean.replace(/\/+$/, '') : clean;
}

function isHeredocSource(word: string, inst: Instruction): boolean {
  if (inst.heredocs.length === 0) return false;
  try {
    return parseHeredocWord(word) !== undefined;
  } catch {
    return false;
  }
}

/** Flags the legacy builder's parser rejects (not in its non-labs instruction set): the build fails before any step. */
function fatalFlag(inst: Instruction): string | undefined {
  const kw = inst.keyword.toLowerCase();
  const names = inst.flags.filter((f) => f.value !== '--').map((f) => f.name);
  const bad = kw === 'copy' || kw === 'add' ? names.find((n) => n === 'parents' || n === 'exclude')
    : kw === 'run' ? names.find((n) => n === 'security') : undefined;
  return bad === undefined ? undefined : `the legacy builder does not know ${inst.keyword.toUpperCase()} --${bad}: the build fails before it starts`;
}

/** Plans a legacy (`DOCKER_BUILDKIT=0`) build of `options.target` (default: the last stage). */
export function planLegacyBuild(ast: DockerfileAST, options: PlanOptions = {}): BuildPlan {
  const problems: string[] = [];
  const { lookup: lookupImage, refs: imageRefs } = imageLookup(options);
  const buildArgs = options.buildArgs ?? {};
  const platform = options.platform ?? options.builderPlatform ?? 'linux/amd64';
  const { metaArgs, stages: parsedStages } = splitStages(ast);
  const lex = new ShellLex(ast.escapeToken);

  const target = targetIndex(parsedStages, options.target, problems);

  // Step numbers: meta ARGs, then each stage's FROM and its instructions.
  const stepsOf = (s: Stage): number => 1 + s.commands.length;
  const totalFor = (last: number): number => metaArgs.length + parsedStages.slice(0, last + 1).reduce((n, s) => n + stepsOf(s), 0);
  const totalBuilt = totalFor(target);
  const totalAll = totalFor(parsedStages.length - 1);

  // Meta args (processMetaArg): expanded with the args so far, visible to FROM and to ARGs without a default.
  const meta = new Map<string, string | undefined>();
  const metaValue = (key: string): string | undefined =>
    Object.prototype.hasOwnProperty.call(buildArgs, key) ? buildArgs[key] : meta.get(key);
  const metaEnv = (): ShellEnv => {
    const pairs: Array<[string, string]> = [];
    for (const key of new Set([...meta.keys(), ...BUILTIN_ARGS])) {
      const v = metaValue(key);
      if (v !== undefined) pairs.push([key, v]);
    }
    return envOf(pairs);
  };
  for (const inst of metaArgs) {
    const env = metaEnv();
    for (const { key, value } of argPairs(inst)) meta.set(key, value === undefined ? undefined : tryWord(lex, value, env));
  }

  // Any flag the legacy parser rejects fails the whole build.
  let fatal: string | undefined;
  for (const s of parsedStages.slice(0, target + 1)) {
    for (const inst of s.commands) {
      fatal ??= fatalFlag(inst) ?? (inst.child === undefined ? undefined : fatalFlag(inst.child));
    }
  }
  if (fatal !== undefined) problems.push(fatal);

  const steps: PlannedStep[] = [];
  const stages: PlannedStage[] = [];
  const stageByName = new Map<string, number>();
  /** What a stage hands to a stage built FROM it: its final config (OnBuild triggers included). */
  const finalConfig = new Map<number, LegacyConfig>();
  let number = metaArgs.length;

  for (const s of parsedStages) {
    const reachable = s.index <= target;
    const total = reachable ? totalBuilt : totalAll;
    const vertexOf = (inst: Instruction): string => `Step ${++number}/${total} : ${inst.original.trim()}`;

    // The base: an earlier stage (by name only), scratch, or an image.
    const baseWord = s.base?.value ?? '';
    const baseName = tryWord(lex, baseWord, metaEnv());
    let base: StageBase;
    const byName = stageByName.get(baseName.toLowerCase());
    if (byName !== undefined) base = { kind: 'stage', index: byName };
    else if (baseName === 'scratch') base = { kind: 'scratch' };
    else {
      if (baseName === '' && reachable) problems.push(`base name (${baseWord}) should not be blank`);
      const normalized = normalizeImageRef(baseName);
      base = { kind: 'image', ref: baseName, normalized, image: lookupImage(normalized) };
    }
    const displayName = s.name ?? `stage-${s.index}`;
    const st: PlannedStage = { index: s.index, name: s.name, displayName, base, reachable, steps: [], finalKey: undefined, stage: s };
    stages.push(st);

    // The chain: the key of the image the next step is looked up under.
    let key: string | undefined;
    let unknownWhy: string | undefined = fatal;
    let config: LegacyConfig;
    const args = new LegacyArgs(buildArgs, meta);
    const expEnv = (): ShellEnv => envOf([...config.env, ...args.filterAllowed(config.env)]);
    const expand = (w: string): string => tryWord(lex, w, expEnv());

    const addStep = (kind: StepKind, inst: Instruction, vertex: string, stepKey: string | undefined, parentKey: string | undefined, why: string | undefined, inputs: StepInputs, extra: { readsStages?: number[]; selection?: ContextSelection | undefined } = {}): void => {
      const index = steps.length;
      steps.push({
        index, kind, stage: s.index, stageName: displayName, instruction: inst, vertex, ownVertex: vertex,
        key: stepKey, parentKey, unknownReason: stepKey === undefined ? why ?? 'cannot be predicted' : undefined, inputs, reachable,
        dedupOf: undefined, readsStages: extra.readsStages ?? [], selection: extra.selection, independent: false,
      });
      st.steps.push(index);
    };

    /** The cache lookup of one instruction: key from the parent's and the config it would commit. */
    const lookup = (probe: unknown, own: string | undefined): { key: string | undefined; why: string | undefined } => {
      const why = own ?? unknownWhy ?? (key === undefined ? 'depends on an earlier step that cannot be predicted' : undefined);
      if (why !== undefined) return { key: undefined, why };
      return { key: hashKey('legacy', key, probe), why: undefined };
    };

    // FROM: the base image's id (or the base stage's final image) is the root of the chain.
    let fromWhy: string | undefined;
    if (base.kind === 'stage') {
      const baseStage = stages[base.index];
      key = baseStage?.finalKey;
      config = finalConfig.get(base.index) ?? emptyConfig();
      if (key === undefined) fromWhy = `depends on stage ${baseStage?.displayName ?? base.index}, which cannot be predicted`;
    } else if (base.kind === 'scratch') {
      key = hashKey('legacy', 'scratch', platform);
      config = emptyConfig();
    } else {
      const image = base.image;
      config = {
        ...emptyConfig(),
        env: image?.env.map((e): [string, string] => [e[0], e[1]]) ?? [],
        shell: image?.shell,
        user: image?.user ?? '',
        workdir: image?.workdir ?? '',
      };
      key = hashKey('legacy', 'image', image?.id ?? base.normalized, image === undefined ? 'absent' : 'present', platform);
      if (options.pull === true) fromWhy = `--pull: ${base.ref} is resolved again at build time`;
      else if (options.imagesUnavailable !== undefined) fromWhy = `${options.imagesUnavailable} (${base.ref})`;
    }
    // setDefaultPath: PATH is added to an image's config that has none.
    if (!config.env.some(([k]) => k === 'PATH')) config = { ...config, env: [...config.env, ['PATH', DEFAULT_PATH]] };
    // The base's ONBUILD triggers run as part of the FROM step (only known for a stage of this file).
    const triggers = config.onbuild ?? [];
    if (base.kind === 'stage' && triggers.length > 0) {
      config = { ...config, onbuild: undefined };
      for (const trigger of triggers) {
        const child = parseTrigger(trigger);
        if (child === undefined) {
          fromWhy ??= `ONBUILD ${trigger} cannot be read`;
          continue;
        }
        const r = dispatch(child);
        if (r.why !== undefined) fromWhy ??= r.why;
        key = fromWhy === undefined ? r.key : undefined;
      }
    }
    if (fromWhy !== undefined) unknownWhy ??= fromWhy;
    const fromKey = unknownWhy === undefined ? key : undefined;
    addStep('from', s.from, vertexOf(s.from), fromKey, undefined, unknownWhy, {
      text: s.from.original.trim(),
      ...(base.kind === 'image' ? { base: base.image === undefined ? base.normalized : `${base.normalized} (${base.image.id})` } : {}),
      platform,
    });
    key = fromKey;

    for (const inst of s.commands) {
      const r = dispatch(inst);
      addStep(r.kind, inst, vertexOf(inst), r.key, r.parentKey, r.why, r.inputs, { readsStages: r.readsStages, selection: r.selection });
    }
    st.finalKey = unknownWhy === undefined ? key : undefined;
    finalConfig.set(s.index, config);
    if (s.name !== undefined) stageByName.set(s.name, s.index);

    /**
     * One instruction as the legacy dispatcher runs it: updates the config and the chain, returns
     * the step's key. Once a step cannot be predicted, neither can any later one of the stage.
     */
    function dispatch(inst: Instruction): {
      kind: StepKind; key: string | undefined; parentKey: string | undefined; why: string | undefined;
      inputs: StepInputs; readsStages: number[]; selection: ContextSelection | undefined;
    } {
      const kw = inst.keyword.toLowerCase();
      const parentKey = key;
      const text = inst.original.trim();
      let kind: StepKind = 'workdir';
      let inputs: StepInputs = { text, workdir: config.workdir, user: config.user };
      let own: string | undefined;
      let comment: unknown;
      let runCmd: string[] | undefined;
      const readsStages: number[] = [];
      let selection: ContextSelection | undefined;
      const shell = config.shell ?? DEFAULT_SHELL;

      switch (kw) {
        case 'env': {
          const pairs = kvTriples(inst).map(([k, v]): [string, string] => [expand(k), expand(v)]);
          for (const [k, v] of pairs) config = { ...config, env: setPair(config.env, k, v) };
          comment = ['ENV', pairs];
          inputs = { ...inputs, env: config.env };
          break;
        }
        case 'label': {
          const pairs = kvTriples(inst).map(([k, v]): [string, string] => [expand(k), expand(v)]);
          let labels = config.labels ?? [];
          for (const [k, v] of pairs) labels = setPair(labels, k, v);
          config = { ...config, labels: [...labels].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)) };
          comment = ['LABEL', pairs];
          break;
        }
        case 'maintainer':
          comment = ['MAINTAINER', inst.argsText];
          break;
        case 'expose': {
          const env = expEnv();
          const ports = inst.args.flatMap((a) => tryWords(lex, a.value, env));
          config = { ...config, ports: addToSet(config.ports, portSpecs(ports)) };
          comment = ['EXPOSE', ports];
          break;
        }
        case 'user':
          config = { ...config, user: expand(inst.args[0]?.value ?? '') };
          comment = ['USER', config.user];
          inputs = { ...inputs, user: config.user };
          break;
        case 'volume': {
          const vols = inst.args.map((a) => expand(a.value));
          if (vols.some((v) => v === '')) own = 'VOLUME specified can not be an empty string: the build fails here';
          config = { ...config, volumes: addToSet(config.volumes, vols) };
          comment = ['VOLUME', vols];
          break;
        }
        case 'stopsignal':
          config = { ...config, stopSignal: expand(inst.args[0]?.value ?? '') };
          comment = ['STOPSIGNAL', config.stopSignal];
          break;
        case 'healthcheck': {
          const first = inst.args[0]?.value.toUpperCase();
          const test = first === 'NONE' ? ['NONE']
            : inst.json ? ['CMD', ...inst.args.slice(1).map((a) => a.value)] : ['CMD-SHELL', inst.args.slice(1).map((a) => a.value).join(' ')];
          const flags = inst.flags.map((f) => [f.name, f.flagValue ?? '']).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
          config = { ...config, healthcheck: { test, flags } };
          comment = ['HEALTHCHECK', config.healthcheck];
          break;
        }
        case 'shell':
          config = { ...config, shell: inst.args.map((a) => a.value) };
          comment = ['SHELL', config.shell];
          inputs = { ...inputs, shell: config.shell };
          break;
        case 'onbuild': {
          const expression = inst.original.trim().replace(/^ONBUILD\s+/i, '') + inst.heredocs.map((h) => '\n' + h.content + h.name).join('');
          config = { ...config, onbuild: [...(config.onbuild ?? []), expression] };
          comment = ['ONBUILD', expression];
          break;
        }
        case 'cmd': {
          const cmd = inst.json ? inst.args.map((a) => a.value) : [...shell, inst.args.map((a) => a.value).join(' ')];
          comment = ['CMD', cmd];
          break;
        }
        case 'entrypoint': {
          const ep = inst.json ? inst.args.map((a) => a.value) : [...shell, inst.args.map((a) => a.value).join(' ')];
          config = { ...config, entrypoint: ep };
          comment = ['ENTRYPOINT', ep];
          break;
        }
        case 'arg': {
          const words: string[] = [];
          for (const { key: k, value } of argPairs(inst)) {
            const v = value === undefined ? undefined : expand(value);
            args.declared.set(k, v);
            words.push(v === undefined ? k : `${k}=${v}`);
          }
          comment = ['ARG', words];
          break;
        }
        case 'workdir': {
          config = { ...config, workdir: normalizeWorkdir(config.workdir, expand(inst.args[0]?.value ?? '')) };
          comment = ['WORKDIR', config.workdir];
          inputs = { ...inputs, workdir: config.workdir };
          break;
        }
        case 'run': {
          kind = 'run';
          const flag = inst.flags.find((f) => f.value !== '--');
          if (flag !== undefined) own = `the legacy builder does not support RUN --${flag.name}: the build fails here`;
          // The command is not expanded; a heredoc body is not part of it (the legacy builder ignores it).
          const cmd = inst.json ? inst.args.map((a) => a.value) : [...shell, inst.args.map((a) => a.value).join(' ')];
          const { prefix, args: used } = args.runPrefix(config.env);
          runCmd = [...prefix, ...cmd];
          inputs = { ...inputs, env: [...config.env, ...args.filterAllowed(config.env)], args: used, shell };
          break;
        }
        case 'copy':
        case 'add': {
          kind = kw;
          const r = copyKey(inst, kw === 'add');
          own = r.why;
          comment = [kw.toUpperCase(), r.chown, r.source, r.dest];
          readsStages.push(...r.readsStages);
          selection = r.selection;
          inputs = {
            ...inputs,
            ...(r.selection === undefined ? {} : { filesChecksum: r.selection.checksum }),
            ...(r.from === undefined ? {} : { from: [r.from] }),
          };
          break;
        }
        default:
          own = `${inst.keyword.toUpperCase()} is not an instruction the legacy builder knows: the build fails`;
      }

      // The probe config: this step's Cmd (RUN's command, or the #(nop) comment) on the current config.
      const probe = runCmd !== undefined
        ? { cmd: runCmd, config: { ...config, entrypoint: null } }
        : { cmd: [...shell, '#(nop)', comment], config };
      const r = lookup(probe, own);
      if (own !== undefined && reachable) problems.push(`${text}: ${own}`);
      if (r.key === undefined) unknownWhy ??= r.why;
      key = r.key;
      return { kind, key: r.key, parentKey, why: r.why, inputs, readsStages, selection };
    }

    /** The `<srchash> in <dest>` part of a COPY/ADD comment, as a key. */
    function copyKey(inst: Instruction, isAdd: boolean): {
      chown: string; source: unknown; dest: string; why: string | undefined; readsStages: number[];
      selection: ContextSelection | undefined; from: [string, string] | undefined;
    } {
      const words = inst.args.map((a) => a.value);
      const dest = expand(words[words.length - 1] ?? '');
      const rawSources = words.slice(0, -1);
      const chown = expand(flagValue(inst, 'chown') ?? '');
      const out = { chown, dest, source: undefined as unknown, why: undefined as string | undefined, readsStages: [] as number[], selection: undefined as ContextSelection | undefined, from: undefined as [string, string] | undefined };
      if (flagValues(inst, 'chmod').length > 0) {
        out.why = `the legacy builder does not support ${inst.keyword.toUpperCase()} --chmod: the build fails here`;
        return out;
      }
      if (rawSources.some((w) => isHeredocSource(w, inst))) {
        out.why = `the legacy builder does not support here-documents in ${inst.keyword.toUpperCase()}: the build fails here`;
        return out;
      }
      const sources = rawSources.map((w) => expand(w));
      const from = isAdd ? undefined : flagValue(inst, 'from');
      if (from !== undefined) {
        const word = expand(from);
        const idx = /^\d+$/.test(word) ? Number(word) : stageByName.get(word.toLowerCase());
        if (idx !== undefined && idx < s.index) {
          const k = stages[idx]?.finalKey;
          out.readsStages.push(idx);
          out.from = [from, k ?? '?'];
          if (k === undefined) out.why = `depends on what stage ${stages[idx]?.displayName ?? word} produces`;
          out.source = ['stage', k ?? null, sources];
        } else {
          const normalized = normalizeImageRef(word);
          const info = lookupImage(normalized);
          out.from = [from, info?.id ?? '?'];
          if (info === undefined) out.why = `image ${word} is not in the local image store`;
          out.source = ['image', info?.id ?? null, sources];
        }
        return out;
      }
      if (sources.some(isURL)) {
        out.why = isAdd ? 'ADD of a URL: the legacy builder downloads it on every build and compares its content'
          : 'COPY cannot copy a URL: the build fails here';
        return out;
      }
      if (options.context === undefined) {
        out.why = 'the build context has not been read yet';
        return out;
      }
      // tarsum: each file's hash covers its path relative to the context, so names count.
      const perSource: Array<Array<[string, string]>> = [];
      const files = new Map<string, string>();
      const missing: string[] = [];
      for (const src of sources) {
        const sel = options.context([src], { excludes: [], parents: false });
        missing.push(...sel.missing);
        const pairs = sel.files.map((f): [string, string] => [f.path, f.hash]).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
        perSource.push(pairs);
        for (const [p, h] of pairs) files.set(p, h);
      }
      if (missing.length > 0) out.why = `${missing.join(', ')} not found in the build context: the build will fail`;
      out.source = ['context', perSource];
      out.selection = { checksum: hashKey(perSource), files: [...files].map(([p, h]) => ({ path: p, hash: h })), missing };
      return out;
    }
  }

  return { stages, steps, target, problems: [...new Set(problems)], imageRefs: [...imageRefs] };
}

function emptyConfig(): LegacyConfig {
  return {
    env: [], entrypoint: undefined, shell: undefined, ports: undefined, volumes: undefined, labels: undefined,
    onbuild: undefined, user: '', workdir: '', stopSignal: undefined, healthcheck: undefined,
  };
}

/** An ONBUILD trigger expression as the instruction it runs. */
function parseTrigger(expression: string): Instruction | undefined {
  const insts = parse(expression).instructions;
  return insts.length === 1 ? insts[0] : undefined;
}
