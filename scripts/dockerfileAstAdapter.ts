/**
 * An adapter from the `dockerfile-ast` npm package (the TypeScript ecosystem's Dockerfile parser) to
 * BuildKit's AST dump format (`Node.Dump`, the format of BuildKit's parser fixtures), so that it can be
 * measured against the same fixtures as our parser (see scripts/conformance-doc.ts).
 *
 * It aims to be the fairest reading of dockerfile-ast's results: for every BuildKit node it uses the
 * dockerfile-ast API with the closest meaning, and it only formats what dockerfile-ast gives (it never
 * re-parses text itself). Where dockerfile-ast has no equivalent, it does the natural thing and lets the
 * comparison show the difference. The choices, node by node (BuildKit's line parser in brackets):
 *
 * - flags (BuildKit extracts them for every instruction): `getFlags()` where the instruction class has it
 *   (FROM, RUN, ADD, COPY, HEALTHCHECK), each as `Flag.toString()` (`--name=value` / `--name`).
 * - FROM, EXPOSE, non-JSON ADD/COPY/VOLUME (whitespace-separated words, kept as written):
 *   `getArguments()` for the word boundaries, each word's source text (escapes kept, as BuildKit keeps
 *   them) with escaped line breaks removed the way dockerfile-ast joins lines (`getArgumentsRanges()`).
 * - RUN, CMD, ENTRYPOINT, SHELL (JSON or one string): when dockerfile-ast found both JSON brackets,
 *   `getJSONStrings()` → `getJSONValue()`; otherwise `getArgumentsContent()`, the argument text with
 *   continuation lines joined.
 * - USER, WORKDIR, STOPSIGNAL, MAINTAINER (one string): `getArgumentsContent()`.
 * - ENV, LABEL (key, value, separator triples): `getProperties()` → `getName()`, the value as written
 *   (`getValueRange()`, quotes and escapes kept as BuildKit keeps them, continuation lines joined as
 *   above; `getUnescapedValue()` where there is no range) and `getAssignmentOperator()` (`=` or none).
 * - ARG (words `name` / `name=value` as written): `getProperties()` → name, operator, value as above.
 * - HEALTHCHECK (type, then JSON or one string): `getSubcommand()`, then the joined text of the
 *   remaining arguments; dockerfile-ast has no JSON form for HEALTHCHECK, so it stays one string.
 * - ONBUILD (a nested instruction): `getTriggerInstruction()`, adapted recursively.
 * - RUN/ADD/COPY heredocs: BuildKit's dump leaves heredoc bodies out, so arguments from the first
 *   heredoc body on (`getHeredocs()` → `getContentRange()`) are left out too.
 * - any other keyword (BuildKit ignores its arguments): the keyword alone.
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  Arg,
  type Argument,
  Copy,
  DockerfileParser,
  Healthcheck,
  type Instruction,
  JSONInstruction,
  ModifiableInstruction,
  Onbuild,
  type Property,
  PropertyInstruction,
  Run,
} from 'dockerfile-ast';
import { goQuote } from '../server/src/parser/text';

/** The installed dockerfile-ast's version, from its package.json. */
export function dockerfileAstVersion(): string {
  const file = path.join(__dirname, '..', 'node_modules', 'dockerfile-ast', 'package.json');
  const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}

interface Pos {
  line: number;
  character: number;
}

/** Offsets of LSP positions in `text`, counting line breaks as dockerfile-ast's TextDocument does. */
class Offsets {
  private readonly starts: number[] = [0];

  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x0d && text.charCodeAt(i + 1) === 0x0a) i++;
      if (c === 0x0d || c === 0x0a) this.starts.push(i + 1);
    }
  }

  at(p: Pos): number {
    const start = this.starts[p.line];
    if (start === undefined) return this.text.length;
    return Math.min(start + p.character, this.text.length);
  }
}

/**
 * The text between two offsets as dockerfile-ast joins an instruction's continuation lines: the parts
 * of `getArgumentsRanges()` (which leave out escaped line breaks and comment lines) that fall inside.
 */
function joinedText(inst: Instruction, o: Offsets, from: number, to: number): string {
  let s = '';
  for (const r of inst.getArgumentsRanges()) {
    const a = Math.max(o.at(r.start), from);
    const b = Math.min(o.at(r.end), to);
    if (a < b) s += o.text.slice(a, b);
  }
  return s;
}

/** Arguments up to the first heredoc body, which BuildKit's dump does not show. */
function argumentsBeforeHeredocs(inst: Instruction, o: Offsets): Argument[] {
  const args = inst.getArguments();
  if (!(inst instanceof Run || inst instanceof Copy)) return args;
  const bodies = inst.getHeredocs().map((h) => h.getContentRange() ?? h.getDelimiterRange()).filter((r) => r !== null);
  if (bodies.length === 0) return args;
  const cut = Math.min(...bodies.map((r) => o.at(r.start)));
  return args.filter((a) => o.at(a.getRange().start) < cut);
}

/** The arguments' text with continuation lines joined, as `getArgumentsContent()` gives it. */
function contentOf(inst: Instruction, o: Offsets, args: Argument[]): string | undefined {
  const first = args[0];
  const last = args[args.length - 1];
  if (first === undefined || last === undefined) return undefined;
  return joinedText(inst, o, o.at(first.getRange().start), o.at(last.getRange().end));
}

/** Each argument as written (escapes kept), continuation lines joined. */
function wordsOf(inst: Instruction, o: Offsets, args: Argument[]): string[] {
  return args.map((a) => joinedText(inst, o, o.at(a.getRange().start), o.at(a.getRange().end)));
}

/**
 * A property's value as written (quotes and escapes kept, as BuildKit keeps them), continuation lines
 * joined as for the other arguments. (`getUnescapedValue()` would also drop the whitespace that starts
 * each continuation line, which BuildKit keeps.) Null when the property has no value.
 */
function valueOf(inst: Instruction, o: Offsets, p: Property): string | null {
  const r = p.getValueRange();
  if (r === null) return p.getUnescapedValue();
  return joinedText(inst, o, o.at(r.start), o.at(r.end));
}

/** JSON strings if dockerfile-ast sees the JSON form (both brackets found), else undefined. */
function jsonStrings(inst: Instruction): string[] | undefined {
  if (!(inst instanceof JSONInstruction)) return undefined;
  if (inst.getOpeningBracket() === null || inst.getClosingBracket() === null) return undefined;
  return inst.getJSONStrings().map((s) => s.getJSONValue());
}

interface DumpNode {
  keyword: string;
  flags: string[];
  child?: DumpNode;
  args: string[];
}

function adapt(inst: Instruction, o: Offsets): DumpNode {
  const keyword = inst.getInstruction();
  const flags = inst instanceof ModifiableInstruction ? inst.getFlags().map((f) => f.toString()) : [];
  const node = (args: string[], child?: DumpNode): DumpNode => (child === undefined ? { keyword, flags, args } : { keyword, flags, args, child });
  const args = argumentsBeforeHeredocs(inst, o);
  const content = (): string[] => {
    const c = contentOf(inst, o, args);
    return c === undefined ? [] : [c];
  };
  switch (keyword.toLowerCase()) {
    case 'from':
    case 'expose':
      return node(wordsOf(inst, o, args));
    case 'add':
    case 'copy':
    case 'volume':
      return node(jsonStrings(inst) ?? wordsOf(inst, o, args));
    case 'run':
    case 'cmd':
    case 'entrypoint':
    case 'shell':
      return node(jsonStrings(inst) ?? content());
    case 'user':
    case 'workdir':
    case 'stopsignal':
    case 'maintainer':
      return node(content());
    case 'env':
    case 'label':
      if (!(inst instanceof PropertyInstruction)) return node(content());
      return node(inst.getProperties().flatMap((p) => [p.getName(), valueOf(inst, o, p) ?? '', p.getAssignmentOperator() ?? '']));
    case 'arg':
      if (!(inst instanceof Arg)) return node(wordsOf(inst, o, args));
      return node(inst.getProperties().map((p) => {
        const value = valueOf(inst, o, p);
        // A value without `=` is dockerfile-ast's `name value` reading: one declaration, kept as one word.
        return p.getName() + (p.getAssignmentOperator() ?? (value === null ? '' : ' ')) + (value ?? '');
      }));
    case 'healthcheck': {
      // getSubcommand() is the first argument after the flags.
      const [first, ...rest] = args;
      const sub = inst instanceof Healthcheck ? inst.getSubcommand() : first ?? null;
      if (sub === null) return node([]);
      const cmd = contentOf(inst, o, rest);
      return node(cmd === undefined ? [sub.getValue()] : [sub.getValue(), cmd]);
    }
    case 'onbuild': {
      const trigger = inst instanceof Onbuild ? inst.getTriggerInstruction() : null;
      return trigger === null ? node([]) : node([], adapt(trigger, o));
    }
    default:
      return node([]);
  }
}

/** One node as BuildKit's `Node.Dump` writes it. */
function dumpNode(n: DumpNode): string {
  let s = n.keyword.toLowerCase();
  if (n.flags.length > 0) s += ' [' + n.flags.map(goQuote).join(' ') + ']';
  if (n.child !== undefined) s += ' (' + dumpNode(n.child) + ')';
  for (const a of n.args) s += ' ' + goQuote(a);
  return s.trim();
}

/** dockerfile-ast's parse of `text`, in BuildKit's dump format (one `(instr ...)` line each). */
export function dockerfileAstDump(text: string): string {
  const o = new Offsets(text);
  return DockerfileParser.parse(text)
    .getInstructions()
    .map((i) => '(' + dumpNode(adapt(i, o)) + ')\n')
    .join('');
}

/**
 * Whether dockerfile-ast rejects `text`. `DockerfileParser.parse` has no error channel: it returns no
 * diagnostics (validation lives in a separate package, dockerfile-utils), so the only way it could
 * reject a file is by throwing. In practice it accepts everything, so this rejects nothing.
 */
export function dockerfileAstRejects(text: string): boolean {
  try {
    DockerfileParser.parse(text);
    return false;
  } catch {
    return true;
  }
}

// ---------------------------------------------------------------------------------------------------
// Word expansion (BuildKit's shell lexer tables). dockerfile-ast has no public API that expands an
// arbitrary word, so each strategy below embeds the word in a Dockerfile, after ENV instructions
// setting the table's variables, and reads it back through one of dockerfile-ast's APIs. None of them
// can report an error: dockerfile-ast never fails.

/** Variables, in order. */
export type Env = readonly (readonly [string, string])[];

/**
 * A variable for ENV, written so that dockerfile-ast reads back exactly `value` (checked by
 * `envReadsBack`). `$` is left alone: dockerfile-ast does not expand ENV values, and it would keep the
 * escape of a `\$`.
 */
function envLine(name: string, value: string): string {
  return `ENV ${name}="${value.replace(/[\\"]/g, (c) => '\\' + c)}"\n`;
}

function envPrelude(env: Env): string {
  return 'FROM scratch\n' + env.map(([k, v]) => envLine(k, v)).join('');
}

/** The last instruction of a Dockerfile made of the env prelude and `line` (the word's line is last,
 * with no newline after it, so that a trailing escape in the word cannot join another line). */
function lastInstruction(env: Env, line: string): { inst: Instruction; o: Offsets } | undefined {
  const text = envPrelude(env) + line;
  const inst = DockerfileParser.parse(text).getInstructions().at(-1);
  return inst === undefined ? undefined : { inst, o: new Offsets(text) };
}

/** `word` with `getExpandedArguments()` of `RUN word` put back in place of its arguments. */
function expandedWord(env: Env, word: string): string | undefined {
  const found = lastInstruction(env, 'RUN ' + word);
  if (found === undefined) return undefined;
  const { inst, o } = found;
  const expanded = inst.getExpandedArguments();
  const text = o.text;
  let out = '';
  let at = o.at(inst.getInstructionRange().end) + 1; // after `RUN `
  for (const a of expanded) {
    const s = o.at(a.getRange().start);
    out += text.slice(at, s) + a.getValue();
    at = o.at(a.getRange().end);
  }
  return out + text.slice(at);
}

/** The value of `LABEL x=word` (`Property.getValue()`: quotes and escapes removed, nothing expanded). */
function labelValue(word: string): string | undefined {
  const found = lastInstruction([], 'LABEL x=' + word);
  if (found === undefined || !(found.inst instanceof PropertyInstruction)) return undefined;
  const props = found.inst.getProperties();
  const p = props[0];
  if (props.length !== 1 || p === undefined || p.getName() !== 'x') return undefined;
  return p.getValue() ?? '';
}

/** Whether dockerfile-ast's `resolveVariable` reads back exactly the values the ENV prelude sets. */
export function envReadsBack(env: Env): boolean {
  const prelude = envPrelude(env);
  const df = DockerfileParser.parse(prelude + 'RUN true');
  const line = prelude.split('\n').length - 1;
  return env.every(([k, v]) => df.resolveVariable(k, line) === v);
}

export interface LexStrategy {
  name: string;
  description: string;
  /** BuildKit's ProcessWord: one string, or undefined where dockerfile-ast gives no single answer. */
  word(word: string, env: Env): string | undefined;
  /** BuildKit's ProcessWords: a list of words. */
  words(word: string, env: Env): string[] | undefined;
}

export const lexStrategies: LexStrategy[] = [
  {
    name: 'expanded arguments',
    description: '`RUN <word>` after the ENVs; `getExpandedArguments()` (variables replaced via `resolveVariable`, quotes and escapes left as written); one word: the arguments put back into the word\'s text; words: the arguments\' values',
    word: (word, env) => expandedWord(env, word),
    words: (word, env) => lastInstruction(env, 'RUN ' + word)?.inst.getExpandedArguments().map((a) => a.getValue()),
  },
  {
    name: 'label value',
    description: '`LABEL x=<word>`; `Property.getValue()` (quotes and escapes removed, variables not expanded); words: `getArguments()` values of `RUN <word>` (escapes removed)',
    word: (word) => labelValue(word),
    words: (word, env) => lastInstruction(env, 'RUN ' + word)?.inst.getArguments().map((a) => a.getValue()),
  },
  {
    name: 'expanded, then label value',
    description: 'the "expanded arguments" result, then read as `LABEL x=<it>` through `Property.getValue()` (expansion first, then quote and escape removal); words: each expanded argument read the same way',
    word: (word, env) => {
      const e = expandedWord(env, word);
      return e === undefined ? undefined : labelValue(e);
    },
    words: (word, env) => {
      const args = lastInstruction(env, 'RUN ' + word)?.inst.getExpandedArguments();
      if (args === undefined) return undefined;
      const out: string[] = [];
      for (const a of args) {
        const v = labelValue(a.getValue());
        if (v === undefined) return undefined;
        out.push(v);
      }
      return out;
    },
  },
];
