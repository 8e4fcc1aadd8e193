/**
 * The cache report of a Dockerfile's last build (command "Show Cache Report"): every step,
 * predicted vs what BuildKit did, its duration and why it missed. Markdown, no `vscode` here.
 */

import type { BuildVertex } from '../../shared/src/protocol';
import { describeActual, formatDuration, shellQuote, type BuildFlowResult } from './buildFlow';

/** What the client keeps of the last build of one Dockerfile. */
export interface LastBuild {
  /** ISO time the build ended. */
  time: string;
  /** The Dockerfile, as the user reads it (workspace-relative when possible). */
  label: string;
  result: BuildFlowResult;
}

function cell(text: string): string {
  return text.replace(/\r?\n/g, ' ').replaceAll('|', '\\|').replaceAll('`', "'");
}

function actualOf(v: BuildVertex | undefined): string {
  if (v === undefined) return 'not run';
  if (v.error !== undefined) return 'failed';
  if (v.cached) return 'cached';
  if (v.completed) return 'built';
  if (v.started) return 'interrupted';
  return 'not run';
}

const PREDICTED: Record<string, string> = { hit: '✓ cached', miss: '↻ rebuilds', unknown: '? unknown', skipped: '– skipped' };

export function renderReport(last: LastBuild): string {
  const r = last.result;
  const out: string[] = [];
  out.push(`# Cache report: \`${last.label}\``, '');
  const status = r.status === 'succeeded' ? 'Built' : r.status === 'cancelled' ? 'Cancelled' : r.status === 'failed' ? 'Failed' : 'Not built';
  const when = new Date(last.time).toLocaleString();
  const counts = r.finished !== undefined ? ` · ${r.finished.cached} step(s) cached, ${r.finished.built} run` : '';
  out.push(`**${status}** ${when}${r.outcome !== undefined ? ` in ${formatDuration(r.outcome.durationMs)}` : ''}${counts}`, '');
  if (r.problem !== undefined) out.push(r.problem.message, '');
  if (r.error !== undefined) out.push(r.error, '');
  const plan = r.prepared?.plan;
  if (plan !== undefined) {
    const args = Object.entries(plan.buildArgs).map(([k, v]) => `${k}=${v}`).join(' ');
    out.push(
      `- Context: \`${plan.context}\``,
      `- Target: ${plan.target === undefined ? 'the last stage' : `\`${plan.target}\``}`,
      ...(args === '' ? [] : [`- Build args: \`${args}\``]),
      ...(plan.platform === undefined ? [] : [`- Platform: \`${plan.platform}\``]),
      `- Engine: ${plan.engine === 'legacy' ? 'legacy builder' : 'BuildKit'}${r.docker !== undefined ? `, Docker ${r.docker.serverVersion} at \`${r.docker.endpoint}\`, builder \`${r.docker.builderName}\` (${r.docker.builderDriver})` : ''}`,
    );
  }
  if (r.command !== undefined) out.push(`- Command: \`${shellQuote(r.command).replaceAll('`', "'")}\``);
  out.push('');
  if (r.podman) out.push('This build ran on Podman, whose layer cache is not predicted: nothing was compared or recorded.', '');

  const byName = new Map<string, BuildVertex>(r.vertices.map((v) => [v.name, v]));
  const disagreeing = new Map((r.finished?.disagreements ?? []).map((d) => [d.vertex, d]));
  if (r.prepared !== undefined) {
    out.push('## Steps', '', '| Step | Predicted | Actual | Time | Why |', '|---|---|---|---|---|');
    const afterNumber = (name: string): string => name.replace(/^\[[^\]]*\] /, '');
    for (const s of r.prepared.steps) {
      let v = byName.get(s.vertex);
      // BuildKit numbers a FROM shared by several stages its own way (`[1/3] FROM …`).
      if (v === undefined && / FROM /.test(` ${afterNumber(s.vertex)}`)) v = [...byName.values()].find((x) => afterNumber(x.name) === afterNumber(s.vertex));
      if (v !== undefined) byName.delete(v.name);
      const actual = actualOf(v);
      const d = disagreeing.get(s.vertex);
      const flag = d !== undefined && !r.comparisonSkipped ? ' ⚠' : '';
      const time = v?.cached === true ? '' : formatDuration(v?.durationMs);
      const why = s.prediction === 'hit' ? (d !== undefined ? 'predicted cached, but BuildKit ran it' : '') : s.reason;
      out.push(`| \`${cell(s.vertex)}\` | ${PREDICTED[s.prediction] ?? s.prediction} | ${actual}${flag} | ${time} | ${cell(why)} |`);
    }
    out.push('');
  }
  const others = [...byName.values()];
  if (others.length > 0) {
    out.push('## Other vertices', '', '| Vertex | Actual | Time |', '|---|---|---|');
    for (const v of others) out.push(`| \`${cell(v.name)}\` | ${actualOf(v)} | ${v.cached ? '' : formatDuration(v.durationMs)} |`);
    out.push('');
  }
  const failure = r.finished?.failure;
  if (failure !== undefined) {
    out.push('## Failure', '', `Line ${failure.line}: \`${cell(failure.vertex)}\``, '', '```text', failure.message, '```', '');
  } else if (r.status === 'failed' && r.outcome?.errorMessage !== undefined) {
    out.push('## Failure', '', '```text', r.outcome.errorMessage, '```', '');
  }
  if (r.comparisonSkipped) {
    out.push('Predictions were not compared: the build ignored the cache (--no-cache).', '');
  } else if (r.finished !== undefined) {
    out.push('## Predicted vs actual', '');
    if (r.finished.disagreements.length === 0) out.push('Every step went as predicted.');
    for (const d of r.finished.disagreements) out.push(`- \`${cell(d.vertex)}\`: predicted **${d.predicted}** (${d.reason}), but ${describeActual(d.actual)}.`);
    out.push('');
  }
  return out.join('\n');
}
