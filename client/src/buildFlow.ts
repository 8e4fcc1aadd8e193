/**
 * One build as the `dockerfile-cache-lens` task runs it, without `vscode`: probe Docker, ask the
 * language server to take the cache keys (PREPARE_BUILD_REQUEST), print the plan and the
 * prediction, run `docker buildx build` with its progress on the terminal, report the vertices
 * (BUILD_FINISHED_REQUEST) and print what happened: counts, the failed line, the disagreements.
 * The task's pseudoterminal and the tests drive the same code.
 */

import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildHandle, BuildOptions, BuildOutcome, DockerInfo, DockerProblem, DockerReady, ProbeOptions } from '../../server/src/build/docker';
import type { VertexResult } from '../../server/src/cache/types';
import type {
  BuildFinishedParams, BuildFinishedResult, BuildVertex, PrepareBuildParams, PrepareBuildResult,
} from '../../shared/src/protocol';

/** The task type (package.json `contributes.taskDefinitions`). */
export const TASK_TYPE = 'dockerfile-cache-lens';

/** A task of type `dockerfile-cache-lens`, as tasks.json or the task provider gives it. */
export interface BuildTaskDefinition {
  type: string;
  /** The Dockerfile: absolute, or relative to the task's workspace folder. */
  dockerfile: string;
  /** The build context, relative to the Dockerfile's folder (default: the `context` setting, `.`). */
  context?: string | undefined;
  tag?: string | undefined;
  target?: string | undefined;
  buildArgs?: Record<string, string> | undefined;
  platform?: string | undefined;
  /** buildx builder (`--builder`). */
  builder?: string | undefined;
  noCache?: boolean | undefined;
  /** Extra `docker buildx build` arguments, before the context. */
  args?: string[] | undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Checks a definition written by hand in tasks.json. Returns the definition with only the
 * properties of the right type, or a message saying what is wrong.
 */
export function checkDefinition(raw: unknown): { definition: BuildTaskDefinition } | { error: string } {
  if (!isRecord(raw)) return { error: 'the task has no definition' };
  const errors: string[] = [];
  const str = (key: string): string | undefined => {
    const v = raw[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') {
      errors.push(`"${key}" must be a string`);
      return undefined;
    }
    return v;
  };
  const dockerfile = str('dockerfile');
  if ((raw.dockerfile === undefined || raw.dockerfile === null) || dockerfile?.trim() === '') errors.push('"dockerfile" is required: the path of the Dockerfile');
  let buildArgs: Record<string, string> | undefined;
  if (raw.buildArgs !== undefined && raw.buildArgs !== null) {
    if (!isRecord(raw.buildArgs)) {
      errors.push('"buildArgs" must be an object of strings');
    } else {
      buildArgs = {};
      for (const [k, v] of Object.entries(raw.buildArgs)) {
        if (typeof v === 'string') buildArgs[k] = v;
        else if (typeof v === 'number' || typeof v === 'boolean') buildArgs[k] = String(v);
        else errors.push(`"buildArgs.${k}" must be a string`);
      }
    }
  }
  let args: string[] | undefined;
  if (raw.args !== undefined && raw.args !== null) {
    if (!Array.isArray(raw.args) || !raw.args.every((a): a is string => typeof a === 'string')) errors.push('"args" must be an array of strings');
    else args = raw.args;
  }
  let noCache: boolean | undefined;
  if (raw.noCache !== undefined && raw.noCache !== null) {
    if (typeof raw.noCache !== 'boolean') errors.push('"noCache" must be true or false');
    else noCache = raw.noCache;
  }
  const definition: BuildTaskDefinition = {
    type: typeof raw.type === 'string' ? raw.type : TASK_TYPE,
    dockerfile: dockerfile ?? '',
    context: str('context'),
    tag: str('tag'),
    target: str('target'),
    buildArgs,
    platform: str('platform'),
    builder: str('builder'),
    noCache,
    args,
  };
  return errors.length > 0 ? { error: errors.join('; ') } : { definition };
}

/** The language server's side of a build. */
export interface BuildServer {
  prepare(params: PrepareBuildParams): Promise<PrepareBuildResult>;
  finished(params: BuildFinishedParams): Promise<BuildFinishedResult>;
}

/** The Docker functions (server/src/build/docker.ts), passed in so a test can watch them. */
export interface DockerFunctions {
  probeDocker(env: NodeJS.ProcessEnv, options?: ProbeOptions): Promise<DockerInfo>;
  runBuild(options: BuildOptions): BuildHandle;
  /** Whether `docker` is Podman's compatible CLI or talks to Podman (default: asks `docker version`). */
  isPodman?(docker: string, env: NodeJS.ProcessEnv): Promise<boolean>;
}

/** What to build. */
export interface BuildRequest {
  /** The Dockerfile's URI, as the language server knows it. */
  uri: string;
  /** Overrides of the Dockerfile's settings (undefined: the setting). */
  context?: string | undefined;
  target?: string | undefined;
  buildArgs?: Record<string, string> | undefined;
  platform?: string | undefined;
  tag?: string | undefined;
  builder?: string | undefined;
  noCache?: boolean | undefined;
  args?: readonly string[] | undefined;
}

export interface BuildFlowOptions {
  server: BuildServer;
  /** Terminal text, lines ending in `\n`. */
  write: (text: string) => void;
  docker: DockerFunctions;
  /** The environment docker runs with (DOCKER_HOST, DOCKER_CONTEXT, BUILDX_BUILDER...). */
  env: NodeJS.ProcessEnv;
  request: BuildRequest;
  /** Every vertex update of the running build. */
  onVertex?: ((v: VertexResult) => void) | undefined;
  /** After cancel(), SIGTERM then SIGKILL after this long. */
  killGraceMs?: number | undefined;
  /** How long the Docker check may take before the terminal says what it waits for (default 3 s). */
  slowNoticeMs?: number | undefined;
}

/** The whole Docker check before a build gives up after this long, with a message saying why. */
export const PROBE_DEADLINE_MS = 20_000;

export type BuildFlowStatus = 'succeeded' | 'failed' | 'cancelled' | 'unavailable' | 'error';

export interface BuildFlowResult {
  status: BuildFlowStatus;
  /** For the task: 0 when built. */
  exitCode: number;
  /** Docker cannot build (no CLI, no daemon, no buildx for a BuildKit build): one message to act on. */
  problem?: DockerProblem | undefined;
  /** Something else went wrong (the language server did not answer...). */
  error?: string | undefined;
  docker?: DockerReady | undefined;
  /** The build ran on Podman: not predicted, not recorded. */
  podman: boolean;
  prepared?: PrepareBuildResult | undefined;
  /** The docker command line. */
  command?: readonly string[] | undefined;
  outcome?: BuildOutcome | undefined;
  /** What was reported to the server. */
  vertices: BuildVertex[];
  finished?: BuildFinishedResult | undefined;
  /** --no-cache (or such an argument): predictions were not compared with what happened. */
  comparisonSkipped: boolean;
}

export interface BuildFlow {
  /** Stops the build (kills docker and what it started); the result then says `cancelled`. */
  cancel(): void;
  readonly result: Promise<BuildFlowResult>;
}

export const EXIT_CANCELLED = 130;
export const EXIT_DOCKER = 4;
export const EXIT_ERROR = 1;

const ICON: Record<string, string> = { hit: '✓', miss: '↻', unknown: '?', skipped: '–' };

const ACTUAL: Record<string, string> = {
  cached: 'BuildKit used the cache',
  built: 'BuildKit ran it',
  failed: 'it failed',
  'not-run': 'it did not run',
};

export function describeActual(actual: string): string {
  return ACTUAL[actual] ?? actual;
}

export function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return '';
  const s = ms / 1000;
  if (s < 0.1) return '<0.1 s';
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 90) return `${Math.round(s)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/** A command line a person can copy into a shell. */
export function shellQuote(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`)).join(' ');
}

/** Asks `docker version` whether this is Podman (its docker CLI, or the Docker CLI talking to Podman's API). */
export function dockerIsPodman(docker: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(docker, ['version'], { env, timeout: 10_000, windowsHide: true }, (_err, stdout, stderr) => {
      resolve(/podman/i.test(`${String(stdout)}\n${String(stderr)}`));
    });
  });
}

function toBuildVertex(v: VertexResult): BuildVertex {
  return {
    name: v.name, digest: v.digest, cached: v.cached, durationMs: v.durationMs, started: v.started,
    completed: v.completed, error: v.error, logTail: [...v.logTail],
  };
}

/** Arguments that make BuildKit ignore (part of) its cache: the prediction cannot be compared. */
function ignoresCache(request: BuildRequest): boolean {
  if (request.noCache === true) return true;
  return (request.args ?? []).some((a) => a === '--no-cache' || a.startsWith('--no-cache=') || a.startsWith('--no-cache-filter'));
}

function writePlan(write: (t: string) => void, prepared: PrepareBuildResult, docker: DockerReady, request: BuildRequest): void {
  const { plan } = prepared;
  const args = Object.entries(plan.buildArgs);
  write(`Dockerfile  ${plan.dockerfile}\n`);
  write(`Context     ${plan.context}\n`);
  write(`Target      ${plan.target ?? '(the last stage)'}\n`);
  if (args.length > 0) write(`Build args  ${args.map(([k, v]) => `${k}=${v}`).join(' ')}\n`);
  if (plan.platform !== undefined) write(`Platform    ${plan.platform}\n`);
  if (request.tag !== undefined && request.tag !== '') write(`Tag         ${request.tag}\n`);
  const builder = request.builder !== undefined && request.builder !== '' ? request.builder : docker.builderName;
  write(`Engine      ${plan.engine === 'legacy' ? 'legacy builder' : 'BuildKit'} · Docker ${docker.serverVersion} at ${docker.endpoint}`
    + `${plan.engine === 'buildkit' ? ` · builder ${builder} (${docker.builderDriver})` : ''}\n`);
  for (const p of prepared.problems) write(`Note: ${p}\n`);
  write('\nPredicted:\n');
  for (const s of prepared.steps) {
    write(`  ${ICON[s.prediction] ?? ' '} ${s.vertex}${s.prediction === 'hit' ? '' : `  — ${s.reason}`}\n`);
  }
  const count = (p: string): number => prepared.steps.filter((s) => s.prediction === p).length;
  const counted = prepared.steps.filter((s) => s.prediction !== 'skipped').length;
  write(`  ${count('hit')} of ${counted} steps cached, ${count('miss')} will run${count('unknown') > 0 ? `, ${count('unknown')} unknown` : ''}\n\n`);
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Starts a build; `result` never rejects. */
export function startBuildFlow(options: BuildFlowOptions): BuildFlow {
  const { server, write, docker, env, request } = options;
  let cancelled = false;
  let handle: BuildHandle | undefined;

  const run = async (): Promise<BuildFlowResult> => {
    const base: BuildFlowResult = { status: 'error', exitCode: EXIT_ERROR, podman: false, vertices: [], comparisonSkipped: ignoresCache(request) };
    const cancelledNow = (): BuildFlowResult => {
      write('Build cancelled.\n');
      return { ...base, status: 'cancelled', exitCode: EXIT_CANCELLED };
    };
    const builder = request.builder !== undefined && request.builder !== '' ? request.builder : undefined;

    write('Checking Docker…\n');
    // A slow engine: after a moment, say what the check waits for (it gives up by itself).
    let waitingFor = 'the docker CLI';
    const slowTimer = setTimeout(() => {
      write(`Still checking Docker: waiting for ${waitingFor} (gives up after ${Math.round(PROBE_DEADLINE_MS / 1000)} s)…\n`);
    }, options.slowNoticeMs ?? 3_000);
    const info = await docker.probeDocker(env, {
      ...(builder === undefined ? {} : { builder }), deadlineMs: PROBE_DEADLINE_MS, onWait: (what) => { waitingFor = what; },
    }).finally(() => { clearTimeout(slowTimer); });
    if (cancelled) return cancelledNow();
    if (!info.ok) {
      write(`\n${info.problem.message}\n${info.problem.detail === undefined ? '' : `  ${info.problem.detail.split('\n').join('\n  ')}\n`}`);
      return { ...base, status: 'unavailable', exitCode: EXIT_DOCKER, problem: info.problem };
    }
    base.docker = info;
    base.podman = await (docker.isPodman ?? dockerIsPodman)(info.docker, env);
    if (cancelled) return cancelledNow();

    let prepared: PrepareBuildResult | undefined;
    let engine: 'buildkit' | 'legacy';
    let target = request.target;
    let buildArgs = request.buildArgs;
    let platform = request.platform;
    let dockerfile: string;
    let context: string;
    if (base.podman) {
      // Buildah keeps its own layer cache: the BuildKit prediction says nothing about it.
      write('This docker is Podman: its builds (Buildah) have their own layer cache, which Dockerfile Cache Lens does not predict.'
        + ' The build runs as `docker build`; it is not recorded and the lenses do not change.\n');
      dockerfile = fileURLToPath(request.uri);
      context = path.resolve(path.dirname(dockerfile), request.context ?? '.');
      engine = 'legacy';
    } else {
      try {
        prepared = await server.prepare({ uri: request.uri, target: request.target, buildArgs: request.buildArgs, platform: request.platform, context: request.context });
      } catch (e) {
        write(`\nThe language server could not prepare the build: ${errorText(e)}\n`);
        return { ...base, error: errorText(e) };
      }
      base.prepared = prepared;
      writePlan(write, prepared, info, request);
      engine = prepared.plan.engine;
      if (engine === 'buildkit' && info.buildxVersion === undefined) {
        // docker would fall back to the legacy builder, whose steps and cache are not the predicted ones.
        const problem: DockerProblem = {
          kind: 'no-buildx',
          message: 'docker buildx is not installed, so this Docker cannot build with BuildKit. Install the buildx plugin, or set "Dockerfile Cache Lens: Engine" to legacy to build and predict with the legacy builder.',
          detail: info.notes.find((n) => n.kind === 'no-buildx')?.detail,
        };
        write(`${problem.message}\n`);
        return { ...base, status: 'unavailable', exitCode: EXIT_DOCKER, problem };
      }
      ({ target, buildArgs, platform, dockerfile, context } = prepared.plan);
      if (cancelled) return cancelledNow();
    }

    const h = docker.runBuild({
      dockerfile, context, target, buildArgs, platform, builder, engine,
      noCache: request.noCache, tag: request.tag, extraArgs: request.args,
      buildx: info.buildxVersion !== undefined, env, docker: info.docker, killGraceMs: options.killGraceMs,
    });
    handle = h;
    base.command = h.command;
    write(`$ ${shellQuote(h.command)}\n`);
    h.onOutput((text) => { write(text); });
    if (options.onVertex !== undefined) h.onVertex(options.onVertex);
    // A cancel that came while docker was being started.
    if (cancelled) h.cancel();
    const outcome = await h.result;
    base.outcome = outcome;
    base.vertices = outcome.vertices.map(toBuildVertex);
    for (const n of outcome.notes) write(`Note: ${n}\n`);

    const status: BuildFlowStatus = outcome.success ? 'succeeded' : outcome.cancelled ? 'cancelled' : 'failed';
    const exitCode = outcome.success ? 0 : outcome.cancelled ? EXIT_CANCELLED : outcome.exitCode !== null && outcome.exitCode !== 0 ? outcome.exitCode : EXIT_ERROR;
    const result: BuildFlowResult = { ...base, status, exitCode };

    if (prepared !== undefined) {
      try {
        result.finished = await server.finished({
          buildId: prepared.buildId, success: outcome.success, cancelled: outcome.cancelled,
          durationMs: outcome.durationMs, vertices: base.vertices, errorMessage: outcome.errorMessage,
        });
      } catch (e) {
        result.error = `The language server could not record the build: ${errorText(e)}`;
        write(`\n${result.error}\n`);
      }
    }
    writeResult(write, result, dockerfile);
    return result;
  };

  const result = run().catch((e: unknown): BuildFlowResult => {
    write(`\nThe build could not run: ${errorText(e)}\n`);
    return { status: 'error', exitCode: EXIT_ERROR, error: errorText(e), podman: false, vertices: [], comparisonSkipped: false };
  });
  return {
    cancel(): void {
      if (cancelled) return;
      cancelled = true;
      handle?.cancel();
    },
    result,
  };
}

function writeResult(write: (t: string) => void, r: BuildFlowResult, dockerfile: string): void {
  const outcome = r.outcome;
  if (outcome === undefined) return;
  const f = r.finished;
  const what = r.status === 'succeeded' ? 'Built' : r.status === 'cancelled' ? 'Cancelled' : 'Failed';
  const counts = f !== undefined ? `: ${f.cached} step(s) cached, ${f.built} run` : '';
  write(`\n${what}${counts} in ${formatDuration(outcome.durationMs)}\n`);
  if (r.status === 'failed') {
    if (f?.failure !== undefined) {
      const [first = '', ...rest] = f.failure.message.split('\n');
      write(`${dockerfile}:${f.failure.line}: error: ${first}\n`);
      for (const l of rest) write(`    ${l}\n`);
    } else {
      write(`error: ${outcome.errorMessage ?? `docker exited with ${outcome.exitCode ?? 'a signal'}`}\n`);
    }
  }
  if (r.status === 'cancelled') write('Steps that completed were recorded; earlier builds are kept.\n');
  if (f === undefined) return;
  if (r.comparisonSkipped) {
    write('Predictions were not compared: the build ignored the cache (--no-cache).\n');
  } else if (f.disagreements.length === 0) {
    if (r.status === 'succeeded') write('Every step went as predicted.\n');
  } else {
    write(`${f.disagreements.length} step(s) differed from the prediction:\n`);
    for (const d of f.disagreements) write(`  ${d.vertex}: predicted ${d.predicted} (${d.reason}), but ${describeActual(d.actual)}\n`);
  }
}
