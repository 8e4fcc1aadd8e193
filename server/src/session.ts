/**
 * The server's long-lived state for predictions: what Docker is there (probed once, in the
 * background), base image lookups (cached), and one context hasher per build context whose
 * snapshot is kept between keystrokes and renewed only when files change. No LSP here: the
 * server asks for predictions and is told when they may have changed.
 */

import * as path from 'node:path';
import { probeDocker, type DockerInfo } from './build/docker';
import { inspectImages } from './build/images';
import type { ContextSnapshot } from './cache/contextHash';
import { ManifestStore } from './cache/manifest';
import { Predictor, buildConfig, type PredictionRun, type StepComparison } from './cache/predictor';
import type { ImageInfo } from './cache/steps';
import type { BuildConfig, StepRecord, VertexResult } from './cache/types';
import type { CacheLensSettings } from '../../shared/src/protocol';

/** How long a base image lookup is trusted before it is asked again (a tag can move). */
const IMAGE_TTL_MS = 30_000;
/** File events arriving together are handled together. */
const RESNAPSHOT_DELAY_MS = 50;
/**
 * Snapshots after file events are patched at the paths the watcher named; this long after the last
 * event the whole context is looked at again, in case the watcher missed something (events it
 * dropped, a context outside the workspace). A build always looks at everything.
 */
const VERIFY_DELAY_MS = 15_000;

export type DocumentPrediction =
  | { status: 'ready'; run: PredictionRun; history: readonly StepRecord[]; lastBuildTime: string | undefined }
  | { status: 'hashing'; done: number; total: number; config: BuildConfig }
  | { status: 'failed'; message: string };

interface ContextState {
  root: string;
  dockerfile: string;
  snapshot: ContextSnapshot | undefined;
  /** A snapshot in progress. */
  pending: Promise<ContextSnapshot> | undefined;
  /** It reads only changed paths (quick: worth waiting for), not the whole context. */
  pendingIsPatch: boolean;
  /** Files changed since the snapshot was taken. */
  dirty: boolean;
  done: number;
  total: number;
  timer: NodeJS.Timeout | undefined;
  verifyTimer: NodeJS.Timeout | undefined;
}

export interface SessionOptions {
  env?: NodeJS.ProcessEnv;
  log: (message: string) => void;
  /** Predictions may have changed without the document changing (files, images, a build). */
  onChange: () => void;
}

export class CacheSession {
  private readonly env: NodeJS.ProcessEnv;
  private dockerInfo: DockerInfo | undefined;
  private readonly dockerProbe: Promise<DockerInfo>;
  private readonly images = new Map<string, { info: ImageInfo | undefined; time: number }>();
  private readonly predictors = new Map<string, Predictor>();
  private readonly contexts = new Map<string, ContextState>();

  constructor(private readonly options: SessionOptions) {
    this.env = options.env ?? process.env;
    this.dockerProbe = probeDocker(this.env).then((info) => {
      this.dockerInfo = info;
      if (!info.ok) options.log(`Docker: ${info.problem.message} Predictions use the recorded builds; base images are not checked.`);
      else options.log(`Docker: ${info.serverVersion} at ${info.endpoint}, builder ${info.builderName} (${info.builderDriver}), ${info.engine}`);
      options.onChange();
      return info;
    });
  }

  /** The Docker probe's result, when it answers. */
  dockerStatus(): Promise<DockerInfo> {
    return this.dockerProbe;
  }

  /** The Docker probe's result, once it has answered. */
  get docker(): DockerInfo | undefined {
    return this.dockerInfo;
  }

  private builder(): string {
    const d = this.dockerInfo;
    if (d?.ok === true) return d.builder;
    return `${d?.endpoint ?? this.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock'}|builder=default|driver=docker`;
  }

  private predictor(manifestDir: string): Predictor {
    let p = this.predictors.get(manifestDir);
    if (p === undefined) {
      p = new Predictor({
        store: new ManifestStore(manifestDir === '' ? undefined : manifestDir),
        images: (refs) => this.lookupImages(refs),
        mergeOps: this.dockerInfo?.ok === true ? this.dockerInfo.mergeOps : false,
        baseNamesPinned: this.dockerInfo?.ok === true ? this.dockerInfo.baseNamesPinned : false,
        ...(this.dockerInfo?.ok === false ? { imagesUnavailable: 'the Docker engine cannot be asked which image this tag points to' } : {}),
      });
      this.predictors.set(manifestDir, p);
    }
    return p;
  }

  /** Cached lookups; stale or missing ones are asked in one batch. */
  private async lookupImages(refs: readonly string[]): Promise<Map<string, ImageInfo | undefined>> {
    const now = Date.now();
    const missing = refs.filter((r) => {
      const c = this.images.get(r);
      return c === undefined || now - c.time > IMAGE_TTL_MS;
    });
    if (missing.length > 0 && this.dockerInfo?.ok === true) {
      const found = await inspectImages(missing, this.env);
      for (const [r, info] of found) this.images.set(r, { info, time: Date.now() });
    }
    return new Map(refs.map((r) => [r, this.images.get(r)?.info]));
  }

  configFor(dockerfile: string, settings: CacheLensSettings): BuildConfig {
    return buildConfig({
      dockerfile,
      context: path.resolve(path.dirname(dockerfile), settings.context),
      target: settings.target,
      buildArgs: settings.buildArgs,
      platform: settings.platform,
      builder: this.builder(),
      engine: settings.engine,
    });
  }

  private contextState(config: BuildConfig): ContextState {
    const id = `${config.context}\0${config.dockerfile}`;
    let c = this.contexts.get(id);
    if (c === undefined) {
      c = { root: config.context, dockerfile: config.dockerfile, snapshot: undefined, pending: undefined, pendingIsPatch: false, dirty: true, done: 0, total: 0, timer: undefined, verifyTimer: undefined };
      this.contexts.set(id, c);
    }
    return c;
  }

  /**
   * Starts a snapshot of a context unless one is running; tells onChange when it is done. `full`:
   * every entry is looked at (a build, a check after file events); otherwise only the paths file
   * events named are read again.
   */
  private refresh(config: BuildConfig, c: ContextState, manifestDir: string, full = false): Promise<ContextSnapshot> {
    if (c.pending !== undefined) {
      if (!full) return c.pending;
      // A build needs a snapshot started after it was asked for.
      return c.pending.catch(() => undefined).then(() => this.refresh(config, c, manifestDir, true));
    }
    c.dirty = false;
    const hasher = this.predictor(manifestDir).hasher(config.context, config.dockerfile, (done, total) => {
      c.done = done;
      c.total = total;
    });
    const before = c.snapshot;
    const patch = !full && before !== undefined;
    c.pendingIsPatch = patch;
    c.pending = hasher.snapshot({ patch }).then((s) => {
      c.snapshot = s;
      c.pending = undefined;
      if (patch) this.scheduleVerify(config, c, manifestDir);
      // Files that changed while hashing: take another look, and say when it is there. The first
      // scan of a context was answered with "hashing…", and a check may have found what the
      // watcher missed: say that a new answer is there.
      if (c.dirty) {
        void this.refresh(config, c, manifestDir).then((next) => {
          if (next !== s) this.options.onChange();
        }, () => undefined);
      } else if (before === undefined || (!patch && s !== before)) {
        this.options.onChange();
      }
      return s;
    }, (e: unknown) => {
      c.pending = undefined;
      throw e;
    });
    return c.pending;
  }

  private scheduleVerify(config: BuildConfig, c: ContextState, manifestDir: string): void {
    if (c.verifyTimer !== undefined) clearTimeout(c.verifyTimer);
    c.verifyTimer = setTimeout(() => {
      c.verifyTimer = undefined;
      this.refresh(config, c, manifestDir, true).catch((e: unknown) => this.options.log(`context ${c.root}: ${e instanceof Error ? e.message : String(e)}`));
    }, VERIFY_DELAY_MS);
    c.verifyTimer.unref();
  }

  /**
   * The prediction for a Dockerfile's current text. Never waits for the first scan of a context:
   * while it runs, it says how far it got (and onChange fires when it is done). After that a
   * keystroke reuses the snapshot; a file change makes it re-read the changed files first, which is
   * quick, so that no answer is stale.
   */
  async predict(dockerfile: string, text: string, settings: CacheLensSettings): Promise<DocumentPrediction> {
    await this.dockerProbe;
    const config = this.configFor(dockerfile, settings);
    const c = this.contextState(config);
    let snapshot = c.snapshot;
    if (c.dirty || snapshot === undefined || (c.pending !== undefined && c.pendingIsPatch)) {
      const p = this.refresh(config, c, settings.manifestDirectory);
      if (snapshot === undefined) {
        p.catch((e: unknown) => this.options.log(`context ${c.root}: ${e instanceof Error ? e.message : String(e)}`));
        return { status: 'hashing', done: c.done, total: c.total, config };
      }
      snapshot = await p;
    }
    try {
      const predictor = this.predictor(settings.manifestDirectory);
      const run = await predictor.run(config, text, { snapshot });
      const history = await predictor.history(config);
      return { status: 'ready', run, history, lastBuildTime: run.lastBuild?.time };
    } catch (e) {
      return { status: 'failed', message: e instanceof Error ? e.message : String(e) };
    }
  }

  /** Files changed on disk (absolute paths): the contexts holding them are read again, in the background. */
  filesChanged(files: readonly string[]): void {
    for (const c of this.contexts.values()) {
      const inside = files
        .filter((f) => f === c.root || f.startsWith(c.root + path.sep) || f === c.dockerfile + '.dockerignore')
        .map((f) => path.relative(c.root, f).split(path.sep).join('/'));
      if (inside.length === 0) continue;
      for (const p of this.predictors.values()) p.hasher(c.root, c.dockerfile).invalidate(inside);
      c.dirty = true;
      if (c.verifyTimer !== undefined) clearTimeout(c.verifyTimer);
      c.verifyTimer = undefined;
      if (c.timer !== undefined) clearTimeout(c.timer);
      c.timer = setTimeout(() => {
        c.timer = undefined;
        // The next prediction takes the new snapshot; ask for one now.
        this.options.onChange();
      }, RESNAPSHOT_DELAY_MS);
    }
  }

  /**
   * The cache keys at the start of a build: a fresh snapshot of the context (files may have
   * changed where no watcher looks), awaited.
   */
  async prepareBuild(dockerfile: string, text: string, settings: CacheLensSettings, builderName?: string): Promise<PredictionRun> {
    await this.dockerProbe;
    const config = this.configFor(dockerfile, settings);
    if (builderName !== undefined && builderName !== '') {
      // Another buildx builder has a cache of its own: record the build under its identity.
      const info = await probeDocker(this.env, { builder: builderName });
      config.builder = info.ok ? info.builder : `${info.endpoint ?? 'unknown'}|builder=${builderName}|driver=unknown`;
    }
    const c = this.contextState(config);
    const snapshot = await this.refresh(config, c, settings.manifestDirectory, true);
    return this.predictor(settings.manifestDirectory).run(config, text, { snapshot });
  }

  /** Records what BuildKit did, then tells every open document. */
  async recordBuild(run: PredictionRun, settings: CacheLensSettings, outcome: { vertices: readonly VertexResult[]; success: boolean; durationMs: number }): Promise<StepComparison[]> {
    const { comparisons } = await this.predictor(settings.manifestDirectory).record(run, outcome);
    this.options.onChange();
    return comparisons;
  }

  /** Forgets the recorded builds of one configuration, or all of them. */
  async forget(settings: CacheLensSettings, config: BuildConfig | undefined): Promise<void> {
    await new ManifestStore(settings.manifestDirectory === '' ? undefined : settings.manifestDirectory).forget(config);
    this.options.onChange();
  }

  dispose(): void {
    for (const c of this.contexts.values()) {
      if (c.timer !== undefined) clearTimeout(c.timer);
      if (c.verifyTimer !== undefined) clearTimeout(c.verifyTimer);
    }
  }
}
