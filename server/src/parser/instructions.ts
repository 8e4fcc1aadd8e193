/**
 * The instruction layer of BuildKit (`frontend/dockerfile/instructions`): which flags each
 * instruction takes, how many arguments, stage names, `--mount` options. Its errors are the ones
 * a build fails with before running anything, so the editor shows them as syntax errors.
 */

import { parseHeredocWord } from './parser';
import type { DockerfileAST, FlagToken, Instruction, ParseProblem, Range, Token } from './types';

type FlagKind = 'bool' | 'string' | 'strings';

const FLAGS: Record<string, Record<string, FlagKind> | 'unchecked'> = {
  add: { chown: 'string', chmod: 'string', link: 'bool', 'keep-git-dir': 'bool', checksum: 'string', unpack: 'bool', exclude: 'strings' },
  copy: { chown: 'string', from: 'string', chmod: 'string', link: 'bool', exclude: 'strings', parents: 'bool' },
  from: { platform: 'string' },
  run: { mount: 'strings', network: 'string', security: 'string', device: 'strings' },
  healthcheck: { interval: 'string', timeout: 'string', 'start-period': 'string', 'start-interval': 'string', retries: 'string' },
  env: {}, label: {}, maintainer: {}, onbuild: {}, workdir: {}, cmd: {}, entrypoint: {}, expose: {}, user: {}, volume: {}, shell: {},
  // BuildKit never parses the flags of these two.
  arg: 'unchecked',
  stopsignal: 'unchecked',
};

export const INSTRUCTION_NAMES = Object.keys(FLAGS).map((k) => k.toUpperCase());

const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

/** Levenshtein distance, for BuildKit's "did you mean" suggestions. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j] ?? 0;
      row[j] = Math.min((row[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length] ?? 0;
}

/** BuildKit's suggest.Search: the closest option under distance 3, or undefined. */
export function suggest(value: string, options: readonly string[], caseSensitive: boolean): string | undefined {
  const v = caseSensitive ? value : value.toLowerCase();
  let best: string | undefined;
  let min = 3;
  for (const o of options) {
    const opt = caseSensitive ? o : o.toLowerCase();
    if (opt === v) return undefined;
    const d = distance(v, opt);
    if (d < min) {
      min = d;
      best = caseSensitive ? opt : value === value.toLowerCase() ? opt.toLowerCase() : value === value.toUpperCase() ? opt.toUpperCase() : opt;
    }
  }
  return best;
}

const withSuggestion = (msg: string, value: string, options: readonly string[], caseSensitive: boolean): string => {
  const s = suggest(value, options, caseSensitive);
  return s === undefined ? msg : `${msg} (did you mean ${s}?)`;
};

/** go-csvvalue's field splitting, which BuildKit uses for `--mount` and `--device`. */
export function csvFields(s: string): string[] | undefined {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (s[i] === '"') {
      i++;
      for (;;) {
        if (i >= s.length) return undefined; // unterminated quote
        if (s[i] === '"') {
          if (s[i + 1] === '"') { field += '"'; i += 2; continue; }
          i++;
          break;
        }
        field += s[i];
        i++;
      }
      if (i < s.length && s[i] !== ',') return undefined; // text after a closing quote
    } else {
      const comma = s.indexOf(',', i);
      const end = comma < 0 ? s.length : comma;
      field = s.slice(i, end);
      if (field.includes('"')) return undefined; // bare quote in a field
      i = end;
    }
    out.push(field);
    if (i >= s.length) return out;
    i++; // the comma
  }
}

export type MountType = 'bind' | 'cache' | 'tmpfs' | 'secret' | 'ssh';

export interface Mount {
  type: MountType;
  from: string | undefined;
  source: string | undefined;
  target: string | undefined;
  readOnly: boolean;
  id: string | undefined;
  sharing: string | undefined;
  required: boolean;
  /** Every option as written, lower-cased keys, for the cache key and for hovers. */
  options: Array<[string, string | undefined]>;
}

const MOUNT_KEYS = ['type', 'from', 'source', 'target', 'readonly', 'id', 'sharing', 'required', 'size', 'mode', 'uid', 'gid', 'src', 'dst', 'destination', 'ro', 'rw', 'readwrite', 'env'];
const MOUNT_TYPES = ['bind', 'cache', 'tmpfs', 'secret', 'ssh'];
const SHARING = ['shared', 'private', 'locked'];

function parseBool(v: string): boolean | undefined {
  // Go's strconv.ParseBool
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  return undefined;
}

/**
 * BuildKit's parseMount with an expander (as at conversion time). Values holding a variable are
 * taken as written: their checks need the build's environment.
 */
export function parseMount(value: string): { mount?: Mount; error?: string } {
  const fields = csvFields(value);
  if (fields === undefined) return { error: 'failed to parse csv mounts' };
  const m: Mount = { type: 'bind', from: undefined, source: undefined, target: undefined, readOnly: true, id: undefined, sharing: undefined, required: false, options: [] };
  let roAuto = true;
  let fileInfo = false;
  for (const field of fields) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const v = eq < 0 ? undefined : field.slice(eq + 1);
    m.options.push([key, v]);
    const variable = v !== undefined && v.includes('$');
    if (v === undefined) {
      if (key === 'readonly' || key === 'ro') { m.readOnly = true; roAuto = false; continue; }
      if (key === 'readwrite' || key === 'rw') { m.readOnly = false; roAuto = false; continue; }
      if (key === 'required') {
        if (m.type === 'secret' || m.type === 'ssh') { m.required = true; continue; }
        return { error: `unexpected key '${key}' for mount type '${m.type}'` };
      }
      return { error: `invalid field '${field}' must be a key=value pair` };
    }
    switch (key) {
      case 'type': {
        const t = v.toLowerCase();
        if (!MOUNT_TYPES.includes(t)) {
          if (variable) break;
          return { error: withSuggestion(`unsupported mount type "${v}"`, v, MOUNT_TYPES, true) };
        }
        m.type = t as MountType;
        break;
      }
      case 'from': {
        const d = v.indexOf('$');
        if (d !== -1 && d !== v.length - 1) return { error: `'from' doesn't support variable expansion, define alias stage instead` };
        m.from = v;
        break;
      }
      case 'source': case 'src': m.source = v; break;
      case 'target': case 'dst': case 'destination': m.target = v; break;
      case 'readonly': case 'ro': case 'readwrite': case 'rw': {
        const b = parseBool(v);
        if (b === undefined) {
          if (variable) break;
          return { error: `invalid value for ${key}: ${v}` };
        }
        m.readOnly = key === 'readonly' || key === 'ro' ? b : !b;
        roAuto = false;
        break;
      }
      case 'required': {
        if (m.type !== 'secret' && m.type !== 'ssh') return { error: `unexpected key '${key}' for mount type '${m.type}'` };
        const b = parseBool(v);
        if (b === undefined && !variable) return { error: `invalid value for ${key}: ${v}` };
        m.required = b ?? false;
        break;
      }
      case 'size':
        if (m.type !== 'tmpfs') return { error: `unexpected key '${key}' for mount type '${m.type}'` };
        break;
      case 'id': m.id = v; break;
      case 'sharing': {
        const s = v.toLowerCase();
        if (!SHARING.includes(s) && !variable) return { error: withSuggestion(`unsupported sharing value "${v}"`, v, SHARING, true) };
        m.sharing = s;
        break;
      }
      case 'mode':
        if (!/^[0-7]+$/.test(v) && !variable) return { error: `invalid value ${v} for mode` };
        fileInfo = true;
        break;
      case 'uid': case 'gid':
        if (!/^[0-9]+$/.test(v) && !variable) return { error: `invalid value ${v} for ${key}` };
        fileInfo = true;
        break;
      case 'env': break;
      default:
        return { error: withSuggestion(`unexpected key '${key}' in '${field}'`, key, MOUNT_KEYS, true) };
    }
  }
  if (fileInfo && m.type !== 'secret' && m.type !== 'ssh' && m.type !== 'cache') {
    const which = m.options.find(([k]) => k === 'mode' || k === 'uid' || k === 'gid')?.[0] ?? 'mode';
    return { error: `${which} not allowed for "${m.type}" type mounts` };
  }
  if (roAuto) m.readOnly = !(m.type === 'cache' || m.type === 'tmpfs');
  if (m.type === 'secret') {
    if (m.from !== undefined) return { error: 'secret mount should not have a from' };
    if (m.sharing !== undefined) return { error: 'secret mount should not define sharing' };
    if (m.source === undefined && m.target === undefined && m.id === undefined) return { error: 'invalid secret mount. one of source, target required' };
    if (m.source !== undefined && m.id !== undefined) return { error: "both source and id can't be set" };
  }
  if (m.sharing !== undefined && m.type !== 'cache') return { error: `invalid cache sharing set for ${m.type} mount` };
  return { mount: m };
}

/** The flags of an instruction by name (the last one wins for single-valued flags, as in BuildKit). */
export function flagValues(inst: Instruction, name: string): FlagToken[] {
  const out: FlagToken[] = [];
  for (const f of inst.flags) {
    if (f.value === '--') break;
    if (f.name === name) out.push(f);
  }
  return out;
}

export function flagValue(inst: Instruction, name: string): string | undefined {
  const all = flagValues(inst, name);
  const last = all[all.length - 1];
  if (last === undefined) return undefined;
  return last.flagValue ?? 'true';
}

export interface Stage {
  index: number;
  /** Lower-cased `AS` name, as BuildKit stores it. */
  name: string | undefined;
  nameToken: Token | undefined;
  /** The base: an image reference, an earlier stage's name or index, or `scratch`. */
  base: Token | undefined;
  platform: string | undefined;
  from: Instruction;
  /** Every instruction after FROM up to the next FROM. */
  commands: Instruction[];
  range: Range;
}

export interface DockerfileStages {
  /** ARGs before the first FROM (global build args). */
  metaArgs: Instruction[];
  stages: Stage[];
}

/** Groups instructions into stages as BuildKit's instructions.Parse does. */
export function splitStages(ast: DockerfileAST): DockerfileStages {
  const metaArgs: Instruction[] = [];
  const stages: Stage[] = [];
  for (const inst of ast.instructions) {
    const kw = inst.keyword.toLowerCase();
    if (kw === 'from') {
      const [base, as, name] = inst.args;
      const hasName = inst.args.length === 3 && as !== undefined && as.value.toLowerCase() === 'as' && name !== undefined;
      stages.push({
        index: stages.length,
        name: hasName ? name.value.toLowerCase() : undefined,
        nameToken: hasName ? name : undefined,
        base,
        platform: flagValue(inst, 'platform'),
        from: inst,
        commands: [],
        range: inst.range,
      });
      continue;
    }
    const stage = stages[stages.length - 1];
    if (stage === undefined) {
      if (kw === 'arg') metaArgs.push(inst);
      continue;
    }
    stage.commands.push(inst);
    stage.range = { start: stage.range.start, end: inst.range.end };
  }
  return { metaArgs, stages };
}

/** The errors BuildKit's instruction parser would fail the build with. */
export function validateInstructions(ast: DockerfileAST): ParseProblem[] {
  const problems: ParseProblem[] = [];
  const err = (message: string, range: Range): void => {
    problems.push({ message, range, severity: 'error', code: 'syntax/instruction' });
  };
  let seenFrom = false;
  const check = (inst: Instruction, isTrigger: boolean): void => {
    const kw = inst.keyword.toLowerCase();
    const args = inst.args;
    const upper = kw.toUpperCase();
    const spec = FLAGS[kw];
    if (spec === undefined) {
      err(withSuggestion(`unknown instruction: ${inst.keyword}`, inst.keyword, INSTRUCTION_NAMES, false), inst.keywordRange);
      return;
    }
    if (!isTrigger) {
      if (kw === 'from') seenFrom = true;
      else if (!seenFrom && kw !== 'arg') err('no build stage in current context', inst.range);
    }
    // Flags (HEALTHCHECK NONE does not parse them).
    const healthNone = kw === 'healthcheck' && args[0]?.value.toUpperCase() === 'NONE';
    if (spec !== 'unchecked' && !healthNone) {
      const used = new Set<string>();
      for (const f of inst.flags) {
        if (f.value === '--') break;
        if (!f.value.startsWith('--')) { err(`arg should start with -- : ${f.value}`, f.range); break; }
        const flagName = f.flagValue === undefined ? f.value : f.value.slice(0, f.value.indexOf('='));
        const kind = spec[f.name];
        if (kind === undefined) {
          err(withSuggestion(`unknown flag: ${flagName}`, f.name, Object.keys(spec), true), f.range);
          continue;
        }
        if (used.has(f.name) && kind !== 'strings') err(`duplicate flag specified: ${flagName}`, f.range);
        used.add(f.name);
        if (kind === 'bool') {
          if (f.flagValue === '') err(`missing a value on flag: ${flagName}`, f.range);
          else if (f.flagValue !== undefined && !['true', 'false'].includes(f.flagValue.toLowerCase())) {
            err(`expecting boolean value for flag ${flagName}, not: ${f.flagValue}`, f.range);
          }
        } else if (f.flagValue === undefined) {
          err(`missing a value on flag: ${flagName}`, f.range);
        }
      }
    }
    const exactlyOne = (): void => { if (args.length !== 1) err(`${upper} requires exactly one argument`, inst.range); };
    const atLeastOne = (): boolean => {
      if (args.length === 0) { err(`${upper} requires at least one argument`, inst.range); return false; }
      return true;
    };
    switch (kw) {
      case 'env': case 'label':
        if (!atLeastOne()) break;
        if (args.length % 3 !== 0) err(`Bad input to ${upper}, too many arguments`, inst.range);
        for (let j = 0; j < args.length; j += 3) if (args[j]?.value === '') err(`${upper} names can not be blank`, args[j]?.range ?? inst.range);
        break;
      case 'maintainer': case 'workdir': case 'user': case 'stopsignal':
        exactlyOne();
        break;
      case 'add': case 'copy': {
        if (args.length < 2) {
          err(`${upper} requires at least two arguments, but only one was provided. Destination could not be determined`, inst.range);
          break;
        }
        const dest = args[args.length - 1];
        if (dest !== undefined && parseHeredocWordSafe(dest.value)) err(`${upper} cannot accept a heredoc as a destination`, dest.range);
        break;
      }
      case 'from': {
        if (args.length === 3 && args[1]?.value.toLowerCase() === 'as') {
          const name = args[2];
          if (name !== undefined && !STAGE_NAME.test(name.value.toLowerCase())) {
            err(`invalid name for build stage: ${JSON.stringify(name.value)}, name can't start with a number or contain symbols`, name.range);
          }
        } else if (args.length !== 1) {
          err('FROM requires either one or three arguments', inst.range);
        }
        break;
      }
      case 'onbuild': {
        const child = inst.child;
        if (child === undefined) { err('ONBUILD requires at least one argument', inst.range); break; }
        const t = child.keyword.toUpperCase();
        if (t === 'ONBUILD') err('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed', child.keywordRange);
        else if (t === 'MAINTAINER' || t === 'FROM') err(`${t} isn't allowed as an ONBUILD trigger`, child.keywordRange);
        else check(child, true);
        break;
      }
      case 'healthcheck': {
        if (!atLeastOne()) break;
        const typ = args[0]?.value.toUpperCase();
        if (typ === 'NONE') {
          if (args.length > 1) err('HEALTHCHECK NONE takes no arguments', inst.range);
        } else if (typ === 'CMD') {
          if (args.length < 2) err('Missing command after HEALTHCHECK CMD', inst.range);
        } else {
          err(`Unknown type ${JSON.stringify(typ)} in HEALTHCHECK (try CMD)`, args[0]?.range ?? inst.range);
        }
        break;
      }
      case 'expose':
        atLeastOne();
        break;
      case 'volume':
        if (!atLeastOne()) break;
        for (const a of args) if (a.value.trim() === '') err('VOLUME specified can not be an empty string', a.range);
        break;
      case 'arg':
        if (!atLeastOne()) break;
        for (const a of args) if (a.value.startsWith('=')) err('ARG names can not be blank', a.range);
        break;
      case 'shell':
        if (args.length === 0) err('SHELL requires at least one argument', inst.range);
        else if (!inst.json) err(`SHELL requires the arguments to be in JSON form`, inst.argsRange);
        break;
      case 'run': {
        for (const f of flagValues(inst, 'mount')) {
          if (f.flagValue === undefined) continue;
          const r = parseMount(f.flagValue);
          if (r.error !== undefined) err(r.error, f.valueRange ?? f.range);
        }
        const net = flagValue(inst, 'network');
        if (net !== undefined && !['default', 'none', 'host'].includes(net)) err(`invalid network mode ${JSON.stringify(net)}`, inst.range);
        const sec = flagValue(inst, 'security');
        if (sec !== undefined && !['sandbox', 'insecure'].includes(sec)) err(`security ${JSON.stringify(sec)} is not valid`, inst.range);
        break;
      }
    }
  };
  for (const inst of ast.instructions) check(inst, false);
  return problems;
}

function parseHeredocWordSafe(word: string): boolean {
  try {
    return parseHeredocWord(word) !== undefined;
  } catch {
    return false;
  }
}
