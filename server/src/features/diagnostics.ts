/** Syntax diagnostics: what BuildKit would reject before building, and its parser warnings. */

import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Diagnostic, DiagnosticSeverity } from 'vscode-languageserver-types';
import type { CacheLensSettings } from '../../../shared/src/protocol';
import type { DockerfileAST } from '../parser';
import type { RuleDiagnostic, RuleSeverity } from '../rules/types';

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

const SEVERITY: Record<RuleSeverity, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  info: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

/** Each rule's page ships with the extension (docs/rules beside dist/), for the link in the Problems panel. */
export function ruleDocUri(rule: string): string {
  return pathToFileURL(path.join(__dirname, '..', 'docs', 'rules', `${rule.replace(/^cache\//, '')}.md`)).toString();
}

export function ruleDiagnostics(found: readonly RuleDiagnostic[]): Diagnostic[] {
  return found.map((r) => {
    const d = Diagnostic.create(r.range, r.message, SEVERITY[r.severity], r.rule, DIAGNOSTIC_SOURCE);
    d.codeDescription = { href: ruleDocUri(r.rule) };
    return d;
  });
}
