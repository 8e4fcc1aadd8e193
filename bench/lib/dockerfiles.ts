/**
 * Generated Dockerfiles over a generated context (packages/pNNN/...): a 200-line, 4-stage one as a
 * real project has, and a 2,000-line, 20-stage one for the worst case. Both copy single packages,
 * wildcards and, once, the whole context (`COPY . .`), which is what makes a big context expensive.
 */

function pkg(i: number, packages: number): string {
  return `packages/p${String(i % Math.max(1, packages)).padStart(3, '0')}`;
}

/** `lines` lines in `stages` stages; every stage but the first copies from the one before. */
export function makeDockerfile(lines: number, stages: number, packages: number): string {
  const out: string[] = ['# syntax=docker/dockerfile:1', 'ARG NODE=20'];
  const perStage = Math.floor((lines - out.length) / stages);
  for (let s = 0; s < stages; s++) {
    const end = out.length + perStage;
    out.push(`FROM node:\${NODE}-alpine AS s${s}`, 'WORKDIR /app', `ARG STAGE=${s}`, `ENV STAGE_NAME=s${s} NODE_ENV=production`, 'COPY package.json ./', 'RUN --mount=type=cache,target=/root/.npm npm ci');
    if (s > 0) out.push(`COPY --from=s${s - 1} /app/dist ./prev`);
    if (s === stages - 1) out.push('COPY . .');
    for (let k = 0; out.length < end - 1; k++) {
      switch (k % 4) {
        case 0:
          out.push(`COPY ${pkg(s * 7 + k, packages)}/ ./${pkg(s * 7 + k, packages)}/`);
          break;
        case 1:
          out.push(`RUN echo "build ${s}-${k}" \\`, `    && mkdir -p dist/${k} \\`, `    && touch dist/${k}/done`);
          break;
        case 2:
          out.push(`COPY ${pkg(s * 7 + k, packages)}/src/m0*/*.ts ./src/${k}/`);
          break;
        default:
          out.push(`RUN test -d /app && echo step-${s}-${k}`);
      }
    }
    out.push(`RUN echo stage ${s} done > dist/stage-${s}`);
  }
  while (out.length < lines) out.push(`# padding ${out.length}`);
  return out.slice(0, lines).join('\n') + '\n';
}

/** The Dockerfile with one character changed in the middle: a keystroke in a RUN command. */
export function keystroke(text: string, n: number): string {
  const lines = text.split('\n');
  const runs = lines.map((l, i) => (l.startsWith('RUN test -d') ? i : -1)).filter((i) => i >= 0);
  const at = runs[Math.floor(runs.length / 2)] ?? Math.floor(lines.length / 2);
  lines[at] = `${lines[at] ?? ''}${'abcdefghijklmnopqrstuvwxyz'[n % 26] ?? 'x'}`;
  return lines.join('\n');
}
