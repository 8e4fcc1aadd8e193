/** The status bar's words for an impact report (pure: no VS Code here, so unit tests read it). */

import type { ImpactReport } from '../../shared/src/protocol';

const MAX_TEXT = 40;

function shorten(s: string): string {
  return s.length <= MAX_TEXT ? s : `${s.slice(0, MAX_TEXT - 1)}…`;
}

/** `main`, or the short commit when no default branch decided the base. */
export function sinceLabel(r: ImpactReport): string {
  return r.base.branch ?? r.base.revision.slice(0, 12);
}

/**
 * `since main: RUN npm ci reruns (+2)`: the first RUN that reruns (what costs time), else the
 * first step; `since main: nothing reruns`.
 */
export function impactStatusText(r: ImpactReport): string {
  const steps = r.configurations[0]?.steps.filter((s) => s.prediction === 'miss') ?? [];
  const since = `since ${sinceLabel(r)}`;
  if (steps.length === 0) return `${since}: nothing reruns`;
  const shown = steps.find((s) => s.instruction === 'RUN') ?? steps[0];
  const more = steps.length - 1;
  return `${since}: ${shorten(shown?.text ?? '')} reruns${more > 0 ? ` (+${more})` : ''}`;
}

export function impactStatusTooltip(r: ImpactReport): string {
  const c = r.configurations[0];
  const lines = [`Cache impact of the change since ${r.base.how} (${r.base.commit.slice(0, 12)}), ${r.head.revision}:`];
  for (const s of c?.steps ?? []) lines.push(`${s.prediction === 'miss' ? '↻' : '?'} ${s.vertex} — ${s.reason}`);
  if ((c?.steps.length ?? 0) === 0) lines.push('no step reruns');
  lines.push('', 'Click to compare with another branch.');
  return lines.join('\n');
}
