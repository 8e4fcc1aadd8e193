/**
 * cache/add-url-without-checksum: `ADD https://…` without `--checksum` is revalidated with the
 * server on every build, and whether it hits cannot be known before building; `ADD` of a git
 * repository without a pinned commit follows a moving branch.
 */

import { flagValue } from '../parser';
import { analyzeStages, copyInfo, isGitUrl, isUrl, kw } from './model';
import { headRange } from './text';
import type { Rule, RuleDiagnostic } from './types';

export const ID = 'cache/add-url-without-checksum';

/** The ref a git source is pinned to: the `#ref[:subdir]` fragment or a `?ref=`/`?commit=` query. */
function gitRef(src: string): string | undefined {
  const hash = src.indexOf('#');
  if (hash >= 0) return src.slice(hash + 1).split(':')[0];
  const q = /[?&](?:commit|ref)=([^&]+)/.exec(src);
  return q?.[1];
}

const isCommit = (ref: string | undefined): boolean => ref !== undefined && /^[0-9a-f]{40}([0-9a-f]{24})?$/i.test(ref);

export const addUrlWithoutChecksum: Rule = {
  id: ID,
  title: 'ADD of a URL without --checksum (or of a git repository without a pinned commit) is never predictable.',
  defaultSeverity: 'warning',
  check(ctx) {
    const out: Array<Omit<RuleDiagnostic, 'rule' | 'severity'>> = [];
    for (const info of analyzeStages(ctx.stages)) {
      for (const inst of info.stage.commands) {
        if (kw(inst) !== 'ADD') continue;
        const c = copyInfo(inst);
        if (c === undefined || c.heredoc) continue;
        const checksum = flagValue(inst, 'checksum');
        for (const src of c.sources) {
          if (isGitUrl(src)) {
            if (isCommit(gitRef(src)) || (checksum !== undefined && isCommit(checksum))) continue;
            const ref = gitRef(src);
            out.push({
              range: headRange(inst),
              message: `\`ADD ${src}\` follows ${ref === undefined || ref === '' ? 'the default branch' : `\`${ref}\``}, which moves: BuildKit asks the remote on every build, and each new commit reruns this step and every step after it. Pin a commit: \`ADD ${src.replace(/#.*$/, '')}#<40-hex commit> …\`.`,
              fixes: [],
            });
            break;
          }
          if (isUrl(src) && checksum === undefined) {
            out.push({
              range: headRange(inst),
              message: `\`ADD ${src}\` has no --checksum: BuildKit revalidates it with the server on every build, so whether it (and every step after it) comes from the cache cannot be known before building, and a changed download reruns them. Pin it: \`ADD --checksum=sha256:<digest> ${src} …\` (digest from \`curl -sL ${src} | sha256sum\`).`,
              fixes: [],
            });
            break;
          }
        }
      }
    }
    return out;
  },
};
