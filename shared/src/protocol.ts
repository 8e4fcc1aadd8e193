/**
 * What the client and the server agree on: the settings section and its shape, and the custom
 * messages between them. One module, imported by both sides.
 */

/** Every setting lives under this prefix. */
export const SETTINGS_SECTION = 'dockerfileCacheLens';

/**
 * Node options of the language server process. A first scan of a big context leaves much garbage
 * behind, and V8 keeps the heap it grew to (measured with 100k files: about half the resident
 * memory, for ~50% longer full walks; docs/performance.md).
 */
export const SERVER_EXEC_ARGV: readonly string[] = ['--optimize-for-size'];

export type RuleSeveritySetting = 'error' | 'warning' | 'info' | 'hint' | 'off';

/** The settings for one resource (a Dockerfile), as `workspace/configuration` returns them. */
export interface CacheLensSettings {
  /** Which builder's cache to predict: BuildKit (default) or the legacy builder (DOCKER_BUILDKIT=0). */
  engine: 'buildkit' | 'legacy';
  /** The stage to build; empty for the last one. */
  target: string;
  buildArgs: Record<string, string>;
  /** `--platform`; empty for the builder's own. */
  platform: string;
  /** The build context, relative to the Dockerfile's folder (default `.`). */
  context: string;
  codeLens: { enabled: boolean };
  diagnostics: {
    /** Report what BuildKit's parser would reject. */
    syntax: boolean;
  };
  /** Severity per rule id (`cache/copy-all-before-install`), or `off`. */
  rules: Record<string, RuleSeveritySetting>;
  /** Where recorded builds live; empty for the user's cache directory. */
  manifestDirectory: string;
}

export const DEFAULT_SETTINGS: CacheLensSettings = {
  engine: 'buildkit',
  target: '',
  buildArgs: {},
  platform: '',
  context: '.',
  codeLens: { enabled: true },
  diagnostics: { syntax: true },
  rules: {},
  manifestDirectory: '',
};

function record(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function str(v: unknown, fallback: string): string {
  return typeof v === 'string' ? v : fallback;
}

function bool(v: unknown, fallback: boolean): boolean {
  return typeof v === 'boolean' ? v : fallback;
}

const SEVERITIES = new Set<string>(['error', 'warning', 'info', 'hint', 'off']);

/** Fills in defaults for whatever the client did not send, and drops values of the wrong type. */
export function normalizeSettings(raw: unknown): CacheLensSettings {
  const r = record(raw);
  const buildArgs: Record<string, string> = {};
  for (const [k, v] of Object.entries(record(r.buildArgs))) if (typeof v === 'string') buildArgs[k] = v;
  const rules: Record<string, RuleSeveritySetting> = {};
  for (const [k, v] of Object.entries(record(r.rules))) if (typeof v === 'string' && SEVERITIES.has(v)) rules[k] = v as RuleSeveritySetting;
  return {
    engine: r.engine === 'legacy' ? 'legacy' : 'buildkit',
    target: str(r.target, DEFAULT_SETTINGS.target),
    buildArgs,
    platform: str(r.platform, DEFAULT_SETTINGS.platform),
    context: str(r.context, DEFAULT_SETTINGS.context) || '.',
    codeLens: { enabled: bool(record(r.codeLens).enabled, DEFAULT_SETTINGS.codeLens.enabled) },
    diagnostics: { syntax: bool(record(r.diagnostics).syntax, DEFAULT_SETTINGS.diagnostics.syntax) },
    rules,
    manifestDirectory: str(r.manifestDirectory, DEFAULT_SETTINGS.manifestDirectory),
  };
}

/** The language id VS Code gives Dockerfiles (`Dockerfile`, `*.Dockerfile`, `Dockerfile.*`, `Containerfile`). */
export const DOCKERFILE_LANGUAGE_ID = 'dockerfile';

/** Client command a code lens runs to show a step's whole story. */
export const SHOW_STEP_COMMAND = 'dockerfileCacheLens.showStepDetails';

/** The argument of SHOW_STEP_COMMAND. */
export interface StepDetailsArgs {
  uri: string;
  vertex: string;
  prediction: 'hit' | 'miss' | 'unknown' | 'skipped';
  reason: string;
  details: string[];
}

/** A build's configuration as the client shows it and runs it. */
export interface BuildPlanInfo {
  dockerfile: string;
  context: string;
  target: string | undefined;
  buildArgs: Record<string, string>;
  platform: string | undefined;
  engine: 'buildkit' | 'legacy';
}

/**
 * Client → server, when a build starts: take the cache keys now (the context may change during a
 * long build) and say what is predicted.
 */
export const PREPARE_BUILD_REQUEST = 'dockerfileCacheLens/prepareBuild';
export interface PrepareBuildParams {
  /** The Dockerfile's URI. */
  uri: string;
  /** Overrides of the document's settings for this build (a task's properties). */
  target?: string | undefined;
  buildArgs?: Record<string, string> | undefined;
  platform?: string | undefined;
  context?: string | undefined;
  /** A buildx builder (`--builder`): its cache is a different one. */
  builder?: string | undefined;
  /** The builder that will run: `legacy` when buildx is missing. */
  engine?: 'buildkit' | 'legacy' | undefined;
}
export interface PrepareBuildResult {
  buildId: string;
  plan: BuildPlanInfo;
  steps: Array<{ vertex: string; prediction: 'hit' | 'miss' | 'unknown' | 'skipped'; reason: string }>;
  /** Human messages (unreadable files, unknown target...). */
  problems: string[];
}

/** What BuildKit did with one vertex, read from `--progress=rawjson` (by the client or the CLI). */
export interface BuildVertex {
  /** The progress name, e.g. `[build 3/5] RUN npm ci`. */
  name: string;
  digest: string;
  cached: boolean;
  /** Milliseconds from `started` to `completed`; undefined when it never completed. */
  durationMs: number | undefined;
  started: boolean;
  completed: boolean;
  error: string | undefined;
  /** The last lines of the vertex's log output (for failures). */
  logTail: string[];
}

/** Client → server, when the build ends: record it, refresh lenses and diagnostics, compare. */
export const BUILD_FINISHED_REQUEST = 'dockerfileCacheLens/buildFinished';
export interface BuildFinishedParams {
  buildId: string;
  success: boolean;
  cancelled: boolean;
  durationMs: number;
  vertices: BuildVertex[];
  errorMessage?: string | undefined;
}
export interface BuildFinishedResult {
  recorded: boolean;
  /** Steps where BuildKit did otherwise than predicted: shown in the output channel. */
  disagreements: Array<{ vertex: string; predicted: string; reason: string; actual: string }>;
  /** The failed step's place in the Dockerfile, when a step failed. */
  failure?: { vertex: string; line: number; message: string } | undefined;
  cached: number;
  built: number;
}

/** Client → server: forget the recorded builds of one Dockerfile (or all). */
export const FORGET_BUILDS_REQUEST = 'dockerfileCacheLens/forgetBuilds';
export interface ForgetBuildsParams { uri?: string | undefined }

/**
 * Server → client, once the server's Docker probe has answered: whether base images can be
 * checked. A stopped engine is said once, in the status bar, not on every lens.
 */
export const DOCKER_STATUS_NOTIFICATION = 'dockerfileCacheLens/dockerStatus';
export interface DockerStatusParams {
  running: boolean;
  /** When not running: the one notice (`Docker is not running: base images cannot be checked`). */
  notice?: string | undefined;
  /** When not running: why, in the probe's words (where it looked, what to do). */
  problem?: string | undefined;
}

/** The notice of a stopped engine, in the status bar and in `predict`'s header. */
export const DOCKER_DOWN_NOTICE = 'Docker is not running: base images cannot be checked';

// --- Cache impact of a git change (`dockerfile-cache-lens impact`, "Compare Cache with Branch…") ---

/** Computes, for the open Dockerfile, which steps a git change makes rerun. */
export const IMPACT_REQUEST = 'dockerfileCacheLens/impact';
export interface ImpactParams {
  uri: string;
  /** A revision; omitted: the merge base with the default branch (origin/HEAD, else main, else master). */
  base?: string | undefined;
  /** A revision; omitted: the working tree. */
  head?: string | undefined;
}

export interface ImpactStepInfo {
  vertex: string;
  stage: string;
  /** 1-based line in the head's Dockerfile. */
  line: number;
  instruction: string;
  text: string;
  /** `miss`: reruns; `unknown`: may rerun (nothing local can tell). */
  prediction: 'miss' | 'unknown';
  reason: string;
  details: string[];
  /** From recorded builds; null when this step was never built here. */
  estimatedSeconds: number | null;
  /** The first step of its stage that reruns. */
  firstInStage: boolean;
}

export interface ImpactConfigurationInfo {
  /** `default`, `--target test`; Compose services and Bake targets later. */
  name: string;
  target: string | null;
  buildArgs: Record<string, string>;
  platform: string | null;
  /** Reachable steps of the head's build. */
  total: number;
  steps: ImpactStepInfo[];
  /** Sum of the recorded durations of the steps that rerun (those with none are counted in `unmeasured`). */
  estimatedSeconds: number;
  unmeasured: number;
  problems: string[];
}

export interface ImpactReport {
  /** `branch`: the default branch the merge base was taken with; null when --base named the revision. */
  base: { revision: string; commit: string; how: string; branch: string | null };
  head: { revision: string; commit: string | null };
  /** From the repository's top level. */
  dockerfile: string;
  context: string;
  configurations: ImpactConfigurationInfo[];
  /** How each side was read (what git does not keep, what was carried over). */
  notes: string[];
}

/** The result: a report, or the message and kind of what went wrong (no repository, unknown revision, ...). */
export type ImpactResult = { ok: true; report: ImpactReport; markdown: string } | { ok: false; kind: string; message: string };
