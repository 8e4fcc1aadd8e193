/** BuildKit's parser directives (`# syntax=`, `# escape=`, `# check=`), only at the top of the file. */

// Go's RE2 `\s` is [\t\n\f\r ], narrower than JavaScript's.
const DIRECTIVE = /^([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*$/;
const VALID = new Set(['syntax', 'escape', 'check']);

export interface DirectiveLine {
  directive?: { name: string; value: string };
  error?: string;
}

/** Mirrors BuildKit's DirectiveParser: the first line that is not a directive ends the directives. */
export class DirectiveParser {
  private done = false;
  private readonly seen = new Set<string>();

  /** `line`: the line without its line ending and leading blanks. */
  parseLine(line: string): DirectiveLine {
    if (this.done) return {};
    if (!line.startsWith('#')) {
      this.done = true;
      return {};
    }
    const m = DIRECTIVE.exec(line.slice(1).replace(/^\s+/, ''));
    const name = m?.[1]?.toLowerCase();
    if (m === null || name === undefined || !VALID.has(name)) {
      this.done = true;
      return {};
    }
    if (this.seen.has(name)) return { error: `only one ${name} parser directive can be used` };
    this.seen.add(name);
    return { directive: { name, value: m[2] ?? '' } };
  }
}
