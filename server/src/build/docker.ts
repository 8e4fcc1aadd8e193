/**
 * Running Docker: what the machine has (`probeDocker`) and a build with its progress read as it
 * happens (`runBuild`). Everything goes through the `docker` CLI with the caller's environment
 * (DOCKER_HOST, DOCKER_CONTEXT, DOCKER_CONFIG, BUILDX_BUILDER ...), so a remote engine behaves like
 * a local one. No `vscode` here: the extension and the CLI share it.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { VertexResult } from '../cache/types';
import { Emitter, LegacyProgressParser, RawJsonProgressParser, type Disposable, type LogInfo } from './progress';

// ------------------------------------------------------------------------------------------------
// Processes
// ------------------------------------------------------------------------------------------------

interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** Spawn failure (e.g. ENOENT). */
  error: NodeJS.ErrnoException | undefined;
}

const isWindows = process.platform === 'win32';

/** Kills a process and everything it started (docker runs its plugins as child processes). */
function killTree(child: ChildProcess, signal: NodeJS.Signals): void {
  const pid = child.pid;
  if (pid === undefined) return;
  if (isWindows) {
    // No process groups: taskkill walks the tree.
    const killer = spawn('taskkill', ['/pid', String(pid), '/T', '/F'], { stdio: 'ignore', windowsHide: true });
    killer.on('error', () => { child.kill(signal); });
    return;
  }
  try {
    process.kill(-pid, signal); // the group: spawned `detached`, so its id is the child's pid
  } catch {
    // Already gone.
  }
}

function execDocker(docker: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<ExecResult> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let spawnError: NodeJS.ErrnoException | undefined;
    let child: ChildProcess;
    try {
      child = spawn(docker, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: !isWindows, windowsHide: true });
    } catch (err) {
      resolve({ code: null, stdout, stderr, timedOut, error: err as NodeJS.ErrnoException });
      return;
    }
    child.stdout?.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const timer = setTimeout(() => {
      timedOut = true;
      killTree(child, 'SIGKILL');
      // Not waiting for 'close': a process outside the group (a CLI plugin run in a process
      // group of its own) may hold the pipes open for as long as it hangs.
      resolve({ code: null, stdout, stderr, timedOut, error: spawnError });
    }, timeoutMs);
    child.on('error', (err) => { spawnError = err; });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut, error: spawnError });
    });
  });
}

/** `docker` (or docker.exe ...) on PATH, as the OS would find it; undefined when absent. */
export function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string | undefined {
  const win = platform === 'win32';
  const pathVar = win ? (env.Path ?? env.PATH ?? env.path) : env.PATH;
  if (pathVar === undefined || pathVar === '') return undefined;
  const exts = win ? (env.PATHEXT ?? '.COM;.EXE;.BAT;.CMD').split(';').filter((e) => e !== '') : [''];
  for (const dir of pathVar.split(win ? ';' : ':')) {
    if (dir === '') continue;
    for (const ext of exts) {
      const candidate = (win ? path.win32 : path.posix).join(dir, name + ext);
      try {
        const st = fs.statSync(candidate);
        if (!st.isFile()) continue;
        if (!win) fs.accessSync(candidate, fs.constants.X_OK);
        return candidate;
      } catch {
        // Not here.
      }
    }
  }
  return undefined;
}

// ------------------------------------------------------------------------------------------------
// probeDocker
// ------------------------------------------------------------------------------------------------

export type DockerProblemKind = 'no-docker' | 'daemon-unreachable' | 'no-buildx';

export interface DockerProblem {
  kind: DockerProblemKind;
  /** One or two sentences a person can act on. */
  message: string;
  /** The CLI's own words, when it said something. */
  detail: string | undefined;
}

export type ImageStore = 'classic' | 'containerd' | 'unknown';

export interface DockerReady {
  ok: true;
  /** Absolute path of the `docker` CLI. */
  docker: string;
  clientVersion: string;
  serverVersion: string;
  /** `docker buildx version` (first line); undefined when the plugin is missing. */
  buildxVersion: string | undefined;
  /** The engine builds will use: BuildKit through buildx, or the legacy builder without it. */
  engine: 'buildkit' | 'legacy';
  /** The docker context in use (`default` when DOCKER_HOST decides). */
  context: string | undefined;
  /** Where the daemon is: DOCKER_HOST, else the context's docker endpoint. */
  endpoint: string;
  builderName: string;
  /** buildx driver: `docker`, `docker-container`, `kubernetes`, `remote`. */
  builderDriver: string;
  /** Identity of the build cache (BuildConfig.builder): endpoint + builder + driver. */
  builder: string;
  /** The daemon's ID (`docker info`), for display and diagnostics. */
  daemonId: string | undefined;
  storageDriver: string | undefined;
  imageStore: ImageStore;
  /** Whether `COPY --link` gets a merge op (cache independent of the layers below it). */
  mergeOps: boolean;
  /** Whether FROM vertices are named with the digest the image store resolved (`FROM ref@sha256:…`). */
  baseNamesPinned: boolean;
  /** Things that work but not as well as they could (`no-buildx`). */
  notes: DockerProblem[];
}

export interface DockerUnavailable {
  ok: false;
  problem: DockerProblem & { kind: 'no-docker' | 'daemon-unreachable' };
  docker: string | undefined;
  clientVersion: string | undefined;
  context: string | undefined;
  endpoint: string | undefined;
}

export type DockerInfo = DockerReady | DockerUnavailable;

export interface ProbeOptions {
  /** buildx builder to inspect (`--builder`); default: BUILDX_BUILDER or the current one. */
  builder?: string | undefined;
  /** Per command (default 10 s): an unreachable tcp host can hang. */
  timeoutMs?: number;
  /**
   * The whole probe (default 20 s): its two rounds of commands share it, so that a slow engine
   * costs one bounded wait, not one per command.
   */
  deadlineMs?: number;
  /** Told what the probe waits for, as each round of commands starts (`docker version at …`). */
  onWait?: (what: string) => void;
}

function firstLine(text: string): string {
  return text.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? '';
}

/** The CLI's message without noise, for `detail`. */
function cliMessage(r: ExecResult): string | undefined {
  const text = (r.stderr.trim() !== '' ? r.stderr : r.stdout).trim();
  return text === '' ? undefined : text;
}

/** `docker buildx inspect` text: the builder's `Name:` and `Driver:` (first occurrences: the builder, not a node). */
export function parseBuildxInspect(text: string): { name: string | undefined; driver: string | undefined; error: string | undefined } {
  const field = (key: string): string | undefined => {
    const m = new RegExp(`^${key}:[ \\t]*(.*)$`, 'm').exec(text);
    const v = m?.[1]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  return { name: field('Name'), driver: field('Driver'), error: field('Error') };
}

/** From `docker info --format '{{json .}}'`: storage driver and whether the containerd image store is used. */
export function parseDockerInfo(json: string): { id: string | undefined; storageDriver: string | undefined; imageStore: ImageStore } {
  let info: unknown;
  try {
    info = JSON.parse(json);
  } catch {
    return { id: undefined, storageDriver: undefined, imageStore: 'unknown' };
  }
  if (typeof info !== 'object' || info === null) return { id: undefined, storageDriver: undefined, imageStore: 'unknown' };
  const rec = info as Record<string, unknown>;
  const storageDriver = typeof rec.Driver === 'string' && rec.Driver !== '' ? rec.Driver : undefined;
  const status = Array.isArray(rec.DriverStatus) ? (rec.DriverStatus as unknown[]) : [];
  // The containerd snapshotter reports `["driver-type", "io.containerd.snapshotter.v1"]`.
  const containerd = status.some((pair) => Array.isArray(pair) && pair.some((x) => typeof x === 'string' && x.startsWith('io.containerd.snapshotter')));
  return {
    id: typeof rec.ID === 'string' && rec.ID !== '' ? rec.ID : undefined,
    storageDriver,
    imageStore: containerd ? 'containerd' : storageDriver !== undefined ? 'classic' : 'unknown',
  };
}

/**
 * The cache partition: builds on the same endpoint + buildx builder share one BuildKit cache. The
 * docker driver's BuildKit keeps its cache with the image store, so switching the daemon to the
 * containerd store starts another cache (the classic store keeps the identity it always had).
 */
export function builderIdentity(endpoint: string, builderName: string, driver: string, imageStore: ImageStore = 'classic'): string {
  const store = driver === 'docker' && imageStore === 'containerd' ? '|store=containerd' : '';
  return `${endpoint}|builder=${builderName}|driver=${driver}${store}`;
}

/**
 * What Docker this machine (and environment) offers. Never throws: the problems a person can fix
 * come back as `ok: false` with a message.
 */
export async function probeDocker(env: NodeJS.ProcessEnv = process.env, options: ProbeOptions = {}): Promise<DockerInfo> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const deadline = Date.now() + (options.deadlineMs ?? 20_000);
  const docker = findOnPath('docker', env);
  if (docker === undefined) {
    return {
      ok: false,
      problem: { kind: 'no-docker', message: 'Docker CLI not found on PATH: install Docker or set PATH.', detail: undefined },
      docker: undefined,
      clientVersion: undefined,
      context: undefined,
      endpoint: undefined,
    };
  }
  const run = (args: string[]): Promise<ExecResult> => execDocker(docker, args, env, Math.max(1, Math.min(timeoutMs, deadline - Date.now())));
  const hostNow = env.DOCKER_HOST !== undefined && env.DOCKER_HOST !== '' ? ` at DOCKER_HOST=${env.DOCKER_HOST}` : '';
  options.onWait?.(`\`docker version\`${hostNow}`);
  const [version, contextResult] = await Promise.all([
    run(['version', '--format', '{{.Client.Version}}|{{.Server.Version}}']),
    run(['context', 'inspect', '--format', '{{.Name}}|{{.Endpoints.docker.Host}}']),
  ]);
  const [ctxName, ctxHost] = contextResult.code === 0 ? firstLine(contextResult.stdout).split('|') : [];
  const context = ctxName !== undefined && ctxName !== '' ? ctxName : undefined;
  const dockerHost = env.DOCKER_HOST !== undefined && env.DOCKER_HOST !== '' ? env.DOCKER_HOST : undefined;
  const endpoint = dockerHost ?? (ctxHost !== undefined && ctxHost !== '' ? ctxHost : undefined);
  const [clientVersion = '', serverVersion = ''] = firstLine(version.stdout).split('|');

  if (version.error !== undefined) {
    return {
      ok: false,
      problem: { kind: 'no-docker', message: `Docker CLI at ${docker} could not be run (${version.error.code ?? version.error.message}): install Docker or set PATH.`, detail: version.error.message },
      docker, clientVersion: undefined, context, endpoint,
    };
  }
  if (version.code !== 0 || serverVersion === '' || version.timedOut) {
    const where = dockerHost !== undefined ? `DOCKER_HOST=${dockerHost}` : `docker context "${context ?? 'default'}"${endpoint !== undefined ? ` (${endpoint})` : ''}`;
    const detail = version.timedOut ? `no answer within ${Math.max(1, Math.round(timeoutMs / 1000))} s` : cliMessage(version) ?? contextResult.stderr.trim();
    return {
      ok: false,
      problem: {
        kind: 'daemon-unreachable',
        message: `The Docker daemon does not answer at ${where}: ${/[.?!]$/.test(detail) ? detail : detail + '.'} Start Docker, or point DOCKER_HOST / the docker context at a running engine.`,
        detail,
      },
      docker, clientVersion: clientVersion === '' ? undefined : clientVersion, context, endpoint,
    };
  }

  const builderArgs = options.builder !== undefined ? ['--builder', options.builder] : [];
  options.onWait?.(`\`docker buildx inspect\` and \`docker info\` at ${endpoint ?? `context ${context ?? 'default'}`}`);
  const [buildxVersion, inspect, info] = await Promise.all([
    run(['buildx', 'version']),
    run(['buildx', 'inspect', ...builderArgs]),
    run(['info', '--format', '{{json .}}']),
  ]);
  const slow = [[buildxVersion, 'docker buildx version'], [inspect, 'docker buildx inspect'], [info, 'docker info']] as const;
  const stalled = slow.filter(([r]) => r.timedOut).map(([, what]) => `\`${what}\``);
  if (stalled.length > 0) {
    // It answered `docker version` but not these: busy or stuck, not "no buildx".
    const where = endpoint ?? `docker context "${context ?? 'default'}"`;
    const detail = `${stalled.join(', ')}: no answer within ${Math.max(1, Math.round(options.deadlineMs ?? 20_000) / 1000)} s`;
    return {
      ok: false,
      problem: { kind: 'daemon-unreachable', message: `The Docker engine at ${where} answers too slowly (${detail}). Try again when it is less busy, or check it with \`docker info\`.`, detail },
      docker, clientVersion: clientVersion === '' ? undefined : clientVersion, context, endpoint,
    };
  }
  const notes: DockerProblem[] = [];
  const hasBuildx = buildxVersion.code === 0 && !buildxVersion.timedOut;
  if (!hasBuildx) {
    notes.push({
      kind: 'no-buildx',
      message: 'docker buildx is not installed: builds fall back to the legacy builder (`DOCKER_BUILDKIT=0 docker build`; since Docker 23 `docker build` needs buildx for BuildKit), whose cache and steps differ from BuildKit\'s. Install the buildx plugin for BuildKit builds.',
      detail: cliMessage(buildxVersion),
    });
  }
  const parsed = hasBuildx && inspect.code === 0 ? parseBuildxInspect(inspect.stdout) : { name: undefined, driver: undefined, error: undefined };
  const builderName = parsed.name ?? options.builder ?? env.BUILDX_BUILDER ?? context ?? 'default';
  const builderDriver = parsed.driver ?? 'docker';
  const dinfo = info.code === 0 ? parseDockerInfo(firstLine(info.stdout)) : { id: undefined, storageDriver: undefined, imageStore: 'unknown' as const };
  const engine = hasBuildx ? 'buildkit' : 'legacy';
  // BuildKit's own workers (docker-container, kubernetes, remote) have merge ops; inside dockerd
  // only the containerd image store does (moby disables them on graphdrivers).
  const mergeOps = engine === 'buildkit' && (builderDriver !== 'docker' || dinfo.imageStore === 'containerd');
  // The containerd store resolves a local tag to its digest and BuildKit pins the FROM to it.
  const baseNamesPinned = engine === 'buildkit' && builderDriver === 'docker' && dinfo.imageStore === 'containerd';
  const resolvedEndpoint = endpoint ?? `context:${context ?? 'default'}`;
  return {
    ok: true,
    docker,
    clientVersion,
    serverVersion,
    buildxVersion: hasBuildx ? firstLine(buildxVersion.stdout) : undefined,
    engine,
    context,
    endpoint: resolvedEndpoint,
    builderName,
    builderDriver,
    builder: builderIdentity(resolvedEndpoint, builderName, builderDriver, dinfo.imageStore),
    daemonId: dinfo.id,
    storageDriver: dinfo.storageDriver,
    imageStore: dinfo.imageStore,
    mergeOps,
    baseNamesPinned,
    notes,
  };
}

// ------------------------------------------------------------------------------------------------
// runBuild
// ------------------------------------------------------------------------------------------------

export interface BuildOptions {
  /** Path of the Dockerfile (`-f`). */
  dockerfile: string;
  /** The build context directory. */
  context: string;
  target?: string | undefined;
  buildArgs?: Record<string, string> | undefined;
  platform?: string | undefined;
  /** buildx builder name (`--builder`); ignored by the legacy builder. */
  builder?: string | undefined;
  noCache?: boolean | undefined;
  tag?: string | undefined;
  /** Added before the context argument, as given. */
  extraArgs?: readonly string[] | undefined;
  /** Default `buildkit`. */
  engine?: 'buildkit' | 'legacy' | undefined;
  /** False when the probe found no buildx: BuildKit builds then fall back to the legacy builder. */
  buildx?: boolean | undefined;
  /** The whole environment of the CLI (default process.env). */
  env?: NodeJS.ProcessEnv | undefined;
  /** The docker CLI (default `docker` from PATH). */
  docker?: string | undefined;
  /** After cancel(), SIGTERM then SIGKILL after this long (default 5 s). */
  killGraceMs?: number | undefined;
}

export interface BuildOutcome {
  /** null when the process ended by a signal or never started. */
  exitCode: number | null;
  success: boolean;
  cancelled: boolean;
  /** The builder that actually ran (legacy when buildx was missing). */
  engine: 'buildkit' | 'legacy';
  /** Steps in the order they ran (non-`[internal]` vertices; legacy: one per `Step i/N`). */
  vertices: VertexResult[];
  /** The step that failed (not set for a cancelled build). */
  failedVertex?: VertexResult | undefined;
  errorMessage?: string | undefined;
  durationMs: number;
  warnings: string[];
  /** What the user should know about how it ran (fallbacks, deprecations). */
  notes: string[];
  /** Output lines that were not progress (the CLI's own messages). */
  unparsed: string[];
}

export interface BuildHandle {
  /** argv, `docker` first. */
  readonly command: readonly string[];
  /** The docker CLI's process id (its process group on POSIX); undefined if it could not start. */
  readonly pid: number | undefined;
  readonly onVertex: (listener: (v: VertexResult) => void) => Disposable;
  readonly onLog: (listener: (vertexName: string, text: string, info: LogInfo) => void) => Disposable;
  /** Readable progress for a terminal or output channel (BuildKit's plain style). */
  readonly onOutput: (listener: (text: string) => void) => Disposable;
  /** Stops the build and every process it started; the outcome then says `cancelled`. */
  cancel(): void;
  readonly result: Promise<BuildOutcome>;
}

const NO_BUILDX_NOTE = 'docker buildx is not installed: built with the legacy builder (DOCKER_BUILDKIT=0), whose cache is separate from BuildKit\'s.';

/** The argv and environment a build runs with (pure; shown to the user as the command). */
export function buildCommand(options: BuildOptions): { file: string; args: string[]; env: NodeJS.ProcessEnv; engine: 'buildkit' | 'legacy'; notes: string[] } {
  const notes: string[] = [];
  let engine = options.engine ?? 'buildkit';
  if (engine === 'buildkit' && options.buildx === false) {
    engine = 'legacy';
    notes.push(NO_BUILDX_NOTE);
  }
  const args: string[] = engine === 'buildkit' ? ['buildx', 'build', '--progress=rawjson'] : ['build'];
  if (engine === 'buildkit' && options.builder !== undefined && options.builder !== '') args.push('--builder', options.builder);
  args.push('-f', options.dockerfile);
  if (options.target !== undefined && options.target !== '') args.push('--target', options.target);
  for (const [k, v] of Object.entries(options.buildArgs ?? {})) args.push('--build-arg', `${k}=${v}`);
  if (options.platform !== undefined && options.platform !== '') args.push('--platform', options.platform);
  if (options.noCache === true) args.push('--no-cache');
  if (options.tag !== undefined && options.tag !== '') args.push('-t', options.tag);
  // Legacy: a failed RUN would otherwise leave its container behind.
  if (engine === 'legacy') args.push('--force-rm');
  args.push(...(options.extraArgs ?? []));
  args.push(options.context);
  const env: NodeJS.ProcessEnv = { ...(options.env ?? process.env) };
  // The CLI 23+ reads DOCKER_BUILDKIT=0 as "legacy builder" (with a deprecation warning).
  if (engine === 'legacy') env.DOCKER_BUILDKIT = '0';
  return { file: options.docker ?? 'docker', args, env, engine, notes };
}

/** Picks the step that failed: the first error that is not a consequence of another (cancellation). */
function pickFailed(vertices: VertexResult[]): VertexResult | undefined {
  const failed = vertices.filter((v) => v.error !== undefined);
  return failed.find((v) => !/\bcontext canceled\b|^canceled$/i.test(v.error ?? '')) ?? failed[0];
}

/**
 * What buildx prints when its gRPC connection to the engine breaks (the daemon stopped, restarted
 * or became unreachable mid-build): the error of the build as a whole, not of a step.
 */
const CONNECTION_LOST = /\bcode = Unavailable\b|\bUnavailable: |error reading from server|\btransport is closing\b/i;

/** The build's error said as what happened when the engine went away (undefined: something else). */
function engineGoneMessage(raw: string, env: NodeJS.ProcessEnv): string | undefined {
  if (!CONNECTION_LOST.test(raw)) return undefined;
  const at = env.DOCKER_HOST !== undefined && env.DOCKER_HOST !== '' ? ` at ${env.DOCKER_HOST}` : '';
  return `Lost the connection to the Docker engine${at} during the build: the daemon stopped or became unreachable. Docker said: ${raw}`;
}

/** The legacy CLI's stderr without its deprecation banner. */
function splitLegacyStderr(text: string): { message: string; notes: string[] } {
  const notes: string[] = [];
  const kept: string[] = [];
  let inBanner = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('DEPRECATED:')) {
      inBanner = true;
      notes.push(line.trim());
      continue;
    }
    if (inBanner && /^\s+\S/.test(line)) {
      notes[notes.length - 1] += ' ' + line.trim();
      continue;
    }
    inBanner = false;
    if (line.trim() !== '') kept.push(line.trimEnd());
  }
  return { message: kept.join('\n'), notes };
}

/**
 * Starts a build. Progress comes through the events as it happens; `result` always resolves
 * (never rejects), also when docker cannot be started.
 */
export function runBuild(options: BuildOptions): BuildHandle {
  const { file, args, env, engine, notes } = buildCommand(options);
  const vertexEmitter = new Emitter<[VertexResult]>();
  const logEmitter = new Emitter<[string, string, LogInfo]>();
  const outputEmitter = new Emitter<[string]>();
  const started = performance.now();
  let cancelled = false;
  let finished = false;
  let child: ChildProcess | undefined;
  let killTimer: NodeJS.Timeout | undefined;

  const parser = engine === 'buildkit' ? new RawJsonProgressParser() : new LegacyProgressParser();
  // BuildKit-style numbering for the readable output.
  const numbers = new Map<string, number>();
  const shown = new Map<string, string>();
  const numberOf = (key: string): number => {
    let n = numbers.get(key);
    if (n === undefined) {
      n = numbers.size + 1;
      numbers.set(key, n);
    }
    return n;
  };
  parser.onVertex((v) => {
    vertexEmitter.fire(v);
    // Legacy steps change their digest to the image id once done: number them by name.
    const key = engine === 'legacy' ? v.name : v.digest;
    const state = v.error !== undefined ? 'error' : v.completed ? (v.cached ? 'cached' : 'done') : v.started ? 'started' : 'new';
    if (state === 'new' || shown.get(key) === state) return;
    // Numbered when first started (BuildKit announces steps last-first).
    const n = numberOf(key);
    const previous = shown.get(key);
    shown.set(key, state);
    let text = previous === undefined ? `#${n} ${v.name}\n` : '';
    if (state === 'cached') text += `#${n} CACHED\n`;
    else if (state === 'done') text += `#${n} DONE ${((v.durationMs ?? 0) / 1000).toFixed(1)}s\n`;
    else if (state === 'error') text += `#${n} ERROR: ${v.error ?? ''}\n`;
    if (text !== '') outputEmitter.fire(text);
  });
  parser.onLog((name, text, info) => {
    logEmitter.fire(name, text, info);
    const n = numberOf(engine === 'legacy' ? name : info.digest);
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    outputEmitter.fire(lines.map((l) => `#${n} ${l}\n`).join(''));
  });
  parser.onText((line) => { outputEmitter.fire(line + '\n'); });
  parser.onWarning((w) => { outputEmitter.fire(`WARNING: ${w}\n`); });

  const result = new Promise<BuildOutcome>((resolve) => {
    let stderrText = '';
    let spawnError: NodeJS.ErrnoException | undefined;
    const finish = (exitCode: number | null): void => {
      if (finished) return;
      finished = true;
      if (killTimer !== undefined) clearTimeout(killTimer);
      parser.end();
      const outcomeNotes = [...notes];
      let errorMessage: string | undefined;
      if (engine === 'legacy') {
        const split = splitLegacyStderr(stderrText);
        outcomeNotes.push(...split.notes);
        if (exitCode !== 0 && split.message !== '') errorMessage = split.message;
        if (exitCode !== 0 && !cancelled) (parser as LegacyProgressParser).fail(errorMessage ?? `docker build exited with code ${exitCode ?? 'null'}`);
      }
      const vertices = parser.results();
      const success = exitCode === 0 && !cancelled && spawnError === undefined;
      const failedVertex = success || cancelled ? undefined : pickFailed(vertices);
      if (engine === 'buildkit') {
        const errors = parser.unparsed.filter((l) => l.startsWith('ERROR:')).map((l) => l.slice('ERROR:'.length).trim());
        if (errors.length > 0) errorMessage = errors.join('\n');
      }
      if (spawnError !== undefined) {
        errorMessage = spawnError.code === 'ENOENT'
          ? `Docker CLI not found (${file}): install Docker or set PATH.`
          : `Could not run ${file}: ${spawnError.message}`;
      }
      if (!success && errorMessage === undefined) {
        errorMessage = cancelled ? 'Build cancelled.'
          : failedVertex?.error ?? (parser.unparsed.slice(-5).join('\n') || `docker exited with code ${exitCode ?? 'null'}`);
      }
      // No step failed, the engine went away under the build: say so, not only in gRPC's words.
      if (engine === 'buildkit' && !success && !cancelled && spawnError === undefined && errorMessage !== undefined && failedVertex?.error === undefined) {
        errorMessage = engineGoneMessage(errorMessage, env) ?? errorMessage;
      }
      if (cancelled) errorMessage = 'Build cancelled.';
      resolve({
        exitCode,
        success,
        cancelled,
        engine,
        vertices,
        failedVertex,
        errorMessage: success ? undefined : errorMessage,
        durationMs: Math.round(performance.now() - started),
        warnings: [...parser.warnings],
        notes: outcomeNotes,
        unparsed: [...parser.unparsed],
      });
    };

    try {
      // detached: its own process group, so cancel() reaches the buildx plugin too.
      child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: !isWindows, windowsHide: true });
    } catch (err) {
      spawnError = err as NodeJS.ErrnoException;
      // Let the caller subscribe before anything is reported.
      setImmediate(() => { finish(null); });
      return;
    }
    const proc = child;
    proc.stdout?.setEncoding('utf8').on('data', (d: string) => {
      if (engine === 'legacy') parser.feed(d);
      else outputEmitter.fire(d); // rawjson goes to stderr; stdout only has what the user asked for (--print ...)
    });
    proc.stderr?.setEncoding('utf8').on('data', (d: string) => {
      if (engine === 'buildkit') {
        parser.feed(d);
      } else {
        stderrText += d;
        outputEmitter.fire(d);
      }
    });
    proc.on('error', (err) => {
      spawnError = err;
      // 'close' may not follow a failed spawn.
      setImmediate(() => { finish(null); });
    });
    proc.on('close', (code) => {
      if (cancelled) killTree(proc, 'SIGKILL'); // nothing of the tree may outlive a cancel
      finish(code);
    });
  });

  return {
    command: [file, ...args],
    get pid() { return child?.pid; },
    onVertex: vertexEmitter.event,
    onLog: logEmitter.event,
    onOutput: outputEmitter.event,
    cancel(): void {
      if (finished || cancelled) return;
      cancelled = true;
      const proc = child;
      if (proc === undefined) return;
      killTree(proc, 'SIGTERM');
      killTimer = setTimeout(() => { killTree(proc, 'SIGKILL'); }, options.killGraceMs ?? 5000);
      killTimer.unref();
    },
    result,
  };
}
