/**
 * The differential harness: runs the CLI's `predict` and `build` against the private BuildKit engine
 * (`scripts/engine.sh`) for every scenario of `test/engine/scenarios.ts`, and compares each
 * predicted step with what BuildKit did, vertex by vertex.
 *
 * The suite runs on a matrix of engines (`ENGINES`, profiles of `scripts/engine.sh`): per engine
 * one manifest dir for the whole run, and BuildKit's cache pruned at the start, so the tool's
 * knowledge and BuildKit's cache start equal and stay shared across that engine's scenarios.
 */

import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Edit, EditKind, Scenario, Workspace } from '../engine/scenarios';
import type { ImpactCheck } from './impactCheck';

export const REPO = path.join(__dirname, '..', '..');
export const CLI = path.join(REPO, 'dist', 'cli.js');
export const ENGINE_SH = path.join(REPO, 'scripts', 'engine.sh');
export const REPORT_PATH = path.join(REPO, 'test-output', 'accuracy.json');

export type Prediction = 'hit' | 'miss' | 'unknown' | 'skipped';
export type Actual = 'hit' | 'miss';

/** How one step (or one BuildKit vertex) came out of the comparison. */
export type Outcome =
  | 'agreed'
  | 'false-hit' // predicted hit, BuildKit rebuilt: the worst
  | 'false-miss'
  | 'unknown' // predicted unknown: not an error
  | 'base-image' // FROM: not compared (classic image store: cached flag meaningless; merged names); actual undefined when shown under another name
  | 'skipped' // predicted skipped and BuildKit did not run it
  | 'skipped-but-run' // predicted skipped, BuildKit ran a vertex of that name
  | 'not-printed' // predicted (reachable), BuildKit printed no vertex of that name
  | 'not-predicted' // BuildKit printed a step vertex the prediction does not name
  | 'not-built' // predict-only edit: nothing to compare with
  | 'expected' // an edit's expectation held
  | 'unexpected'; // an edit's expectation failed

export const DISAGREEMENTS: readonly Outcome[] = ['false-hit', 'false-miss', 'skipped-but-run', 'not-printed', 'not-predicted', 'unexpected'];
export const NAME_MISMATCHES: readonly Outcome[] = ['skipped-but-run', 'not-printed', 'not-predicted'];

export interface StepRow {
  vertex: string;
  stage: string | undefined;
  line: number | undefined;
  instruction: string | undefined;
  prediction: Prediction | undefined;
  reason: string | undefined;
  actual: Actual | undefined;
  outcome: Outcome;
}

export interface EditResult {
  scenario: string;
  /** 0 = the scenario's first build. */
  index: number;
  edit: string;
  kinds: EditKind[];
  predictOnly: boolean;
  buildArgs: Record<string, string>;
  target: string | undefined;
  /** Wall time of predict + build. */
  durationMs: number;
  buildSuccess: boolean | undefined;
  /** The harness or the CLI failed (no comparison possible). */
  error: string | undefined;
  rows: StepRow[];
  /** Non-step vertices BuildKit printed (exporting to image, ...) and unpredicted FROM vertices: not compared. */
  otherVertices: string[];
}

export interface EngineInfo {
  dockerClient: string;
  dockerServer: string;
  apiVersion: string;
  buildx: string;
  builder: string;
  driver: string;
  buildkit: string;
  storageDriver: string;
  imageStore: 'classic' | 'containerd';
  os: string;
}

/** One engine of the matrix: a profile of scripts/engine.sh. */
export interface EngineProfile {
  /** Column label: Docker version and image store. */
  label: string;
  /** `scripts/engine.sh start PROFILE`. */
  profile: string;
}

/** The matrix the suite runs on (DCL_DIFF_ENGINES=28,28-containerd picks some of them). */
export const ENGINES: readonly EngineProfile[] = [
  { label: 'Docker 26.1, classic store', profile: '26' },
  { label: 'Docker 28.5, classic store', profile: '28' },
  { label: 'Docker 28.5, containerd store', profile: '28-containerd' },
];

export function selectedEngines(spec = process.env.DCL_DIFF_ENGINES): EngineProfile[] {
  if (spec === undefined || spec.trim() === '') return [...ENGINES];
  const wanted = spec.split(',').map((x) => x.trim()).filter((x) => x !== '');
  const unknown = wanted.filter((w) => !ENGINES.some((e) => e.profile === w));
  if (unknown.length > 0) throw new Error(`DCL_DIFF_ENGINES: unknown profile(s) ${unknown.join(', ')} (known: ${ENGINES.map((e) => e.profile).join(', ')})`);
  return ENGINES.filter((e) => wanted.includes(e.profile));
}

/** One engine's part of a matrix run. */
export interface EngineRun {
  label: string;
  profile: string;
  engine: EngineInfo;
  durationMs: number;
  edits: EditResult[];
}

export interface AccuracyReport {
  version: 2;
  generatedAt: string;
  /** Set when only some scenarios ran (DCL_DIFF_ONLY). */
  filter: string | undefined;
  durationMs: number;
  scenarios: Array<{ name: string; kinds: EditKind[]; modelledOn: string | undefined; edits: number; predictOnly: boolean }>;
  dropped: Array<{ name: string; reason: string }>;
  runs: EngineRun[];
}

// ------------------------------------------------------------------------------------------------
// The CLI's JSON, validated (its contract is checked here, so a change shows as a clear error)
// ------------------------------------------------------------------------------------------------

export interface PredictStep {
  vertex: string;
  /** Other names BuildKit may give the same (merged) vertex. */
  alsoNamed: string[];
  stage: string;
  line: number;
  instruction: string;
  prediction: Prediction;
  reason: string;
}

export interface PredictOutput {
  steps: PredictStep[];
}

export interface BuildOutput {
  success: boolean;
  exitCode: number;
  vertices: Array<{ name: string; cached: boolean }>;
}

class ContractError extends Error {}

function obj(v: unknown, where: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ContractError(`${where} is not an object`);
  return v as Record<string, unknown>;
}
function arr(v: unknown, where: string): unknown[] {
  if (!Array.isArray(v)) throw new ContractError(`${where} is not an array`);
  return v as unknown[];
}
function str(v: unknown, where: string): string {
  if (typeof v !== 'string') throw new ContractError(`${where} is not a string (${JSON.stringify(v)})`);
  return v;
}
function num(v: unknown, where: string): number {
  if (typeof v !== 'number') throw new ContractError(`${where} is not a number (${JSON.stringify(v)})`);
  return v;
}
function bool(v: unknown, where: string): boolean {
  if (typeof v !== 'boolean') throw new ContractError(`${where} is not a boolean (${JSON.stringify(v)})`);
  return v;
}

const PREDICTIONS: readonly string[] = ['hit', 'miss', 'unknown', 'skipped'];

export function parsePredictOutput(text: string): PredictOutput {
  const root = obj(JSON.parse(text) as unknown, 'predict output');
  const steps = arr(root.steps, 'predict .steps').map((s, i): PredictStep => {
    const o = obj(s, `steps[${i}]`);
    const prediction = str(o.prediction, `steps[${i}].prediction`);
    if (!PREDICTIONS.includes(prediction)) throw new ContractError(`steps[${i}].prediction is ${JSON.stringify(prediction)}`);
    return {
      vertex: str(o.vertex, `steps[${i}].vertex`),
      alsoNamed: o.alsoNamed === undefined ? [] : arr(o.alsoNamed, `steps[${i}].alsoNamed`).map((n, k) => str(n, `steps[${i}].alsoNamed[${k}]`)),
      stage: str(o.stage, `steps[${i}].stage`),
      line: num(o.line, `steps[${i}].line`),
      instruction: str(o.instruction, `steps[${i}].instruction`),
      prediction: prediction as Prediction,
      reason: str(o.reason, `steps[${i}].reason`),
    };
  });
  return { steps };
}

export function parseBuildOutput(text: string): BuildOutput {
  const root = obj(JSON.parse(text) as unknown, 'build output');
  return {
    success: bool(root.success, 'build .success'),
    exitCode: num(root.exitCode, 'build .exitCode'),
    vertices: arr(root.vertices, 'build .vertices').map((v, i) => {
      const o = obj(v, `vertices[${i}]`);
      return { name: str(o.name, `vertices[${i}].name`), cached: bool(o.cached, `vertices[${i}].cached`) };
    }),
  };
}

// ------------------------------------------------------------------------------------------------
// The comparison (pure)
// ------------------------------------------------------------------------------------------------

/** `[stage-1 2/5] RUN ...`, `[3/4] COPY ...`: a Dockerfile step; not `[internal] ...`, `[auth] ...`, `exporting to image`. */
export function isStepVertex(name: string): boolean {
  return /^\[[^\]]*\d+\/\d+\] /.test(name);
}

const isFrom = (instruction: string | undefined, vertex: string): boolean =>
  instruction !== undefined ? instruction.toUpperCase() === 'FROM' : /^\[[^\]]*\] FROM /.test(vertex);

/**
 * FROM vertices are matched leniently: BuildKit merges vertices whose cache keys are equal, and all
 * the engine's stand-in tags are one image, so every FROM of a build (and of a concurrent build by
 * someone else on the same engine) can show under one name. A predicted FROM that BuildKit did not
 * print is still a base-image row (actual undefined); a FROM vertex nobody predicted is listed with
 * the other non-step vertices. Every other step name must match exactly.
 */
export function compareSteps(predicted: readonly PredictStep[], vertices: ReadonlyArray<{ name: string; cached: boolean }>): { rows: StepRow[]; otherVertices: string[] } {
  // A name BuildKit printed for more than one vertex counts as cached only if all of them were.
  const byName = new Map<string, boolean>();
  const otherVertices: string[] = [];
  for (const v of vertices) {
    if (!isStepVertex(v.name)) {
      if (!v.name.startsWith('[internal]') && !v.name.startsWith('[auth]')) otherVertices.push(v.name);
      continue;
    }
    byName.set(v.name, (byName.get(v.name) ?? true) && v.cached);
  }
  const used = new Set<string>();
  const rows: StepRow[] = [];
  for (const p of predicted) {
    // A vertex BuildKit merged from several identical steps may carry any of their names.
    const name = [p.vertex, ...p.alsoNamed].find((n) => byName.has(n)) ?? p.vertex;
    const cached = byName.get(name);
    const actual: Actual | undefined = cached === undefined ? undefined : cached ? 'hit' : 'miss';
    if (cached !== undefined) used.add(name);
    let outcome: Outcome;
    if (p.prediction === 'skipped') outcome = actual === undefined ? 'skipped' : 'skipped-but-run';
    else if (isFrom(p.instruction, p.vertex)) outcome = 'base-image';
    else if (actual === undefined) outcome = 'not-printed';
    else if (p.prediction === 'unknown') outcome = 'unknown';
    else if (p.prediction === actual) outcome = 'agreed';
    else outcome = p.prediction === 'hit' ? 'false-hit' : 'false-miss';
    rows.push({ vertex: p.vertex, stage: p.stage, line: p.line, instruction: p.instruction, prediction: p.prediction, reason: p.reason, actual, outcome });
  }
  for (const [name, cached] of byName) {
    if (used.has(name)) continue;
    if (isFrom(undefined, name)) {
      otherVertices.push(name);
      continue;
    }
    rows.push({ vertex: name, stage: undefined, line: undefined, instruction: undefined, prediction: undefined, reason: undefined, actual: cached ? 'hit' : 'miss', outcome: 'not-predicted' });
  }
  return { rows, otherVertices };
}

/** Rows of a predict-only edit (no build), plus one row per expectation of the edit. */
export function checkExpectations(predicted: readonly PredictStep[], expect: ReadonlyArray<{ vertex: string; prediction: Prediction }>): StepRow[] {
  const rows: StepRow[] = predicted.map((p) => ({
    vertex: p.vertex, stage: p.stage, line: p.line, instruction: p.instruction, prediction: p.prediction, reason: p.reason, actual: undefined, outcome: 'not-built',
  }));
  for (const e of expect) {
    const p = predicted.find((s) => s.vertex.includes(e.vertex));
    rows.push({
      vertex: p?.vertex ?? `(no predicted step contains "${e.vertex}")`,
      stage: p?.stage, line: p?.line, instruction: p?.instruction, prediction: p?.prediction, reason: p?.reason ?? `expected ${e.prediction}`,
      actual: undefined,
      outcome: p?.prediction === e.prediction ? 'expected' : 'unexpected',
    });
  }
  return rows;
}

export function problemsOf(r: EditResult): string[] {
  const out: string[] = [];
  if (r.error !== undefined) out.push(`ERROR: ${r.error}`);
  for (const row of r.rows) {
    if (!DISAGREEMENTS.includes(row.outcome)) continue;
    out.push(describeRow(row));
  }
  return out;
}

export function describeRow(row: StepRow): string {
  const where = row.line === undefined ? '' : ` (line ${row.line}, stage ${row.stage ?? '?'})`;
  switch (row.outcome) {
    case 'not-printed':
      return `NAME MISMATCH: predicted ${row.prediction ?? '?'} for "${row.vertex}"${where}, but BuildKit printed no vertex of that name`;
    case 'not-predicted':
      return `NAME MISMATCH: BuildKit printed "${row.vertex}" (${row.actual === 'hit' ? 'cached' : 'built'}), which no predicted step names`;
    case 'skipped-but-run':
      return `SKIPPED BUT RUN: predicted skipped (${row.reason ?? ''}) for "${row.vertex}"${where}, BuildKit ran it (${row.actual === 'hit' ? 'cached' : 'built'})`;
    case 'unexpected':
      return `UNEXPECTED PREDICTION: "${row.vertex}"${where}: predicted ${row.prediction ?? '(none)'} (${row.reason ?? ''})`;
    default:
      return `${row.outcome.toUpperCase()}: "${row.vertex}"${where}: predicted ${row.prediction ?? '?'} (${row.reason ?? ''}), BuildKit ${row.actual === 'hit' ? 'CACHED' : 'BUILT'}`;
  }
}

// ------------------------------------------------------------------------------------------------
// Processes
// ------------------------------------------------------------------------------------------------

interface Run { code: number; stdout: string; stderr: string }

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 180_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs, cwd: REPO }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, stdout, stderr: stderr + (err !== null && typeof err.code !== 'number' ? `\n${err.message}` : '') });
    });
  });
}

const tail = (text: string, lines = 15): string => text.trimEnd().split('\n').slice(-lines).join('\n');

/** Why the suite cannot run, or undefined when it can. Synchronous: decides skipping at load time. */
export function unavailableReason(): string | undefined {
  if (!fs.existsSync(CLI)) return `${path.relative(REPO, CLI)} does not exist (run npm run build)`;
  let help = '';
  try {
    help = execFileSync(process.execPath, [CLI, '--help'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const out = (e as { stdout?: unknown }).stdout;
    help = typeof out === 'string' ? out : '';
  }
  if (!/\bpredict\b/.test(help) || !/\bbuild\b/.test(help)) return 'the CLI has no predict/build commands yet';
  if (typeof process.getuid === 'function' && process.getuid() !== 0 && process.env.DCL_USE_EXISTING_DOCKER !== '1') {
    return 'the private engine needs root (or DCL_USE_EXISTING_DOCKER=1)';
  }
  return undefined;
}

/**
 * Starts the private engine (idempotent) and returns the environment that points at it: the
 * default engine (or DCL_USE_EXISTING_DOCKER's) without a profile, else the profile's.
 */
export function engineEnv(profile?: string): NodeJS.ProcessEnv {
  let text: string;
  if (profile === undefined) {
    execFileSync(ENGINE_SH, ['start'], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    text = execFileSync(ENGINE_SH, ['env'], { encoding: 'utf8' });
  } else {
    // `start PROFILE` prints the profile's environment (DCL_ENGINE_PROFILE included, for `retag`).
    text = execFileSync(ENGINE_SH, ['start', profile], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 600_000 });
  }
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const line of text.split('\n')) {
    const exp = /^export ([A-Z_]+)=(.*)$/.exec(line.trim());
    // (printf %q only quotes what needs it; these paths need none)
    if (exp?.[1] !== undefined && exp[2] !== undefined) env[exp[1]] = exp[2].replace(/^(['"])(.*)\1$/, '$2');
    const unset = /^unset ([A-Z_]+)$/.exec(line.trim());
    if (unset?.[1] !== undefined) delete env[unset[1]];
  }
  return env;
}

export async function engineInfo(env: NodeJS.ProcessEnv): Promise<EngineInfo> {
  const version = await run('docker', ['version', '--format', '{{json .}}'], env);
  const v = version.code === 0 ? obj(JSON.parse(version.stdout) as unknown, 'docker version') : {};
  const client = typeof v.Client === 'object' && v.Client !== null ? v.Client as Record<string, unknown> : {};
  const server = typeof v.Server === 'object' && v.Server !== null ? v.Server as Record<string, unknown> : {};
  const buildx = await run('docker', ['buildx', 'version'], env);
  const inspect = await run('docker', ['buildx', 'inspect'], env);
  const field = (name: string): string => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(inspect.stdout)?.[1]?.trim() ?? '?';
  const info = await run('docker', ['info', '--format', '{{json .}}'], env);
  const i = info.code === 0 ? obj(JSON.parse(info.stdout) as unknown, 'docker info') : {};
  const driverStatus = JSON.stringify(i.DriverStatus ?? []);
  return {
    dockerClient: typeof client.Version === 'string' ? client.Version : '?',
    dockerServer: typeof server.Version === 'string' ? server.Version : '?',
    apiVersion: typeof server.ApiVersion === 'string' ? server.ApiVersion : '?',
    buildx: buildx.stdout.trim(),
    builder: field('Name'),
    driver: field('Driver'),
    buildkit: field('BuildKit version'),
    storageDriver: typeof i.Driver === 'string' ? i.Driver : '?',
    imageStore: driverStatus.includes('io.containerd.snapshotter') ? 'containerd' : 'classic',
    os: typeof i.OperatingSystem === 'string' ? `${i.OperatingSystem} (${typeof i.KernelVersion === 'string' ? i.KernelVersion : '?'})` : '?',
  };
}

// ------------------------------------------------------------------------------------------------
// Workspaces
// ------------------------------------------------------------------------------------------------

export class ScenarioWorkspace implements Workspace {
  buildArgs: Record<string, string>;
  target: string | undefined;
  platform: string | undefined;
  dockerfilePath: string;

  constructor(readonly dir: string, s: Scenario, private readonly env: NodeJS.ProcessEnv) {
    this.buildArgs = { ...s.buildArgs };
    this.target = s.target;
    this.platform = s.platform;
    this.dockerfilePath = s.dockerfilePath ?? 'Dockerfile';
  }

  private abs(rel: string): string {
    const p = path.resolve(this.dir, rel);
    if (p !== this.dir && !p.startsWith(this.dir + path.sep)) throw new Error(`path outside the context: ${rel}`);
    return p;
  }

  get dockerfile(): string { return this.read(this.dockerfilePath); }
  set dockerfile(text: string) { this.write(this.dockerfilePath, text); }

  write(rel: string, content: string): void {
    const p = this.abs(rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
  }
  read(rel: string): string { return fs.readFileSync(this.abs(rel), 'utf8'); }
  replace(rel: string, from: string, to: string): void {
    const text = this.read(rel);
    const at = text.indexOf(from);
    if (at < 0) throw new Error(`edit: "${from}" not found in ${rel}`);
    if (text.indexOf(from, at + 1) >= 0) throw new Error(`edit: "${from}" occurs more than once in ${rel}`);
    this.write(rel, text.slice(0, at) + to + text.slice(at + from.length));
  }
  editDockerfile(from: string, to: string): void { this.replace(this.dockerfilePath, from, to); }
  remove(rel: string): void { fs.rmSync(this.abs(rel), { recursive: true }); }
  rename(from: string, to: string): void {
    fs.mkdirSync(path.dirname(this.abs(to)), { recursive: true });
    fs.renameSync(this.abs(from), this.abs(to));
  }
  chmod(rel: string, mode: number): void { fs.chmodSync(this.abs(rel), mode); }
  touch(rel: string, seconds = 60): void {
    const t = new Date(Date.now() + seconds * 1000);
    fs.utimesSync(this.abs(rel), t, t);
  }
  mkdir(rel: string): void { fs.mkdirSync(this.abs(rel), { recursive: true }); }
  symlink(target: string, rel: string): void {
    const p = this.abs(rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.rmSync(p, { force: true });
    fs.symlinkSync(target, p);
  }
  retag(image: string, variant?: string): void {
    execFileSync(ENGINE_SH, ['retag', image, ...(variant === undefined ? [] : [variant])], { env: this.env, stdio: ['ignore', 'ignore', 'pipe'] });
  }
}

export function materialise(dir: string, s: Scenario): void {
  for (const [rel, content] of Object.entries(s.context.files)) {
    const p = path.join(dir, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
    fs.chmodSync(p, s.context.modes?.[rel] ?? 0o644);
  }
  for (const rel of s.context.dirs ?? []) fs.mkdirSync(path.join(dir, rel), { recursive: true });
  for (const [rel, target] of Object.entries(s.context.symlinks ?? {})) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.symlinkSync(target, path.join(dir, rel));
  }
  const df = path.join(dir, s.dockerfilePath ?? 'Dockerfile');
  fs.mkdirSync(path.dirname(df), { recursive: true });
  fs.writeFileSync(df, s.dockerfile);
}

// ------------------------------------------------------------------------------------------------
// The suite
// ------------------------------------------------------------------------------------------------

export class DifferentialSuite {
  readonly edits: EditResult[] = [];
  /** issue 17: when set, `impact` is checked after each build (test/helpers/impactCheck.ts). */
  impact: ImpactCheck | undefined;
  private readonly started = Date.now();

  private constructor(
    readonly engineProfile: EngineProfile,
    readonly env: NodeJS.ProcessEnv,
    readonly engine: EngineInfo,
    /** Temp root: the manifest dir and every scenario's context. */
    readonly root: string,
    readonly manifestDir: string,
  ) {}

  /** Starts the profile's engine, prunes BuildKit's cache and creates an empty manifest dir. */
  static async start(profile: EngineProfile): Promise<DifferentialSuite> {
    const env = engineEnv(profile.profile);
    const engine = await engineInfo(env);
    const prune = await run('docker', ['builder', 'prune', '-af'], env);
    if (prune.code !== 0) throw new Error(`docker builder prune -af failed:\n${tail(prune.stderr)}`);
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'dcl-differential-'));
    const manifestDir = path.join(root, 'manifest');
    fs.mkdirSync(manifestDir);
    return new DifferentialSuite(profile, env, engine, root, manifestDir);
  }

  private cliArgs(command: 'predict' | 'build', ws: ScenarioWorkspace, extra: readonly string[] = []): string[] {
    const args = [CLI, command, '-f', path.join(ws.dir, ws.dockerfilePath), '--manifest', this.manifestDir, '--json'];
    if (ws.target !== undefined) args.push('--target', ws.target);
    if (ws.platform !== undefined) args.push('--platform', ws.platform);
    for (const [k, v] of Object.entries(ws.buildArgs)) args.push('--build-arg', `${k}=${v}`);
    args.push(...extra, ws.dir);
    return args;
  }

  private async step(s: Scenario, ws: ScenarioWorkspace, index: number, e: Pick<Edit, 'description' | 'kinds' | 'predictOnly' | 'expect'>): Promise<EditResult> {
    const t0 = Date.now();
    const result: EditResult = {
      scenario: s.name, index, edit: e.description, kinds: e.kinds, predictOnly: e.predictOnly === true,
      buildArgs: { ...ws.buildArgs }, target: ws.target, durationMs: 0, buildSuccess: undefined, error: undefined, rows: [], otherVertices: [],
    };
    try {
      const p = await run(process.execPath, this.cliArgs('predict', ws, s.cliArgs), this.env);
      if (p.code !== 0) throw new Error(`predict exited ${p.code}:\n${tail(p.stderr)}`);
      let predicted: PredictOutput;
      try {
        predicted = parsePredictOutput(p.stdout);
      } catch (e) {
        throw new Error(`predict --json output does not match the contract: ${e instanceof Error ? e.message : String(e)}\n${p.stdout.slice(0, 400)}`);
      }
      if (e.predictOnly === true) {
        result.rows = checkExpectations(predicted.steps, e.expect ?? []);
        return result;
      }
      const extra = typeof s.dockerArgs === 'function' ? s.dockerArgs(ws.dir) : s.dockerArgs ?? [];
      const b = await run(process.execPath, [...this.cliArgs('build', ws, s.cliArgs), '--', ...extra], this.env);
      let built: BuildOutput;
      try {
        built = parseBuildOutput(b.stdout);
      } catch (e) {
        throw new Error(`build --json (exit ${b.code}) output does not match the contract: ${e instanceof Error ? e.message : String(e)}\n${b.stdout.slice(0, 400)}\n${tail(b.stderr)}`);
      }
      result.buildSuccess = built.success;
      if (!built.success) throw new Error(`the build failed (exit ${built.exitCode}): a scenario bug or a CLI bug\n${tail(b.stderr, 25)}`);
      const { rows, otherVertices } = compareSteps(predicted.steps, built.vertices);
      result.rows = rows;
      result.otherVertices = otherVertices;
      if (e.expect !== undefined) result.rows.push(...checkExpectations(predicted.steps, e.expect).filter((r) => r.outcome !== 'not-built'));
      return result;
    } catch (e) {
      result.error = e instanceof Error ? e.message : String(e);
      return result;
    } finally {
      result.durationMs = Date.now() - t0;
      this.edits.push(result);
    }
  }

  /** Runs one scenario; returns its results (also kept for the report). */
  async run(s: Scenario): Promise<EditResult[]> {
    const dir = fs.mkdtempSync(path.join(this.root, 'ctx-'));
    const ws = new ScenarioWorkspace(dir, s, this.env);
    const out: EditResult[] = [];
    try {
      materialise(dir, s);
      const impact = await this.impact?.scenario(s.name, dir, s.cliArgs); // issue 17: impact check
      out.push(await this.step(s, ws, 0, { description: 'initial build', kinds: ['initial'] }));
      await impact?.state(out[out.length - 1] as EditResult, ws); // issue 17
      if (out[0]?.error !== undefined) return out;
      for (const [i, e] of s.edits.entries()) {
        try {
          e.apply(ws);
        } catch (err) {
          const r: EditResult = {
            scenario: s.name, index: i + 1, edit: e.description, kinds: e.kinds, predictOnly: e.predictOnly === true,
            buildArgs: { ...ws.buildArgs }, target: ws.target, durationMs: 0, buildSuccess: undefined,
            error: `applying the edit failed: ${err instanceof Error ? err.message : String(err)}`, rows: [], otherVertices: [],
          };
          this.edits.push(r);
          out.push(r);
          break;
        }
        out.push(await this.step(s, ws, i + 1, e));
        await impact?.state(out[out.length - 1] as EditResult, ws); // issue 17
      }
      return out;
    } finally {
      s.cleanup?.(ws);
    }
  }

  /** This engine's part of the report. */
  engineRun(): EngineRun {
    return { label: this.engineProfile.label, profile: this.engineProfile.profile, engine: this.engine, durationMs: Date.now() - this.started, edits: this.edits };
  }

  /** Removes the temp contexts and the manifest (keeps them with DCL_DIFF_KEEP=1). */
  dispose(): void {
    if (process.env.DCL_DIFF_KEEP === '1') return;
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

export function matrixReport(scenarios: readonly Scenario[], dropped: Array<{ name: string; reason: string }>, filter: string | undefined, runs: EngineRun[], startedAt: number): AccuracyReport {
  return {
    version: 2,
    generatedAt: new Date().toISOString(),
    filter,
    durationMs: Date.now() - startedAt,
    scenarios: scenarios.map((s) => ({ name: s.name, kinds: s.kinds, modelledOn: s.modelledOn, edits: s.edits.length, predictOnly: s.edits.some((e) => e.predictOnly === true) })),
    dropped,
    runs,
  };
}

export function writeReport(report: AccuracyReport, file = REPORT_PATH): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file + '.tmp', JSON.stringify(report, null, 2) + '\n');
  fs.renameSync(file + '.tmp', file);
}

/** Human-readable lines for every problem of a scenario's results. */
export function formatProblems(results: readonly EditResult[], prefix = ''): string {
  const lines: string[] = [];
  for (const r of results) {
    const problems = problemsOf(r);
    if (problems.length === 0) continue;
    const args = Object.entries(r.buildArgs).map(([k, v]) => `${k}=${v}`).join(' ');
    lines.push(`${prefix}scenario "${r.scenario}", edit ${r.index} "${r.edit}"${r.target === undefined ? '' : ` --target ${r.target}`}${args === '' ? '' : ` build args: ${args}`}:`);
    for (const p of problems) lines.push('  ' + p.replace(/\n/g, '\n    '));
  }
  return lines.join('\n');
}
