/**
 * The cache-order rules: each a pure function of the parsed Dockerfile, the context's file list and
 * the recorded builds, with fixes that keep the image the same.
 */

import { addInsteadOfCopy } from './addInsteadOfCopy';
import { addUrlWithoutChecksum } from './addUrlWithoutChecksum';
import { aptUpdateSeparate } from './aptUpdateSeparate';
import { argDeclaredEarly } from './argDeclaredEarly';
import { contextNotIgnored } from './contextNotIgnored';
import { copyAllBeforeInstall } from './copyAllBeforeInstall';
import { copyBeforeSystemInstall } from './copyBeforeSystemInstall';
import { packageCacheMount } from './packageCacheMount';
import { DocText } from './text';
import type { Rule, RuleContext, RuleDiagnostic, RuleFix, RuleSeverity } from './types';
import { volatileStepEarly } from './volatileStepEarly';

export type { Rule, RuleContext, RuleDiagnostic, RuleFix, RuleSeverity, FixEdit } from './types';

export const RULES: Rule[] = [
  copyAllBeforeInstall,
  copyBeforeSystemInstall,
  argDeclaredEarly,
  addUrlWithoutChecksum,
  addInsteadOfCopy,
  contextNotIgnored,
  volatileStepEarly,
  aptUpdateSeparate,
  packageCacheMount,
];

/**
 * Runs every rule not turned off. `severities` maps a rule id to its severity or `'off'`; rules not
 * named keep their default. A rule that throws on odd input reports nothing rather than hiding the others.
 */
export function runRules(ctx: RuleContext, severities: Record<string, RuleSeverity | 'off'> = {}): RuleDiagnostic[] {
  const out: RuleDiagnostic[] = [];
  for (const rule of RULES) {
    const severity = Object.hasOwn(severities, rule.id) ? severities[rule.id] : rule.defaultSeverity;
    if (severity === undefined || severity === 'off') continue;
    let found: ReturnType<Rule['check']>;
    try {
      found = rule.check(ctx);
    } catch {
      continue;
    }
    for (const d of found) out.push({ ...d, rule: rule.id, severity: d.hint === true && severity !== 'hint' ? 'hint' : severity });
  }
  out.sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character || a.rule.localeCompare(b.rule));
  return out;
}

/**
 * The fix `lint --fix` applies for a diagnostic: its preferred fix, else its first, leaving out fixes
 * marked `onRequest` unless the diagnostic's rule is among `asked` (`--fix-rule`). With `asked`, only
 * those rules are fixed.
 */
export function fixToApply(d: RuleDiagnostic, asked: ReadonlySet<string> | undefined): RuleFix | undefined {
  if (asked !== undefined && !asked.has(d.rule)) return undefined;
  const offered = asked !== undefined ? d.fixes : d.fixes.filter((f) => f.onRequest === undefined);
  return offered.find((f) => f.isPreferred === true) ?? offered[0];
}

/**
 * Applies the Dockerfile edits of a fix to `text` (edits of other files, such as a new
 * `.dockerignore`, are left out). Ranges are LSP positions and must not overlap; edits at the same
 * position apply in their order. New lines take the file's line break.
 */
export function applyFix(text: string, fix: RuleFix): string {
  const doc = new DocText(text);
  const edits = fix.edits
    .map((e, i) => ({ e, i }))
    .filter(({ e }) => e.file === undefined && e.range !== undefined)
    .map(({ e, i }) => {
      const range = e.range ?? { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
      return { start: doc.offsetAt(range.start), end: doc.offsetAt(range.end), newText: withEol(e.newText, doc.eol), i };
    })
    .sort((a, b) => a.start - b.start || a.i - b.i);
  let out = '';
  let cursor = 0;
  for (const e of edits) {
    if (e.start < cursor || e.end < e.start) throw new RangeError(`overlapping edits in fix "${fix.title}"`);
    out += text.slice(cursor, e.start) + e.newText;
    cursor = e.end;
  }
  return out + text.slice(cursor);
}

/** Lone `\n` in inserted text becomes the file's line break (`\r\n` files stay `\r\n`). */
function withEol(s: string, eol: string): string {
  return eol === '\n' ? s : s.replace(/\r\n|\r|\n/g, eol);
}
