/** What a Dockerfile should show, read from its text: which lines are build steps. */

const STEP = /^\s*(FROM|RUN|COPY|ADD|WORKDIR)\s/i;
const HEREDOC = /<<-?\s*["']?([A-Za-z_][A-Za-z0-9_]*)["']?/g;

/**
 * The 1-based lines that start a build step (FROM, RUN, COPY, ADD, WORKDIR: the instructions
 * BuildKit makes a cache step of), skipping continuation lines and heredoc bodies.
 */
export function stepLines(text: string): number[] {
  const lines = text.split(/\r?\n/);
  const out: number[] = [];
  let continued = false;
  const heredocs: string[] = [];
  lines.forEach((raw, i) => {
    if (heredocs.length > 0) {
      if (raw.trim() === heredocs[0]) heredocs.shift();
      return;
    }
    if (!continued && STEP.test(raw)) out.push(i + 1);
    if (!continued && !/^\s*#/.test(raw)) for (const m of raw.matchAll(HEREDOC)) if (m[1] !== undefined) heredocs.push(m[1]);
    continued = /\\\s*$/.test(raw) && !/^\s*#/.test(raw);
  });
  return out;
}

/** The 1-based lines of the FROM instructions (each stage's summary lens shares its line). */
export function fromLines(text: string): number[] {
  return stepLines(text).filter((n) => /^\s*FROM\s/i.test(text.split(/\r?\n/)[n - 1] ?? ''));
}
