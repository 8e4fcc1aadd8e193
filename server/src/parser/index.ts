/** The parser's public face: text in, BuildKit's view of the Dockerfile out. Pure: no I/O. */

import { validateInstructions } from './instructions';
import { parseDockerfile } from './parser';
import type { DockerfileAST } from './types';

export * from './types';
export { dumpAST } from './dump';
export { splitStages, flagValue, flagValues, parseMount, type Stage, type DockerfileStages, type Mount } from './instructions';
export { parseHeredocWord } from './parser';

/**
 * Parses a Dockerfile as BuildKit would, including the checks of its instruction layer. Never
 * throws: bad input yields a tree plus problems with ranges.
 */
export function parse(text: string): DockerfileAST {
  const ast = parseDockerfile(text);
  ast.problems.push(...validateInstructions(ast));
  ast.problems.sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character);
  return ast;
}
