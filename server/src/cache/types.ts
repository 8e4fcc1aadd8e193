import type { BuildVertex } from '../../../shared/src/protocol';

/**
 * The vocabulary of the cache model, shared by the step model, the context hasher, the manifest
 * store, the predictor and the build runner.
 */

/** What BuildKit did with one vertex, read from its `--progress=rawjson` output (the client sends the same). */
export type VertexResult = BuildVertex;

/** One file or directory of the build context, after `.dockerignore`. */
export interface ContextEntry {
  /** Relative path with `/` separators, no leading `./`. */
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'other';
  /** Permission and type bits as `fs.Stats.mode`. */
  mode: number;
  size: number;
  /** sha256 hex of the entry's header (mode, size, type, link target) and content; directories: of their own header. */
  hash: string;
  linkTarget: string | undefined;
  /** Files and links whose hash the next snapshot may reuse: lstat's size, mtime and inode when hashed. */
  statSize?: number;
  mtimeMs?: number;
  ino?: number;
}

/** The prediction for one step. */
export type Prediction = 'hit' | 'miss' | 'unknown' | 'skipped';

/** What the user chose for a build: the identity of a build configuration. */
export interface BuildConfig {
  /** Absolute path of the Dockerfile. */
  dockerfile: string;
  /** Absolute path of the build context directory. */
  context: string;
  target: string | undefined;
  buildArgs: Record<string, string>;
  platform: string | undefined;
  /** Which builder the cache lives in: DOCKER_HOST / docker context / buildx builder, as one string. */
  builder: string;
  engine: 'buildkit' | 'legacy';
}

/** The inputs of one step's cache key, kept so that a later miss can say what changed. */
export interface StepInputs {
  /** The instruction as BuildKit sees it (logical line, continuation lines joined). */
  text: string;
  /** RUN: the environment of the step (image ENV, ENV, ARGs with values), in order. */
  env?: Array<[string, string]>;
  /** Build args in scope with their values (for reasons such as `ARG VERSION changed 1.2 -> 1.3`). */
  args?: Record<string, string>;
  workdir?: string;
  user?: string;
  shell?: string[];
  network?: string;
  security?: string;
  platform?: string;
  /** COPY/ADD/bind mounts from the context: BuildKit's content checksum of what was selected. */
  filesChecksum?: string;
  /**
   * Recorded builds: the selected files, relative path -> entry hash (or its first 16 hex digits),
   * inline for a few files; for many, `filesRef` names a list kept beside the manifest.
   */
  files?: Record<string, string>;
  filesRef?: string;
  fileCount?: number;
  /** FROM: the image reference and what it resolved to. */
  base?: string;
  /** COPY --from / RUN --mount from=: the stage (or image) read, and its final key. */
  from?: Array<[string, string]>;
}

export type StepResult = 'cached' | 'built' | 'failed' | 'not-run';

/** One step of a recorded build. */
export interface StepRecord {
  key: string;
  parentKey: string | undefined;
  /** BuildKit's progress name. */
  vertex: string;
  stage: string;
  /** 1-based first line of the instruction. */
  line: number;
  instruction: string;
  inputs: StepInputs;
  result: StepResult;
  durationMs: number | undefined;
}

export interface BuildRecord {
  /** ISO time the build finished. */
  time: string;
  engine: 'buildkit' | 'legacy';
  /** False for a failed or cancelled build: its completed steps are still in BuildKit's cache. */
  success: boolean;
  steps: StepRecord[];
  totalMs: number;
}
