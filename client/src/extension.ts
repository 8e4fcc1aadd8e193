/**
 * The VS Code side: starts the language server in its own process and connects it to Dockerfiles;
 * builds (commands, the `dockerfile-cache-lens` task type), the status bar item, the cache report.
 */

import * as path from 'node:path';
import {
  EventEmitter, StatusBarAlignment, SymbolKind, Uri, commands, env, tasks, window, workspace,
  type CodeLens, type DocumentSymbol, type ExtensionContext, type LogOutputChannel, type StatusBarItem,
  type TextDocument, type TextDocumentContentProvider,
} from 'vscode';
import { LanguageClient, State, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import type { DockerProblem } from '../../server/src/build/docker';
import {
  BUILD_FINISHED_REQUEST, DOCKER_STATUS_NOTIFICATION, DOCKERFILE_LANGUAGE_ID, FORGET_BUILDS_REQUEST, PREPARE_BUILD_REQUEST, SERVER_EXEC_ARGV, SETTINGS_SECTION, SHOW_STEP_COMMAND,
  type BuildFinishedParams, type BuildFinishedResult, type DockerStatusParams, type ForgetBuildsParams, type PrepareBuildParams, type PrepareBuildResult,
  type StepDetailsArgs,
} from '../../shared/src/protocol';
import { TASK_TYPE, describeActual, formatDuration, type BuildFlowResult, type BuildServer, type BuildTaskDefinition } from './buildFlow';
import { statusText, statusTooltip, summarizeLenses } from './lensSummary';
import { renderReport, type LastBuild } from './report';
import { BuildTaskProvider, createTask, definitionFor, findDockerfiles, type TaskContext } from './tasks';
import { registerImpact } from './impactView';

export const COMMANDS = {
  build: 'dockerfileCacheLens.build',
  buildNoCache: 'dockerfileCacheLens.buildNoCache',
  buildTarget: 'dockerfileCacheLens.buildTarget',
  showCacheReport: 'dockerfileCacheLens.showCacheReport',
  forgetBuilds: 'dockerfileCacheLens.forgetBuilds',
} as const;

const REPORT_SCHEME = 'dockerfile-cache-lens-report';

const DOCS: Record<DockerProblem['kind'], string> = {
  'no-docker': 'https://docs.docker.com/get-started/get-docker/',
  'daemon-unreachable': 'https://docs.docker.com/engine/manage-resources/contexts/',
  'no-buildx': 'https://docs.docker.com/build/concepts/overview/#install-buildx',
};

let client: LanguageClient | undefined;
let output: LogOutputChannel | undefined;

const LABEL: Record<StepDetailsArgs['prediction'], string> = {
  hit: 'cached', miss: 'rebuilds', unknown: 'cannot be predicted', skipped: 'not built for this target',
};

/** A lens click: the step's whole story, with a way to build when the build command exists. */
async function showStepDetails(args: StepDetailsArgs | undefined): Promise<void> {
  if (args === undefined) return;
  const detail = [args.prediction === 'hit' ? '' : args.reason, ...args.details].filter((l) => l !== '').join('\n');
  const canBuild = (await commands.getCommands(true)).includes(COMMANDS.build);
  const choice = await window.showInformationMessage(`${args.vertex}: ${LABEL[args.prediction]}`, { modal: true, detail }, ...(canBuild ? ['Build Image'] : []));
  if (choice === 'Build Image') await commands.executeCommand(COMMANDS.build, Uri.parse(args.uri));
}

function isDockerfile(doc: TextDocument | undefined): doc is TextDocument {
  return doc !== undefined && doc.languageId === DOCKERFILE_LANGUAGE_ID && doc.uri.scheme === 'file';
}

function label(uri: Uri): string {
  return workspace.asRelativePath(uri, true);
}

/** Builds need a trusted workspace: says so (once per call) and returns false when it is not. */
function requireTrust(): boolean {
  if (workspace.isTrusted) return true;
  void window.showWarningMessage('Dockerfile Cache Lens builds only in a trusted workspace; predictions work without trust.', 'Manage Workspace Trust')
    .then((c) => (c === undefined ? undefined : commands.executeCommand('workbench.trust.manage')));
  return false;
}

/** The Dockerfile a command acts on: its argument, the active editor's, or one the user picks. */
async function pickDockerfile(arg: unknown, purpose: string): Promise<Uri | undefined> {
  if (arg instanceof Uri) return arg;
  const active = window.activeTextEditor?.document;
  if (isDockerfile(active)) return active.uri;
  const files = await findDockerfiles();
  if (files.length === 0) {
    void window.showInformationMessage('No Dockerfile in this workspace (Dockerfile, *.Dockerfile, Dockerfile.*, Containerfile).');
    return undefined;
  }
  if (files.length === 1) return files[0];
  const picked = await window.showQuickPick(files.map((f) => ({ label: label(f), uri: f })), { placeHolder: `The Dockerfile to ${purpose}` });
  return picked?.uri;
}

/** Runs a build as a task (so it shows in the terminal panel). */
async function runBuildTask(ctx: TaskContext, file: Uri, extra: Partial<BuildTaskDefinition> = {}): Promise<void> {
  const { def, scope } = definitionFor(file, extra);
  await tasks.executeTask(createTask(def, scope, ctx));
}

/** Stages of a Dockerfile from its document symbols: the top-level Module symbols. */
async function pickTarget(file: Uri): Promise<string | undefined> {
  const doc = await workspace.openTextDocument(file);
  const symbols = (await commands.executeCommand<DocumentSymbol[] | undefined>('vscode.executeDocumentSymbolProvider', doc.uri)) ?? [];
  // The server names unnamed stages `stage N`: `--target` needs a name (`FROM … AS name`).
  const stages = symbols.filter((s) => s.kind === SymbolKind.Module);
  const named = stages.filter((s) => !/\s/.test(s.name));
  if (named.length === 0) {
    void window.showInformationMessage(stages.length === 0
      ? `${label(file)} has no stages yet.`
      : `${label(file)} has no named stage: name one with FROM image AS name to build it with --target.`);
    return undefined;
  }
  const picked = await window.showQuickPick(named.map((s) => ({ label: s.name, description: s.detail, line: s.range.start.line + 1 })), {
    placeHolder: `The stage of ${label(file)} to build (--target)`,
  });
  return picked?.label;
}

/** One notification per problem at a time, with what to do. */
let problemShowing = false;
function showDockerProblem(problem: DockerProblem): void {
  if (problemShowing) return;
  problemShowing = true;
  const buttons = problem.kind === 'no-buildx' ? ['Open Docs', 'Open Settings'] : ['Open Docs'];
  void window.showErrorMessage(problem.message, ...buttons).then(async (choice) => {
    problemShowing = false;
    if (choice === 'Open Docs') await env.openExternal(Uri.parse(DOCS[problem.kind]));
    else if (choice === 'Open Settings') await commands.executeCommand('workbench.action.openSettings', `${SETTINGS_SECTION}.engine`);
  });
}

/** The output channel gets every build's summary and each step where BuildKit did otherwise. */
function logBuild(file: string, r: BuildFlowResult): void {
  if (output === undefined) return;
  if (r.problem !== undefined) {
    output.warn(`build ${file}: ${r.problem.message}`);
    return;
  }
  const f = r.finished;
  const took = r.outcome !== undefined ? ` in ${formatDuration(r.outcome.durationMs)}` : '';
  output.info(`build ${file}: ${r.status}${took}${f !== undefined ? ` (${f.cached} cached, ${f.built} run)` : ''}${r.error !== undefined ? `: ${r.error}` : ''}`);
  if (f?.failure !== undefined) output.error(`${file}:${f.failure.line}: ${f.failure.message.split('\n')[0] ?? ''}`);
  if (f === undefined || r.comparisonSkipped) return;
  for (const d of f.disagreements) {
    const v = r.vertices.find((x) => x.name === d.vertex);
    const took2 = v !== undefined && !v.cached && v.durationMs !== undefined ? ` (${formatDuration(v.durationMs)})` : '';
    output.warn(`predicted vs actual: ${d.vertex}: predicted ${d.predicted} because ${d.reason}; ${describeActual(d.actual)}${took2}`);
  }
}

/** The status bar: the active Dockerfile's prediction from its stage summary lenses. */
class CacheStatus {
  readonly item: StatusBarItem;
  private readonly titles = new Map<string, string[]>();
  private timer: NodeJS.Timeout | undefined;
  /** The server's word on Docker: shown once here, not on every lens. */
  private docker: DockerStatusParams | undefined;

  constructor() {
    this.item = window.createStatusBarItem('dockerfileCacheLens.status', StatusBarAlignment.Left, 50);
    this.item.name = 'Dockerfile Cache Lens';
    this.item.command = COMMANDS.build;
  }

  /** The lenses VS Code just got for a document (the language client's middleware). */
  lenses(doc: TextDocument, lenses: readonly CodeLens[] | null | undefined): void {
    this.titles.set(doc.uri.toString(), (lenses ?? []).map((l) => l.command?.title ?? ''));
    if (window.activeTextEditor?.document === doc) this.render();
  }

  /** Asks for the active document's lenses (they pass through `lenses`); soon, not at every keystroke. */
  refresh(delayMs = 0): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.update();
    }, delayMs);
  }

  /** Asks for the active document's lenses now; resolves once the status bar shows them. */
  async update(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const doc = window.activeTextEditor?.document;
    if (!isDockerfile(doc) || client?.state !== State.Running) {
      this.render();
      return;
    }
    try {
      const lenses = await commands.executeCommand<CodeLens[] | undefined>('vscode.executeCodeLensProvider', doc.uri);
      this.titles.set(doc.uri.toString(), (lenses ?? []).map((l) => l.command?.title ?? ''));
    } catch {
      // The lenses could not be had: the status bar keeps what it showed.
    }
    this.render();
  }

  /** What the server says of Docker (DOCKER_STATUS_NOTIFICATION). */
  setDocker(params: DockerStatusParams): void {
    this.docker = params;
    this.render();
  }

  private render(): void {
    const doc = window.activeTextEditor?.document;
    const summary = isDockerfile(doc) ? summarizeLenses(this.titles.get(doc.uri.toString()) ?? []) : undefined;
    const down = this.docker?.running === false ? this.docker : undefined;
    if (summary === undefined && !(down !== undefined && isDockerfile(doc))) {
      this.item.hide();
      return;
    }
    const parts = summary === undefined ? [] : [statusText(summary)];
    const tips = summary === undefined ? [] : [statusTooltip(summary)];
    if (down !== undefined) {
      parts.push('$(warning) Docker not running');
      tips.push(`${down.notice ?? 'Docker is not running'}.${down.problem === undefined ? '' : `\n${down.problem}`}`);
    }
    this.item.text = parts.join(' · ');
    this.item.tooltip = tips.join('\n\n');
    this.item.show();
  }

  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.item.dispose();
  }
}

/** Read-only markdown of the last build per Dockerfile. */
class ReportProvider implements TextDocumentContentProvider {
  readonly last = new Map<string, LastBuild>();
  private readonly changed = new EventEmitter<Uri>();
  readonly onDidChange = this.changed.event;

  static uriFor(dockerfile: string): Uri {
    const file = Uri.parse(dockerfile);
    return Uri.from({ scheme: REPORT_SCHEME, path: `/${path.basename(file.fsPath)} cache report.md`, query: dockerfile });
  }

  record(uri: string, last: LastBuild): void {
    this.last.set(uri, last);
    this.changed.fire(ReportProvider.uriFor(uri));
  }

  provideTextDocumentContent(uri: Uri): string {
    const last = this.last.get(uri.query);
    return last === undefined ? '# No build yet\n\nRun **Dockerfile Cache Lens: Build Image** first.\n' : renderReport(last);
  }

  dispose(): void {
    this.changed.dispose();
  }
}

export async function activate(context: ExtensionContext): Promise<void> {
  const module = context.asAbsolutePath(path.join('dist', 'server.js'));
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc, options: { execArgv: [...SERVER_EXEC_ARGV] } },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: [...SERVER_EXEC_ARGV, '--nolazy', '--inspect=6009'] } },
  };
  // Every file of the workspace may be in a build context: changes must reach the server's hasher.
  const watcher = workspace.createFileSystemWatcher('**/*');
  context.subscriptions.push(watcher);
  // One channel for the server's log and the builds' predicted-vs-actual.
  output = window.createOutputChannel('Dockerfile Cache Lens', { log: true });
  context.subscriptions.push(output);
  const status = new CacheStatus();
  context.subscriptions.push(status);
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', language: DOCKERFILE_LANGUAGE_ID },
      { scheme: 'untitled', language: DOCKERFILE_LANGUAGE_ID },
    ],
    synchronize: { configurationSection: SETTINGS_SECTION, fileEvents: watcher },
    outputChannel: output,
    middleware: {
      // Lenses change (a build, a file, the server's refresh): the status bar reads them as they pass.
      provideCodeLenses: async (doc, token, next) => {
        const lenses = await next(doc, token);
        status.lenses(doc, lenses);
        return lenses;
      },
    },
  };
  client = new LanguageClient('dockerfileCacheLens', 'Dockerfile Cache Lens', serverOptions, clientOptions);

  const server = (): BuildServer | undefined => {
    const c = client;
    if (c === undefined || c.state !== State.Running) return undefined;
    return {
      prepare: (p: PrepareBuildParams) => c.sendRequest<PrepareBuildResult>(PREPARE_BUILD_REQUEST, p),
      finished: (p: BuildFinishedParams) => c.sendRequest<BuildFinishedResult>(BUILD_FINISHED_REQUEST, p),
    };
  };
  const reports = new ReportProvider();
  context.subscriptions.push(reports, workspace.registerTextDocumentContentProvider(REPORT_SCHEME, reports));
  const taskContext: TaskContext = {
    server,
    onFinished: (uri, result) => {
      const file = label(Uri.parse(uri));
      logBuild(file, result);
      if (result.problem !== undefined) showDockerProblem(result.problem);
      if (result.outcome !== undefined || result.prepared !== undefined) reports.record(uri, { time: new Date().toISOString(), label: file, result });
      // The server answered buildFinished once the new state was computed and the lenses refreshed.
      return status.update();
    },
  };

  const build = (extra: Partial<BuildTaskDefinition>, purpose: string) => async (arg: unknown): Promise<void> => {
    if (!requireTrust()) return;
    const file = await pickDockerfile(arg, purpose);
    if (file !== undefined) await runBuildTask(taskContext, file, extra);
  };

  context.subscriptions.push(
    commands.registerCommand(SHOW_STEP_COMMAND, showStepDetails),
    commands.registerCommand(COMMANDS.build, build({}, 'build')),
    commands.registerCommand(COMMANDS.buildNoCache, build({ noCache: true }, 'build without the cache')),
    commands.registerCommand(COMMANDS.buildTarget, async (arg: unknown) => {
      if (!requireTrust()) return;
      const file = await pickDockerfile(arg, 'build a stage of');
      if (file === undefined) return;
      const target = await pickTarget(file);
      if (target !== undefined) await runBuildTask(taskContext, file, { target });
    }),
    commands.registerCommand(COMMANDS.showCacheReport, async (arg: unknown) => {
      let key: string | undefined;
      if (arg instanceof Uri) key = arg.toString();
      else if (isDockerfile(window.activeTextEditor?.document)) key = window.activeTextEditor.document.uri.toString();
      if (key === undefined || !reports.last.has(key)) {
        // The most recent build, when the active Dockerfile has none.
        key = [...reports.last.entries()].sort((a, b) => b[1].time.localeCompare(a[1].time))[0]?.[0];
      }
      if (key === undefined) {
        const choice = await window.showInformationMessage('No build since this window opened: build the image first, then its cache report shows each step, predicted and actual.', 'Build Image');
        if (choice === 'Build Image') await commands.executeCommand(COMMANDS.build);
        return;
      }
      const uri = ReportProvider.uriFor(key);
      try {
        await commands.executeCommand('markdown.showPreview', uri);
      } catch {
        await window.showTextDocument(await workspace.openTextDocument(uri), { preview: true });
      }
    }),
    commands.registerCommand(COMMANDS.forgetBuilds, async (arg: unknown) => {
      const c = client;
      if (c === undefined || c.state !== State.Running) return;
      const active = arg instanceof Uri ? arg : isDockerfile(window.activeTextEditor?.document) ? window.activeTextEditor.document.uri : undefined;
      const items = [
        ...(active === undefined ? [] : [{ label: `Forget the builds of ${label(active)}`, uri: active as Uri | undefined }]),
        { label: 'Forget every recorded build', uri: undefined as Uri | undefined },
      ];
      const picked = await window.showQuickPick(items, { placeHolder: 'Recorded builds are what predictions compare with; the BuildKit cache itself is not touched.' });
      if (picked === undefined) return;
      const params: ForgetBuildsParams = { uri: picked.uri?.toString() };
      await c.sendRequest(FORGET_BUILDS_REQUEST, params);
      output?.info(picked.uri === undefined ? 'forgot every recorded build' : `forgot the builds of ${label(picked.uri)}`);
      status.refresh();
    }),
    tasks.registerTaskProvider(TASK_TYPE, new BuildTaskProvider(taskContext)),
    window.onDidChangeActiveTextEditor(() => { status.refresh(); }),
    workspace.onDidChangeTextDocument((e) => {
      if (e.document === window.activeTextEditor?.document && isDockerfile(e.document)) status.refresh(500);
    }),
    workspace.onDidGrantWorkspaceTrust(() => { status.refresh(); }),
  );
  client.onNotification(DOCKER_STATUS_NOTIFICATION, (params: DockerStatusParams) => { status.setDocker(params); });
  await client.start();
  status.refresh();
  // issue 17: "Compare Cache with Branch…" and the status bar's "since main" (impactView.ts).
  context.subscriptions.push(...registerImpact(() => client));
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}
