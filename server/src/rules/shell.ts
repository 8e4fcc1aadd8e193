/**
 * Just enough of a POSIX shell reader to tell what a RUN does: the simple commands of its script
 * (split on `&&`, `||`, `;`, `|`, `&` and line breaks), their words with quotes removed, their
 * redirections, and the directory `cd` left them in. Variables are kept as written.
 */

import type { Instruction } from '../parser';

export interface SimpleCommand {
  /** The words, quotes removed, leading `VAR=value` assignments and wrappers (`sudo`, `env`…) dropped. */
  argv: string[];
  /** Assignments written before the command (`CGO_ENABLED=0 go build`). */
  assignments: Array<[string, string]>;
  /** Targets of output redirections (`> file`, `>> file`); `/dev/null` and fd duplications left out. */
  writes: string[];
  /**
   * Files the command takes its words or input from: `< file`, `xargs -a file`, and the files a
   * command substitution in its words reads (`$(cat file)`, `$(< file)`).
   */
  reads: string[];
  /**
   * The directory the command runs in, relative to the RUN's working directory (`''` = there) or
   * absolute; undefined when a `cd` went somewhere unknown (`cd $DIR`, `cd -`).
   */
  cwd: string | undefined;
}

const SHELLS = new Set(['sh', 'bash', 'ash', 'dash', 'zsh', 'ksh', '/bin/sh', '/bin/bash', '/bin/ash', '/bin/dash', '/usr/bin/env']);

/**
 * The shell script a RUN executes: the shell-form command line, plus heredoc bodies that the shell
 * runs (`RUN <<EOF`, `RUN <<EOF bash`). Exec form: the arguments joined, or the `-c` script of
 * `["sh", "-c", "…"]`.
 */
export function runScript(inst: Instruction): string {
  if (inst.json) {
    const words = inst.args.map((a) => a.value);
    const first = words[0];
    if (first !== undefined && SHELLS.has(first) && words[1] === '-c' && words[2] !== undefined) return words[2];
    return words.map(shellQuote).join(' ');
  }
  let script = inst.argsText;
  if (inst.heredocs.length > 0) {
    // `<<EOF` alone, or `<<EOF bash [-ex]`: the body is the script. Otherwise (`python3 <<EOF`,
    // `cat <<EOF > f`) the body is data; only the command line counts.
    const rest = script.replace(/<<-?(["']?)[A-Za-z0-9_]+\1/g, ' ').trim();
    const words = rest.split(/\s+/).filter((w) => w !== '');
    const shellRunsBody = words.length === 0 || (SHELLS.has(words[0] ?? '') && words.slice(1).every((w) => w.startsWith('-')));
    if (shellRunsBody) script = inst.heredocs.map((h) => h.content).join('\n');
  }
  return script;
}

function shellQuote(w: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

interface Tok {
  kind: 'word' | 'op' | 'redir';
  text: string;
}

function tokenize(script: string): Tok[] {
  const out: Tok[] = [];
  let word = '';
  let inWord = false;
  const flush = (): void => {
    if (inWord) out.push({ kind: 'word', text: word });
    word = '';
    inWord = false;
  };
  let i = 0;
  const n = script.length;
  while (i < n) {
    const c = script[i] ?? '';
    if (c === '\\') {
      const next = script[i + 1];
      if (next === '\n') { i += 2; continue; }
      if (next === '\r' && script[i + 2] === '\n') { i += 3; continue; }
      if (next !== undefined) { word += next; inWord = true; }
      i += 2;
      continue;
    }
    if (c === "'") {
      const end = script.indexOf("'", i + 1);
      const stop = end < 0 ? n : end;
      word += script.slice(i + 1, stop);
      inWord = true;
      i = stop + 1;
      continue;
    }
    if (c === '"') {
      i++;
      inWord = true;
      while (i < n && script[i] !== '"') {
        if (script[i] === '\\' && i + 1 < n && '"\\$`\n'.includes(script[i + 1] ?? '')) {
          if (script[i + 1] !== '\n') word += script[i + 1];
          i += 2;
          continue;
        }
        word += script[i];
        i++;
      }
      i++;
      continue;
    }
    if (c === '$' && script[i + 1] === '(') {
      // Command substitution: kept as one word.
      let depth = 0;
      let j = i + 1;
      for (; j < n; j++) {
        if (script[j] === '(') depth++;
        else if (script[j] === ')') { depth--; if (depth === 0) break; }
      }
      word += script.slice(i, j + 1);
      inWord = true;
      i = j + 1;
      continue;
    }
    if (c === '#' && !inWord) {
      while (i < n && script[i] !== '\n') i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') { flush(); i++; continue; }
    if (c === '\n') { flush(); out.push({ kind: 'op', text: '\n' }); i++; continue; }
    if (c === '>' || c === '<') {
      // Redirection: an fd number written just before belongs to it.
      if (inWord && !/^[0-9]+$/.test(word)) flush();
      word = '';
      inWord = false;
      let op = c;
      i++;
      while (i < n && '<>&|-'.includes(script[i] ?? '') && op.length < 3) { op += script[i]; i++; }
      out.push({ kind: 'redir', text: op });
      continue;
    }
    if (c === '&' && script[i + 1] === '>') {
      flush();
      let op = '&>';
      i += 2;
      if (script[i] === '>') { op += '>'; i++; }
      out.push({ kind: 'redir', text: op });
      continue;
    }
    if (c === '&' || c === '|' || c === ';' || c === '(' || c === ')') {
      flush();
      const two = script.slice(i, i + 2);
      if (two === '&&' || two === '||' || two === ';;') { out.push({ kind: 'op', text: two }); i += 2; continue; }
      out.push({ kind: 'op', text: c });
      i++;
      continue;
    }
    word += c;
    inWord = true;
    i++;
  }
  flush();
  return out;
}

const KEYWORDS = new Set(['if', 'then', 'else', 'elif', 'do', '!', '{', 'while', 'until']);
const CLOSERS = new Set(['fi', 'done', '}', 'esac']);

/** The simple commands of a shell script, in order. */
export function simpleCommands(script: string): SimpleCommand[] {
  const toks = tokenize(script);
  const out: SimpleCommand[] = [];
  let cwd: string | undefined = '';
  let words: string[] = [];
  let writes: string[] = [];
  let reads: string[] = [];
  const end = (): void => {
    const assignments: Array<[string, string]> = [];
    let argv = words;
    for (;;) {
      const w = argv[0];
      if (w === undefined) break;
      if (KEYWORDS.has(w) || CLOSERS.has(w)) { argv = argv.slice(1); continue; }
      const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(w);
      if (m !== null) { assignments.push([m[1] ?? '', m[2] ?? '']); argv = argv.slice(1); continue; }
      if (w === 'sudo' || w === 'exec' || w === 'time' || w === 'nice' || w === 'nohup' || w === 'command' || w === 'env' || w === 'xargs') {
        argv = argv.slice(1);
        while (argv[0] !== undefined && argv[0].startsWith('-')) {
          const flag = argv[0];
          argv = argv.slice(1);
          if (w !== 'xargs') continue;
          // xargs reads its words from `-a FILE` / `--arg-file=FILE`; its other flags with a value take the next word.
          if (flag === '-a' || flag === '--arg-file') { if (argv[0] !== undefined) reads.push(argv[0]); argv = argv.slice(1); }
          else if (flag.startsWith('--arg-file=')) reads.push(flag.slice('--arg-file='.length));
          else if (/^-a./.test(flag)) reads.push(flag.slice(2));
          else if (/^-[dEeIiLlnPs]$/.test(flag)) argv = argv.slice(1);
        }
        continue;
      }
      break;
    }
    for (const word of argv) reads.push(...substitutionReads(word));
    if (argv.length > 0 || writes.length > 0) {
      out.push({ argv, assignments, writes, reads, cwd });
      if (argv[0] === 'cd') {
        const target = argv[1];
        if (target === undefined || target === '-' || target.includes('$') || target.startsWith('~')) cwd = undefined;
        else if (cwd !== undefined) cwd = joinCwd(cwd, target);
      }
    }
    words = [];
    writes = [];
    reads = [];
  };
  for (let k = 0; k < toks.length; k++) {
    const t = toks[k];
    if (t === undefined) continue;
    if (t.kind === 'op') { end(); continue; }
    if (t.kind === 'redir') {
      const target = toks[k + 1];
      if (target?.kind === 'word') {
        k++;
        const dup = t.text.endsWith('&') || t.text.startsWith('<');
        if (!dup && target.text !== '/dev/null' && !/^[0-9-]$/.test(target.text)) writes.push(target.text);
        if (t.text === '<' && target.text !== '/dev/null') reads.push(target.text);
      }
      continue;
    }
    words.push(t.text);
  }
  end();
  return out;
}

/** Files read by the command substitutions of one word: `$(cat a b)`, `$(< f)`, `$(grep -v '#' f)` is not known. */
function substitutionReads(word: string): string[] {
  const out: string[] = [];
  for (let i = word.indexOf('$('); i >= 0; i = word.indexOf('$(', i + 2)) {
    let depth = 0;
    let j = i + 1;
    for (; j < word.length; j++) {
      if (word[j] === '(') depth++;
      else if (word[j] === ')') { depth--; if (depth === 0) break; }
    }
    // The same reading of the inner script as of the outer one.
    for (const inner of simpleCommands(word.slice(i + 2, j))) {
      out.push(...inner.reads);
      if (inner.argv[0] === 'cat') out.push(...inner.argv.slice(1).filter((a) => !a.startsWith('-')));
    }
  }
  return out;
}

function joinCwd(cwd: string, target: string): string {
  if (target.startsWith('/')) return normalizePath(target);
  const joined = cwd === '' ? target : cwd.startsWith('/') ? `${cwd}/${target}` : `${cwd}/${target}`;
  const n = normalizePath(joined);
  return n === '.' ? '' : n;
}

/** POSIX normalisation without a trailing slash (`/` stays `/`, `.` for an empty relative path). */
export function normalizePath(p: string): string {
  const abs = p.startsWith('/');
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (parts.length > 0 && parts[parts.length - 1] !== '..') parts.pop();
      else if (!abs) parts.push('..');
      continue;
    }
    parts.push(seg);
  }
  const s = parts.join('/');
  return abs ? `/${s}` : s === '' ? '.' : s;
}

/** Every word of the script that refers to the variable `name` (`$NAME`, `${NAME…}`). */
export function mentionsVar(text: string, name: string): boolean {
  const re = new RegExp(`\\$(\\{${escapeRe(name)}([^A-Za-z0-9_][^}]*)?\\}|${escapeRe(name)}(?![A-Za-z0-9_]))`);
  return re.test(text);
}

export function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
