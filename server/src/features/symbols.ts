/** Document symbols: each stage, with its instructions as children. */

import { DocumentSymbol, SymbolKind } from 'vscode-languageserver-types';
import { splitStages, type DockerfileAST, type Instruction } from '../parser';

function label(inst: Instruction): string {
  const text = inst.argsText.length > 60 ? inst.argsText.slice(0, 57) + '...' : inst.argsText;
  return text === '' ? inst.keyword.toUpperCase() : `${inst.keyword.toUpperCase()} ${text}`;
}

function instructionSymbol(inst: Instruction): DocumentSymbol {
  return DocumentSymbol.create(label(inst), undefined, SymbolKind.Field, inst.range, inst.keywordRange);
}

export function documentSymbols(ast: DockerfileAST): DocumentSymbol[] {
  const { metaArgs, stages } = splitStages(ast);
  const out: DocumentSymbol[] = metaArgs.map((a) => {
    const s = instructionSymbol(a);
    s.kind = SymbolKind.Variable;
    return s;
  });
  for (const stage of stages) {
    const name = stage.name ?? `stage ${stage.index}`;
    const base = stage.base?.value ?? '';
    out.push(DocumentSymbol.create(
      name,
      base === '' ? undefined : `FROM ${base}`,
      SymbolKind.Module,
      stage.range,
      stage.nameToken?.range ?? stage.from.keywordRange,
      stage.commands.map(instructionSymbol),
    ));
  }
  return out;
}
