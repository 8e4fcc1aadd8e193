/**
 * Cache-order rules: pure functions of the parsed Dockerfile, the build context's file list and
 * the recorded builds, returning diagnostics with safe fixes.
 */

import type { DockerfileAST, Range } from '../parser';
import type { DockerfileStages } from '../parser';
import type { StepRecord } from '../cache/types';

export type RuleSeverity = 'error' | 'warning' | 'info' | 'hint';

export interface RuleContext {
  ast: DockerfileAST;
  stages: DockerfileStages;
  /** The Dockerfile's text (fixes keep comments, continuation lines and indentation). */
  text: string;
  /**
   * Relative paths (with `/`) of every file and directory BuildKit would receive, after
   * `.dockerignore`; undefined when the context has not been read yet (rules that need it stay quiet).
   */
  contextFiles: ReadonlySet<string> | undefined;
  /** The ignore file in effect (absolute path) and its patterns; undefined when there is none. */
  dockerignore: { path: string; patterns: readonly string[] } | undefined;
  /** Where a new `.dockerignore` would go (the context root), absolute. */
  contextRoot: string | undefined;
  /**
   * Recorded steps of earlier builds of this Dockerfile, newest first. `time` (the ISO time of the
   * build that last ran the step, as the manifest store's known keys carry it) groups them into builds.
   */
  history: ReadonlyArray<StepRecord & { time?: string }>;
}

/** A text edit in the Dockerfile, or the creation/extension of another file (a `.dockerignore`). */
export interface FixEdit {
  /** Absolute path of another file; undefined for the Dockerfile itself. */
  file?: string;
  /** Replace this range (Dockerfile) ... */
  range?: Range;
  /** ... or, for another file: create it with / append to it this text. */
  newText: string;
}

export interface RuleFix {
  title: string;
  edits: FixEdit[];
  /** The fix VS Code applies with "Fix all" / the light bulb's first choice. */
  isPreferred?: boolean;
  /**
   * Why `lint --fix` leaves this fix out unless its rule is named (`--fix-rule ID`): it changes the
   * image (a `.dockerignore` keeps files out of it) or it is only a suggestion. Never preferred.
   */
  onRequest?: string;
  /**
   * The fix reruns the same steps after a source edit, each cheaper: a download moved into a cached
   * step of its own (`go mod download` before `go build`), not a step taken out of the rerun.
   */
  cheaperReruns?: boolean;
}

export interface RuleDiagnostic {
  rule: string;
  range: Range;
  /** Says what it costs: "every change to any file reruns `RUN npm ci`". */
  message: string;
  severity: RuleSeverity;
  fixes: RuleFix[];
  /**
   * From the rule: advice rather than a cache-busting order (no .dockerignore, but nothing in the
   * context to keep out of it): shown as a hint, whatever the rule's severity.
   */
  hint?: boolean;
}

export interface Rule {
  /** Stable id, e.g. `cache/copy-all-before-install`. */
  id: string;
  /** One line for the docs and the settings. */
  title: string;
  defaultSeverity: RuleSeverity;
  check(ctx: RuleContext): Array<Omit<RuleDiagnostic, 'rule' | 'severity'>>;
}
