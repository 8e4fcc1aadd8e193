/**
 * The status bar's text, read from the language server's code lenses: the stage summary lenses
 * say `N of M steps cached · rebuild ~X · last built …` (server/src/features/codeLens.ts). Nothing
 * is added to the protocol: the titles are parsed. No `vscode` here.
 */

import { formatDuration } from './buildFlow';

export interface LensSummary {
  /** Still hashing the build context: no counts yet. */
  hashing: boolean;
  cached: number;
  total: number;
  /** Sum of the stages' rebuild estimates (ms); 0 when nothing rebuilds or nothing is known. */
  rebuildMs: number;
  neverBuilt: boolean;
}

const SUMMARY = /^(\d+) of (\d+) steps cached(.*)$/;

/** `<0.1 s`, `4.2 s`, `40 s`, `2 min 5 s` (formatSeconds of the server) in ms; undefined if unreadable. */
export function parseSeconds(text: string): number | undefined {
  const t = text.trim();
  if (t === '<0.1 s') return 50;
  const min = /^(\d+) min (\d+) s$/.exec(t);
  if (min !== null) return (Number(min[1]) * 60 + Number(min[2])) * 1000;
  const s = /^(\d+(?:\.\d+)?) s$/.exec(t);
  if (s !== null) return Math.round(Number(s[1]) * 1000);
  return undefined;
}

/** From the lens titles of one document; undefined when there is no summary lens (lenses off, no stage). */
export function summarizeLenses(titles: readonly string[]): LensSummary | undefined {
  let found = false;
  const sum: LensSummary = { hashing: false, cached: 0, total: 0, rebuildMs: 0, neverBuilt: false };
  for (const title of titles) {
    if (title.includes('hashing build context')) {
      sum.hashing = true;
      found = true;
      continue;
    }
    const m = SUMMARY.exec(title);
    if (m === null) continue;
    found = true;
    sum.cached += Number(m[1]);
    sum.total += Number(m[2]);
    for (const part of (m[3] ?? '').split(' · ')) {
      const rebuild = /^rebuild ~(.*)$/.exec(part.trim());
      if (rebuild?.[1] !== undefined) sum.rebuildMs += parseSeconds(rebuild[1]) ?? 0;
      if (part.trim() === 'never built') sum.neverBuilt = true;
    }
  }
  return found ? sum : undefined;
}

/** `$(zap) 5/7 cached · ~40 s` */
export function statusText(s: LensSummary): string {
  if (s.hashing && s.total === 0) return '$(sync~spin) hashing context…';
  return `$(zap) ${s.cached}/${s.total} cached${s.rebuildMs > 0 ? ` · ~${formatDuration(s.rebuildMs)}` : ''}`;
}

export function statusTooltip(s: LensSummary): string {
  if (s.hashing && s.total === 0) return 'Dockerfile Cache Lens: reading the build context';
  const rebuild = s.rebuildMs > 0 ? `, about ${formatDuration(s.rebuildMs)} to rebuild the rest` : '';
  return `Dockerfile Cache Lens: ${s.cached} of ${s.total} steps predicted cached${rebuild}${s.neverBuilt ? ' (never built with this configuration)' : ''}. Click to build the image.`;
}
