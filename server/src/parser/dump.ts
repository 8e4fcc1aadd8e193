/** BuildKit's AST dump format (`Node.Dump`), the format of its parser conformance fixtures. */

import { goQuote } from './text';
import type { DockerfileAST, Instruction } from './types';

function dumpInstruction(inst: Instruction): string {
  let s = inst.keyword.toLowerCase();
  if (inst.flags.length > 0) s += ' [' + inst.flags.map((f) => goQuote(f.value)).join(' ') + ']';
  if (inst.child !== undefined) s += ' (' + dumpInstruction(inst.child) + ')';
  for (const a of inst.args) s += ' ' + goQuote(a.value);
  return s.trim();
}

/** The dump of the whole file, one `(instruction ...)` per line, as BuildKit's `result` files hold it. */
export function dumpAST(ast: DockerfileAST): string {
  return ast.instructions.map((i) => '(' + dumpInstruction(i) + ')\n').join('');
}
