/** An impact report for people: a terminal table, or Markdown for a pull-request comment or a CI step summary. */

import type { ImpactConfigurationInfo, ImpactReport } from '../../../shared/src/protocol';
import { formatSeconds } from '../features/codeLens';

function cost(c: ImpactConfigurationInfo): string {
  const parts: string[] = [];
  if (c.estimatedSeconds > 0) parts.push(`about ${formatSeconds(c.estimatedSeconds * 1000)} more`);
  if (c.unmeasured > 0) parts.push(`${c.unmeasured} step(s) never built here, no duration known`);
  return parts.join(', ');
}

/** `3 of 7 steps rerun`, `nothing reruns`. */
export function headline(c: ImpactConfigurationInfo): string {
  const miss = c.steps.filter((s) => s.prediction === 'miss').length;
  const unknown = c.steps.length - miss;
  if (c.steps.length === 0) return `nothing reruns (${c.total} step(s) unchanged)`;
  return `${miss} of ${c.total} step(s) rerun${unknown > 0 ? `, ${unknown} may` : ''}`;
}

function sides(r: ImpactReport): string {
  const base = r.base.revision === r.base.how ? `${r.base.how} (${r.base.commit.slice(0, 12)})` : `${r.base.revision} (${r.base.commit.slice(0, 12)})`;
  const head = r.head.commit === null ? r.head.revision : `${r.head.revision} (${r.head.commit.slice(0, 12)})`;
  return `base ${base} -> head ${head}`;
}

export function formatTable(r: ImpactReport): string {
  const lines: string[] = [`${r.dockerfile} (context ${r.context}): ${sides(r)}`];
  for (const c of r.configurations) {
    const extra = cost(c);
    lines.push('', `${c.name}: ${headline(c)}${extra === '' ? '' : ` · ${extra}`}`);
    const width = Math.min(60, Math.max(0, ...c.steps.map((s) => s.vertex.length)));
    for (const s of c.steps) {
      const est = s.estimatedSeconds !== null && s.estimatedSeconds >= 0.1 ? `  ~${formatSeconds(s.estimatedSeconds * 1000)}` : '';
      const first = s.firstInStage ? `  (first to rerun in ${s.stage})` : '';
      lines.push(`  ${s.prediction === 'miss' ? '↻' : '?'} ${s.vertex.padEnd(width)}  ${s.reason}${est}${first}`);
    }
    for (const p of c.problems) lines.push(`  ! ${p}`);
  }
  return lines.join('\n') + '\n';
}

/** A table cell: no line breaks or pipes that would end it. */
function cell(s: string): string {
  return s.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
}

function code(s: string): string {
  const t = cell(s);
  return t.includes('`') ? `\`\` ${t} \`\`` : `\`${t}\``;
}

export function formatMarkdown(r: ImpactReport): string {
  const out: string[] = [];
  for (const c of r.configurations) {
    const extra = cost(c);
    out.push(`### Cache impact: ${code(r.dockerfile)}${r.configurations.length > 1 || c.name !== 'default' ? ` (${cell(c.name)})` : ''}`, '');
    out.push(`${cell(sides(r))}: **${headline(c)}**${extra === '' ? '' : `, ${extra}`}.`, '');
    if (c.steps.length > 0) {
      out.push('| Step | Why | Time |', '|---|---|---|');
      for (const s of c.steps) {
        const step = `${code(s.vertex)}${s.firstInStage ? ` (first in ${code(s.stage)})` : ''}`;
        const why = `${s.prediction === 'unknown' ? 'may rerun: ' : ''}${cell(s.reason)}`;
        const time = s.estimatedSeconds === null ? '–' : `~${formatSeconds(s.estimatedSeconds * 1000)}`;
        out.push(`| ${step} | ${why} | ${time} |`);
      }
      out.push('');
    }
    for (const p of c.problems) out.push(`> ${cell(p)}`, '');
  }
  return out.join('\n');
}
