/**
 * The command line: the same engine as the language server, for terminals and CI.
 *   dockerfile-cache-lens parse [-f Dockerfile] [--json | --dump]
 */

import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { dumpAST, parse, splitStages, type DockerfileAST, type Instruction } from './parser';

const USAGE = `Usage: dockerfile-cache-lens <command> [options]

Commands:
  parse [-f Dockerfile] [--json | --dump]   Show how BuildKit reads the Dockerfile: stages,
                                            instructions with their lines, flags and arguments,
                                            and every syntax error. --dump prints BuildKit's own
                                            AST dump format; --json the full tree with ranges.
Options:
  -f, --file PATH   The Dockerfile (default: ./Dockerfile)
  -h, --help        Show this help
`;

/** Exit codes a script can act on. */
export const EXIT = { ok: 0, problems: 1, usage: 2, notFound: 3 } as const;

function describe(inst: Instruction): string {
  const lines = inst.range.start.line === inst.range.end.line
    ? `${inst.range.start.line + 1}`
    : `${inst.range.start.line + 1}-${inst.range.end.line + 1}`;
  const flags = inst.flags.map((f) => f.value).join(' ');
  const args = inst.child !== undefined
    ? `${inst.child.keyword.toUpperCase()} ${inst.child.args.map((a) => JSON.stringify(a.value)).join(' ')}`
    : inst.args.map((a) => JSON.stringify(a.value)).join(' ');
  const form = inst.json ? ' (exec form)' : '';
  const heredocs = inst.heredocs.map((h) => ` <<${h.name}: ${h.content.split('\n').length - 1} line(s)${h.expand ? '' : ', not expanded'}`).join('');
  return `  ${lines.padStart(7)}  ${inst.keyword.toUpperCase()}${flags === '' ? '' : ' ' + flags} ${args}${form}${heredocs}`;
}

function printReadable(file: string, ast: DockerfileAST, out: NodeJS.WritableStream): void {
  const { metaArgs, stages } = splitStages(ast);
  out.write(`${file}: ${ast.instructions.length} instruction(s), ${stages.length} stage(s), escape character ${ast.escapeToken}\n`);
  for (const d of ast.directives) out.write(`  directive ${d.name}=${d.value}\n`);
  if (metaArgs.length > 0) {
    out.write('global build arguments:\n');
    for (const a of metaArgs) out.write(describe(a) + '\n');
  }
  for (const s of stages) {
    out.write(`stage ${s.index}${s.name === undefined ? '' : ` "${s.name}"`} from ${s.base?.value ?? '?'}${s.platform === undefined ? '' : ` (platform ${s.platform})`}:\n`);
    out.write(describe(s.from) + '\n');
    for (const c of s.commands) out.write(describe(c) + '\n');
  }
  for (const p of ast.problems) {
    out.write(`${file}:${p.range.start.line + 1}:${p.range.start.character + 1}: ${p.severity}: ${p.message} [${p.code}]\n`);
  }
}

export function main(argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): number {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    out.write(USAGE);
    return command === undefined ? EXIT.usage : EXIT.ok;
  }
  if (command !== 'parse') {
    err.write(`dockerfile-cache-lens: unknown command '${command}'\n\n${USAGE}`);
    return EXIT.usage;
  }
  let values: { file?: string; json?: boolean; dump?: boolean; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        file: { type: 'string', short: 'f' },
        json: { type: 'boolean' },
        dump: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    err.write(`dockerfile-cache-lens: ${e instanceof Error ? e.message : String(e)}\n\n${USAGE}`);
    return EXIT.usage;
  }
  if (values.help === true) {
    out.write(USAGE);
    return EXIT.ok;
  }
  const file = values.file ?? positionals[0] ?? 'Dockerfile';
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    err.write(code === 'ENOENT'
      ? `dockerfile-cache-lens: Dockerfile not found: ${file} (use -f to name another file)\n`
      : `dockerfile-cache-lens: cannot read ${file}: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT.notFound;
  }
  const ast = parse(text);
  if (values.json === true) out.write(JSON.stringify(ast, null, 2) + '\n');
  else if (values.dump === true) out.write(dumpAST(ast));
  else printReadable(file, ast, out);
  return ast.problems.some((p) => p.severity === 'error') ? EXIT.problems : EXIT.ok;
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
