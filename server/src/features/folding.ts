/** Folding ranges: stages, multi-line instructions, heredoc bodies and comment blocks. */

import { FoldingRange, FoldingRangeKind } from 'vscode-languageserver-types';
import { splitStages, type DockerfileAST } from '../parser';

export function foldingRanges(ast: DockerfileAST): FoldingRange[] {
  const out: FoldingRange[] = [];
  const add = (start: number, end: number, kind?: FoldingRangeKind): void => {
    if (end > start) out.push(FoldingRange.create(start, end, undefined, undefined, kind));
  };
  for (const stage of splitStages(ast).stages) add(stage.range.start.line, stage.range.end.line, FoldingRangeKind.Region);
  for (const inst of ast.instructions) {
    const first = inst.heredocs[0];
    // A heredoc instruction folds from its line to the last terminator; others over continuations.
    if (first === undefined) add(inst.range.start.line, inst.range.end.line);
    for (const h of inst.heredocs) add(h.markerRange.start.line, h.terminatorRange.end.line);
  }
  let blockStart = -1;
  let prev = -2;
  for (const line of ast.commentLines) {
    if (line !== prev + 1) {
      if (blockStart >= 0) add(blockStart, prev, FoldingRangeKind.Comment);
      blockStart = line;
    }
    prev = line;
  }
  if (blockStart >= 0) add(blockStart, prev, FoldingRangeKind.Comment);
  return out;
}
