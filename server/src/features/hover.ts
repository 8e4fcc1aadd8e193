/** Hover on an instruction: its prediction and the inputs of its cache key, in words. */

import { MarkupKind, type Hover, type Position } from 'vscode-languageserver-types';
import type { DockerfileAST, Instruction } from '../parser';
import type { StepPrediction } from '../cache/predict';
import type { DocumentPrediction } from '../session';
import { formatSeconds } from './codeLens';

const METADATA = new Set(['label', 'cmd', 'entrypoint', 'expose', 'volume', 'healthcheck', 'stopsignal', 'onbuild', 'maintainer']);
const STATE = new Map([
  ['env', 'sets the environment of every later RUN in this stage: changing it reruns those RUN steps (not COPY or WORKDIR).'],
  ['arg', 'puts its value into the environment of every later RUN in this stage, used or not: a new value reruns them.'],
  ['user', 'sets the user of later RUN and WORKDIR steps: changing it reruns them.'],
  ['shell', 'changes the command line of later shell-form RUN steps: changing it reruns them.'],
]);

function contains(inst: Instruction, pos: Position): boolean {
  const { start, end } = inst.range;
  if (pos.line < start.line || pos.line > end.line) return false;
  if (pos.line === start.line && pos.character < start.character) return false;
  return !(pos.line === end.line && pos.character > end.character);
}

const ICON: Record<StepPrediction['prediction'], string> = { hit: '✓ cached', miss: '↻ rebuilds', unknown: '? unknown', skipped: '– skipped' };

function code(s: string): string {
  const t = s.length > 120 ? s.slice(0, 117) + '...' : s;
  return '`' + t.replace(/`/g, "'") + '`';
}

function inputsInWords(p: StepPrediction): string[] {
  const i = p.step.inputs;
  const out: string[] = [];
  switch (p.step.kind) {
    case 'from':
      out.push(`base image ${code(i.base ?? '')}${i.platform === undefined ? '' : ` for ${i.platform}`}; BuildKit keys it by the image the tag resolves to, so a moved tag rebuilds everything after it`);
      break;
    case 'run': {
      out.push(`command ${code(p.step.instruction.original.trim())}${i.shell !== undefined && !p.step.instruction.json ? ` run by ${code(i.shell.join(' '))}` : ''}`);
      const args = Object.entries(i.args ?? {});
      if (args.length > 0) out.push(`build args in scope: ${args.map(([k, v]) => code(`${k}=${v}`)).join(', ')} (every declared ARG reaches every later RUN)`);
      const env = (i.env ?? []).filter(([k]) => !(k in (i.args ?? {})));
      if (env.length > 0) out.push(`environment: ${env.slice(0, 8).map(([k, v]) => code(`${k}=${v}`)).join(', ')}${env.length > 8 ? ` and ${env.length - 8} more` : ''}`);
      out.push(`working directory ${code(i.workdir ?? '/')}, user ${code(i.user === undefined || i.user === '' ? 'root' : i.user)}`);
      if (i.network !== undefined && i.network !== 'default') out.push(`network ${code(i.network)}`);
      if (i.security !== undefined && i.security !== 'sandbox') out.push(`security ${code(i.security)}`);
      const mounts = p.step.instruction.flags.filter((f) => f.name === 'mount').map((f) => f.flagValue ?? '');
      if (mounts.length > 0) out.push(`mounts: ${mounts.map(code).join(', ')} (bind and from= mounts by content; cache, secret, ssh and tmpfs contents never count)`);
      break;
    }
    case 'copy':
    case 'add': {
      const sel = p.step.selection;
      if (i.from !== undefined) out.push(`files read from ${i.from.map(([f]) => code(f)).join(', ')}, compared by content`);
      else if (sel !== undefined) {
        const count = sel.count ?? sel.files.length;
        out.push(`content of ${count} file(s) and folder(s) from the build context after .dockerignore (mode, size and content; not modification times)`);
        if (count > 0 && count <= 5) out.push(`files: ${sel.files.map((f) => code(f.path)).join(', ')}`);
      }
      out.push(`destination and flags of ${code(p.step.instruction.original.trim())}`);
      break;
    }
    case 'workdir':
      out.push(`the directory ${code(i.workdir ?? '')} and the user creating it; the environment does not count`);
      break;
  }
  return out;
}

export function hover(ast: DockerfileAST, prediction: DocumentPrediction | undefined, pos: Position): Hover | null {
  const inst = ast.instructions.find((x) => contains(x, pos));
  if (inst === undefined) return null;
  const kw = inst.keyword.toLowerCase();
  const lines: string[] = [];
  if (METADATA.has(kw)) {
    lines.push(`**${kw.toUpperCase()}** changes the image configuration only: it never affects the build cache under BuildKit.`,
      '', 'With the legacy builder (`DOCKER_BUILDKIT=0`) every instruction is a cache step: a change here would rerun every step after it in the stage.');
  } else if (STATE.has(kw)) {
    lines.push(`**${kw.toUpperCase()}** makes no build step of its own; it ${STATE.get(kw) ?? ''}`);
  }
  if (prediction?.status === 'hashing') lines.push('', `Hashing the build context… ${prediction.done} / ${prediction.total} files`);
  if (prediction?.status === 'ready') {
    // The prediction parsed the same text itself: match its steps by position.
    const p = prediction.run.result.steps.find((s) => s.step.instruction.range.start.line === inst.range.start.line
      && s.step.instruction.range.start.character === inst.range.start.character);
    if (p !== undefined) {
      if (lines.length > 0) lines.push('');
      const est = p.prediction === 'miss' && p.estimatedMs !== undefined ? ` (~${formatSeconds(p.estimatedMs)} last time)` : '';
      lines.push(`**${ICON[p.prediction]}**${p.prediction === 'hit' ? '' : ` — ${p.reason}`}${est}`);
      for (const d of p.details.slice(0, 12)) lines.push(`- ${d}`);
      if (p.details.length > 12) lines.push(`- … and ${p.details.length - 12} more`);
      lines.push('', `BuildKit shows this step as ${code(p.step.vertex)}. Its cache key covers:`);
      for (const w of inputsInWords(p)) lines.push(`- ${w}`);
    }
  }
  if (lines.length === 0) return null;
  return { contents: { kind: MarkupKind.Markdown, value: lines.join('\n') }, range: inst.keywordRange };
}
