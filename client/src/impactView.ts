/**
 * "Compare Cache with Branch…" and the status bar's "since main: RUN npm ci reruns": VS Code
 * wiring only. The server computes the impact (IMPACT_REQUEST); the result is shown as Markdown
 * in a preview.
 */

import {
  commands, EventEmitter, StatusBarAlignment, Uri, window, workspace,
  type Disposable, type StatusBarItem, type TextDocument, type TextDocumentContentProvider,
} from 'vscode';
import { State, type LanguageClient } from 'vscode-languageclient/node';
import { IMPACT_REQUEST, DOCKERFILE_LANGUAGE_ID, type ImpactParams, type ImpactResult } from '../../shared/src/protocol';
import { impactStatusText, impactStatusTooltip } from './impactStatus';

export const COMPARE_COMMAND = 'dockerfileCacheLens.compareWithBranch';
const SCHEME = 'dockerfile-cache-lens-impact';


class ImpactDocuments implements TextDocumentContentProvider, Disposable {
  private readonly texts = new Map<string, string>();
  private readonly changed = new EventEmitter<Uri>();
  readonly onDidChange = this.changed.event;

  show(text: string): Uri {
    const uri = Uri.from({ scheme: SCHEME, path: '/Cache impact.md' });
    this.texts.set(uri.toString(), text);
    this.changed.fire(uri);
    return uri;
  }

  provideTextDocumentContent(uri: Uri): string {
    return this.texts.get(uri.toString()) ?? '';
  }

  dispose(): void {
    this.changed.dispose();
  }
}

function isFileDockerfile(d: TextDocument | undefined): d is TextDocument {
  return d !== undefined && d.languageId === DOCKERFILE_LANGUAGE_ID && d.uri.scheme === 'file';
}

export function registerImpact(client: () => LanguageClient | undefined): Disposable[] {
  /** The request, or undefined while the server is not running. */
  const send = (params: ImpactParams): Promise<ImpactResult> | undefined => {
    const c = client();
    return c?.state === State.Running ? c.sendRequest<ImpactResult>(IMPACT_REQUEST, params) : undefined;
  };
  const docs = new ImpactDocuments();
  const item: StatusBarItem = window.createStatusBarItem('dockerfileCacheLens.impact', StatusBarAlignment.Left, 49);
  item.name = 'Dockerfile Cache Lens: impact since the default branch';
  item.command = COMPARE_COMMAND;
  let generation = 0;

  const refresh = async (): Promise<void> => {
    const doc = window.activeTextEditor?.document;
    const mine = ++generation;
    if (!isFileDockerfile(doc)) {
      item.hide();
      return;
    }
    const pending = send({ uri: doc.uri.toString() });
    if (pending === undefined) return;
    const r = await pending.catch(() => undefined);
    if (mine !== generation) return; // a newer request is on its way
    // Not a repository, no default branch...: nothing to say in the status bar (the command says why).
    if (r === undefined || !r.ok) {
      item.hide();
      return;
    }
    item.text = `$(git-compare) ${impactStatusText(r.report)}`;
    item.tooltip = impactStatusTooltip(r.report);
    item.show();
  };

  const compare = async (arg: unknown): Promise<void> => {
    const doc = arg instanceof Uri ? await workspace.openTextDocument(arg) : window.activeTextEditor?.document;
    if (!isFileDockerfile(doc)) {
      void window.showInformationMessage('Open a Dockerfile saved in a git repository to compare its cache with a branch.');
      return;
    }
    const base = await window.showInputBox({
      title: 'Compare Cache with Branch',
      prompt: 'A branch, tag or commit to compare the working tree with',
      placeHolder: 'empty: the merge base with the default branch (origin/HEAD, main or master)',
    });
    if (base === undefined) return;
    const pending = send({ uri: doc.uri.toString(), ...(base.trim() === '' ? {} : { base: base.trim() }) });
    if (pending === undefined) {
      void window.showWarningMessage('The Dockerfile Cache Lens server is not running.');
      return;
    }
    const r = await pending;
    if (!r.ok) {
      void window.showErrorMessage(`Compare Cache with Branch: ${r.message}`);
      return;
    }
    const uri = docs.show(`${r.markdown}\n${r.report.notes.map((n) => `- ${n}`).join('\n')}\n`);
    try {
      await commands.executeCommand('markdown.showPreview', uri);
    } catch {
      await window.showTextDocument(await workspace.openTextDocument(uri), { preview: true });
    }
  };

  const later = (): void => { void refresh(); };
  return [
    docs, item,
    workspace.registerTextDocumentContentProvider(SCHEME, docs),
    commands.registerCommand(COMPARE_COMMAND, compare),
    window.onDidChangeActiveTextEditor(later),
    // Saved files are what git and a build see: the status follows saves, not keystrokes.
    workspace.onDidSaveTextDocument((d) => { if (d === window.activeTextEditor?.document) later(); }),
    { dispose: () => { generation++; } },
    ((): Disposable => { later(); return { dispose: () => undefined }; })(),
  ];
}
