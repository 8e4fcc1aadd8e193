/**
 * What the benchmarks share: options, the generated contexts (made once, deleted at the end),
 * the test engine (started once), temporary folders, a stand-in image resolver and a predictor
 * with a recorded build.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ContextSnapshot } from '../../server/src/cache/contextHash';
import { ManifestStore } from '../../server/src/cache/manifest';
import { Predictor, buildConfig, type PredictionRun } from '../../server/src/cache/predictor';
import type { ImageInfo } from '../../server/src/cache/steps';
import type { BuildConfig } from '../../server/src/cache/types';
import { engineEnv } from './buildkit';
import { dropCaches, generateContext, type GeneratedContext } from './context';

export interface SuiteOptions {
  /** Context sizes (files) of the checksum benchmark; the largest is "the big context". */
  files: number[];
  /** Bytes of the largest context; smaller ones get the same bytes per file. */
  bytes: number;
  /** Runs per measure instead of each benchmark's default. */
  runs: number | undefined;
  buildkit: boolean;
  /** Where contexts are generated. */
  tmp: string;
  keep: boolean;
}

export class Suite {
  private readonly contexts = new Map<number, GeneratedContext>();
  /** Every context generated in this run, also those removed since. */
  private readonly made: GeneratedContext[] = [];
  private engine: Promise<{ env: NodeJS.ProcessEnv } | { error: string }> | undefined;
  private readonly temps: string[] = [];
  readonly root: string;
  /** Whether `echo 3 > /proc/sys/vm/drop_caches` works here (tried once). */
  readonly canDropCaches: boolean;

  constructor(readonly options: SuiteOptions) {
    this.root = fs.mkdtempSync(path.join(options.tmp, 'dcl-bench-'));
    this.canDropCaches = dropCaches();
  }

  log(message: string): void {
    process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
  }

  runs(defaultRuns: number): number {
    return this.options.runs ?? defaultRuns;
  }

  bytesFor(files: number): number {
    const max = Math.max(...this.options.files);
    return Math.round((this.options.bytes * files) / max);
  }

  get bigFiles(): number {
    return Math.max(...this.options.files);
  }

  /** The generated context of `files` files (made on first use). */
  context(files: number): GeneratedContext {
    let c = this.contexts.get(files);
    if (c === undefined) {
      const bytes = this.bytesFor(files);
      this.log(`generating a context of ${files} files, ${(bytes / 1e6).toFixed(0)} MB…`);
      c = generateContext(path.join(this.root, `ctx-${files}`), files, bytes);
      this.log(`generated in ${(c.generationMs / 1000).toFixed(1)} s (${c.dirs} folders, ${c.small} small, ${c.medium} medium, ${c.large} large files)`);
      this.contexts.set(files, c);
      this.made.push(c);
    }
    return c;
  }

  generated(): GeneratedContext[] {
    return [...this.made];
  }

  /** Removes a context (to make room for the next one). */
  dropContext(files: number): void {
    const c = this.contexts.get(files);
    if (c === undefined || this.options.keep) return;
    fs.rmSync(c.dir, { recursive: true, force: true });
    this.contexts.delete(files);
  }

  engineEnv(): Promise<{ env: NodeJS.ProcessEnv } | { error: string }> {
    this.engine ??= engineEnv();
    return this.engine;
  }

  temp(prefix: string): string {
    const d = fs.mkdtempSync(path.join(this.root, prefix));
    this.temps.push(d);
    return d;
  }

  cleanup(): void {
    if (this.options.keep) {
      this.log(`kept ${this.root}`);
      return;
    }
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

/** Every base image resolves to the same stand-in: no engine needed to predict. */
export function standInImages(refs: readonly string[]): Promise<Map<string, ImageInfo>> {
  return Promise.resolve(new Map(refs.map((r) => [r, { id: 'sha256:' + 'b'.repeat(64), env: [], workdir: '', user: '', shell: undefined }])));
}

/**
 * A predictor over `ctx` whose manifest holds one build of `text` with every step cached. The
 * first prediction scans the context with the predictor's own hasher, unless `snapshot` is given.
 */
export async function predictorWithHistory(suite: Suite, ctx: GeneratedContext, text: string, name = 'Dockerfile', snapshot?: ContextSnapshot): Promise<{ predictor: Predictor; store: ManifestStore; config: BuildConfig; first: PredictionRun; manifests: string }> {
  const manifests = suite.temp('manifests-');
  const dockerfile = path.join(ctx.dir, name);
  fs.writeFileSync(dockerfile, text);
  const config = buildConfig({ dockerfile, context: ctx.dir, builder: 'bench' });
  const store = new ManifestStore(manifests);
  const predictor = new Predictor({ store, images: standInImages });
  const first = await predictor.run(config, text, { snapshot });
  await predictor.record(first, {
    success: true,
    durationMs: 60_000,
    vertices: first.result.steps.map((p) => ({
      name: p.step.vertex, digest: `sha256:${String(p.step.index)}`, cached: false, durationMs: 1000, started: true, completed: true, error: undefined, logTail: [],
    })),
  });
  return { predictor, store, config, first, manifests };
}
