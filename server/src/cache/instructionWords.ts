/** Reading instruction arguments the way BuildKit's dispatchers do, shared by both builders' models. */

import type { Instruction } from '../parser';
import type { ImageInfo, PlanOptions } from './steps';
import type { ShellEnv, ShellLex } from '../parser/shellLex';

/** ProcessWord, keeping the word as written when it does not lex (BuildKit then fails the build anyway). */
export function tryWord(lex: ShellLex, word: string, env: ShellEnv): string {
  try {
    return lex.processWord(word, env);
  } catch {
    return word;
  }
}

/** ARG key[=value] words, as BuildKit's parseArg splits them. */
export function argPairs(inst: Instruction): Array<{ key: string; value: string | undefined }> {
  return inst.args.map((a) => {
    const eq = a.value.indexOf('=');
    return eq < 0 ? { key: a.value, value: undefined } : { key: a.value.slice(0, eq), value: a.value.slice(eq + 1) };
  });
}

/**
 * The target stage's index (builder.go: the stages after it are cut off before anything runs);
 * the last stage, with a problem, when no stage has that name.
 */
export function targetIndex(stages: ReadonlyArray<{ name: string | undefined }>, target: string | undefined, problems: string[]): number {
  const last = stages.length - 1;
  if (target === undefined || target === '') return last;
  const t = target.toLowerCase();
  const i = stages.findIndex((s) => s.name === t);
  if (i >= 0) return i;
  problems.push(`target stage "${target}" could not be found`);
  return last;
}

export function isURL(s: string): boolean {
  return /^https?:\/\//i.test(s);
}

/** A plan's image lookups, remembering which references it asked for (BuildPlan.imageRefs). */
export function imageLookup(options: PlanOptions): { lookup: (normalized: string) => ImageInfo | undefined; refs: Set<string> } {
  const refs = new Set<string>();
  return {
    refs,
    lookup: (normalized) => {
      refs.add(normalized);
      return options.images?.(normalized);
    },
  };
}
