/**
 * cache/add-instead-of-copy: `ADD` of local files that are not archives does what `COPY` does,
 * but reads as if it might download or unpack. Fix: say COPY.
 */

import { flagValues } from '../parser';
import { analyzeStages, contextPath, copyInfo, isContextDir, isGitUrl, isUrl, kw } from './model';
import { headRange, keywordLike } from './text';
import type { Rule, RuleDiagnostic } from './types';

export const ID = 'cache/add-instead-of-copy';

/** Names ADD may unpack (BuildKit sniffs the content; these are the names archives go by). */
const ARCHIVE = /\.(tar|tgz|taz|tbz|tbz2|tb2|txz|tlz|tzst|tz|gz|bz2|xz|lz|lzma|lz4|zst|z|Z)$/i;
const ADD_ONLY_FLAGS = ['checksum', 'keep-git-dir', 'unpack'];

/** A source that ADD copies as-is: a directory, or a file whose name is neither an archive's nor extension-less. */
function copiesAsIs(src: string, files: ReadonlySet<string> | undefined): boolean {
  if (isUrl(src) || isGitUrl(src) || src.includes('$') || /[*?[]/.test(src)) return false;
  if (isContextDir(src, files)) return true;
  const name = contextPath(src).split('/').pop() ?? '';
  if (ARCHIVE.test(name)) return false;
  // Dotfiles (`.npmrc`) are configuration; other names without an extension (`rootfs`, `payload`)
  // could be a tar that ADD would unpack.
  if (/^\.[^.]+$/.test(name)) return true;
  return /.\.[A-Za-z0-9]+$/.test(name);
}

export const addInsteadOfCopy: Rule = {
  id: ID,
  title: 'ADD of local files that are not archives: COPY does the same, plainly.',
  defaultSeverity: 'info',
  check(ctx) {
    const out: Array<Omit<RuleDiagnostic, 'rule' | 'severity'>> = [];
    for (const info of analyzeStages(ctx.stages)) {
      for (const inst of info.stage.commands) {
        if (kw(inst) !== 'ADD') continue;
        const c = copyInfo(inst);
        if (c === undefined || c.heredoc || c.fromOther) continue;
        if (ADD_ONLY_FLAGS.some((f) => flagValues(inst, f).length > 0)) continue;
        if (!c.sources.every((s) => copiesAsIs(s, ctx.contextFiles))) continue;
        out.push({
          range: headRange(inst),
          message: `\`${inst.keyword}\` of local files that are not archives does what COPY does. COPY makes plain that nothing is downloaded or unpacked: ADD unpacks a source that turns out to be an archive, and fetches and revalidates URLs on every build.`,
          fixes: [{
            title: `Use ${keywordLike(inst.keyword, 'COPY')}`,
            edits: [{ range: inst.keywordRange, newText: keywordLike(inst.keyword, 'COPY') }],
            isPreferred: true,
          }],
        });
      }
    }
    return out;
  },
};
