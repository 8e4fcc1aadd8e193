/** Syntax diagnostics: what BuildKit would reject before building, and its parser warnings. */

import { Diagnostic, DiagnosticSeverity } from 'vscode-languageserver-types';
import type { CacheLensSettings } from '../../../shared/src/protocol';
import type { DockerfileAST } from '../parser';

export const DIAGNOSTIC_SOURCE = 'dockerfile-cache-lens';

export function syntaxDiagnostics(ast: DockerfileAST, settings: CacheLensSettings): Diagnostic[] {
  if (!settings.diagnostics.syntax) return [];
  return ast.problems.map((p) => Diagnostic.create(
    p.range,
    p.message,
    p.severity === 'error' ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
    p.code,
    DIAGNOSTIC_SOURCE,
  ));
}
