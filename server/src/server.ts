/**
 * The language server process. Wiring only: requests go to the pure functions in parser/,
 * features/ and rules/, predictions to the session; settings come from the client per document,
 * and no handler may take the process down.
 */

import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  CodeAction, CodeActionKind, CodeLensRefreshRequest, createConnection, Diagnostic, DiagnosticSeverity, ErrorCodes, ResponseError, DidChangeConfigurationNotification, ProposedFeatures, TextDocuments,
  TextDocumentSyncKind, type Connection, type InitializeResult, type WorkspaceEdit, type TextDocumentEdit,
  type CreateFile,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import {
  BUILD_FINISHED_REQUEST, DOCKER_DOWN_NOTICE, DOCKER_STATUS_NOTIFICATION, FORGET_BUILDS_REQUEST, IMPACT_REQUEST, PREPARE_BUILD_REQUEST, SETTINGS_SECTION, normalizeSettings,
  type ImpactParams, type ImpactResult,
  type BuildFinishedParams, type BuildFinishedResult, type CacheLensSettings, type DockerStatusParams, type ForgetBuildsParams, type PrepareBuildParams,
  type PrepareBuildResult,
} from '../../shared/src/protocol';
import { pathsOf } from './cache/entryTable';
import type { PredictionRun } from './cache/predictor';
import { ParseCache } from './documents';
import { codeLenses } from './features/codeLens';
import { DIAGNOSTIC_SOURCE, ruleDiagnostics, syntaxDiagnostics } from './features/diagnostics';
import { foldingRanges } from './features/folding';
import { hover } from './features/hover';
import { documentImpact, ImpactHashers } from './features/impact';
import { documentSymbols } from './features/symbols';
import { splitStages, type DockerfileAST } from './parser';
import { runRules } from './rules';
import type { RuleDiagnostic, RuleFix } from './rules/types';
import { CacheSession, type DocumentPrediction } from './session';

const connection: Connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);
const parses = new ParseCache();
let canAskConfiguration = false;
let canRefreshLenses = false;

/** What the last validation of a document version found, for lenses, hovers and code actions. */
interface DocState {
  version: number;
  done: Promise<void>;
  prediction: DocumentPrediction | undefined;
  rules: RuleDiagnostic[];
  settings: CacheLensSettings;
}
const states = new Map<string, DocState>();

function errorText(e: unknown): string {
  return e instanceof Error ? (e.stack ?? e.message) : String(e);
}

/** Runs a handler; a failure is logged and answered with `fallback` instead of an error. */
function guarded<P extends unknown[], R>(name: string, fallback: R, fn: (...args: P) => R | Promise<R>): (...args: P) => Promise<R> {
  return async (...args: P) => {
    try {
      return await fn(...args);
    } catch (e) {
      connection.console.error(`${name} failed: ${errorText(e)}`);
      return fallback;
    }
  };
}

function astOf(doc: TextDocument): DockerfileAST {
  return parses.get(doc.uri, doc.version, () => doc.getText());
}

/** Settings are asked for each time: the user may change them per folder at any moment. */
async function settingsFor(uri: string): Promise<CacheLensSettings> {
  if (!canAskConfiguration) return normalizeSettings(undefined);
  const raw: unknown = await connection.workspace.getConfiguration({ scopeUri: uri, section: SETTINGS_SECTION });
  return normalizeSettings(raw);
}

function filePath(uri: string): string | undefined {
  return uri.startsWith('file:') ? fileURLToPath(uri) : undefined;
}

const session = new CacheSession({
  log: (m) => connection.console.info(m),
  onChange: () => scheduleRevalidateAll(),
});

let revalidateTimer: NodeJS.Timeout | undefined;
function scheduleRevalidateAll(): void {
  if (revalidateTimer !== undefined) return;
  revalidateTimer = setTimeout(() => {
    revalidateTimer = undefined;
    for (const doc of documents.all()) void validate(doc, true);
  }, 20);
}

/**
 * Every open document's state computed again now, its diagnostics sent and the lenses refreshed;
 * resolves when that is done (a build's answer waits for it: the editor shows the new state
 * before the task reports done). Takes the place of a scheduled revalidation.
 */
async function revalidateAllNow(): Promise<void> {
  if (revalidateTimer !== undefined) clearTimeout(revalidateTimer);
  revalidateTimer = undefined;
  await Promise.all(documents.all().map((doc) => validate(doc, true)));
}

async function computeState(doc: TextDocument, state: DocState): Promise<void> {
  const settings = await settingsFor(doc.uri);
  state.settings = settings;
  const ast = astOf(doc);
  const file = filePath(doc.uri);
  const prediction = file === undefined ? undefined : await session.predict(file, doc.getText(), settings);
  state.prediction = prediction;
  // A context folder that does not exist (an unsaved or moved Dockerfile) tells rules nothing.
  const ready = prediction?.status === 'ready' && fs.existsSync(prediction.run.config.context) ? prediction : undefined;
  const snapshot = ready?.run.snapshot;
  state.rules = runRules({
    ast,
    stages: splitStages(ast),
    text: doc.getText(),
    contextFiles: snapshot === undefined ? undefined : pathsOf(snapshot.entries),
    dockerignore: snapshot?.ignoreFile === undefined ? undefined : { path: snapshot.ignoreFile, patterns: snapshot.ignorePatterns },
    contextRoot: ready?.run.config.context,
    history: ready?.history ?? [],
  }, settings.rules);
}

const validate = guarded('validate', undefined, async (doc: TextDocument, fromEngine = false): Promise<void> => {
  const previous = states.get(doc.uri);
  const state: DocState = { version: doc.version, done: Promise.resolve(), prediction: previous?.prediction, rules: previous?.rules ?? [], settings: previous?.settings ?? normalizeSettings(undefined) };
  state.done = computeState(doc, state);
  states.set(doc.uri, state);
  await state.done;
  const current = documents.get(doc.uri);
  if (current === undefined || current.version !== doc.version || states.get(doc.uri) !== state) return; // superseded
  const failure = buildFailures.get(doc.uri);
  const diagnostics: Diagnostic[] = [...syntaxDiagnostics(astOf(doc), state.settings), ...ruleDiagnostics(state.rules), ...(failure === undefined ? [] : [failure])];
  await connection.sendDiagnostics({ uri: doc.uri, version: doc.version, diagnostics });
  if (fromEngine && canRefreshLenses) await connection.sendRequest(CodeLensRefreshRequest.type);
});

/** The state of a document's current version, once computed. */
async function stateOf(uri: string): Promise<{ doc: TextDocument; state: DocState } | undefined> {
  const doc = documents.get(uri);
  if (doc === undefined) return undefined;
  let state = states.get(uri);
  if (state === undefined || state.version !== doc.version) {
    await validate(doc);
    state = states.get(uri);
  }
  if (state === undefined) return undefined;
  await state.done;
  return { doc, state };
}

connection.onInitialize((params): InitializeResult => {
  canAskConfiguration = params.capabilities.workspace?.configuration === true;
  canRefreshLenses = params.capabilities.workspace?.codeLens?.refreshSupport === true;
  return {
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      documentSymbolProvider: true,
      foldingRangeProvider: true,
      codeLensProvider: { resolveProvider: false },
      hoverProvider: true,
      codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
    },
    serverInfo: { name: 'Dockerfile Cache Lens' },
  };
});

connection.onInitialized(() => {
  void session.dockerStatus().then((info) => {
    const params: DockerStatusParams = info.ok ? { running: true } : { running: false, notice: DOCKER_DOWN_NOTICE, problem: info.problem.message };
    return connection.sendNotification(DOCKER_STATUS_NOTIFICATION, params);
  }).catch((e: unknown) => connection.console.warn(`could not tell the client about Docker: ${errorText(e)}`));
  if (canAskConfiguration) {
    connection.client.register(DidChangeConfigurationNotification.type, { section: SETTINGS_SECTION }).catch((e: unknown) => {
      connection.console.warn(`could not register for configuration changes: ${errorText(e)}`);
    });
  }
});

connection.onDidChangeConfiguration(() => {
  for (const doc of documents.all()) void validate(doc, true);
});

connection.onDidChangeWatchedFiles((params) => {
  const files = params.changes.map((c) => filePath(c.uri)).filter((f): f is string => f !== undefined);
  session.filesChanged(files);
});

documents.onDidChangeContent((e) => void validate(e.document));
documents.onDidClose((e) => {
  parses.delete(e.document.uri);
  states.delete(e.document.uri);
  connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] }).catch(() => undefined);
});

connection.onDocumentSymbol(guarded('documentSymbol', [], (params) => {
  const doc = documents.get(params.textDocument.uri);
  return doc === undefined ? [] : documentSymbols(astOf(doc));
}));

connection.onFoldingRanges(guarded('foldingRange', [], (params) => {
  const doc = documents.get(params.textDocument.uri);
  return doc === undefined ? [] : foldingRanges(astOf(doc));
}));

connection.onCodeLens(guarded('codeLens', [], async (params) => {
  const s = await stateOf(params.textDocument.uri);
  if (s === undefined || !s.state.settings.codeLens.enabled || s.state.prediction === undefined) return [];
  return codeLenses(params.textDocument.uri, s.state.prediction);
}));

connection.onHover(guarded('hover', null, async (params) => {
  const s = await stateOf(params.textDocument.uri);
  if (s === undefined) return null;
  return hover(astOf(s.doc), s.state.prediction, params.position);
}));

function toWorkspaceEdit(uri: string, version: number, fix: RuleFix): WorkspaceEdit {
  const changes: Array<TextDocumentEdit | CreateFile> = [];
  const own = fix.edits.filter((e) => e.file === undefined && e.range !== undefined);
  if (own.length > 0) {
    changes.push({ textDocument: { uri, version }, edits: own.map((e) => ({ range: e.range as NonNullable<typeof e.range>, newText: e.newText })) });
  }
  for (const e of fix.edits) {
    if (e.file === undefined) continue;
    const target = pathToFileURL(e.file).toString();
    // Create the file if needed, then append at its end.
    let existing = '';
    try {
      existing = fs.readFileSync(e.file, 'utf8');
    } catch {
      changes.push({ kind: 'create', uri: target, options: { ignoreIfExists: true } });
    }
    const end = TextDocument.create(target, 'ignore', 0, existing).positionAt(existing.length);
    const sep = existing === '' || existing.endsWith('\n') ? '' : '\n';
    changes.push({ textDocument: { uri: target, version: null }, edits: [{ range: { start: end, end }, newText: sep + e.newText }] });
  }
  return { documentChanges: changes };
}

connection.onCodeAction(guarded('codeAction', [], async (params) => {
  const s = await stateOf(params.textDocument.uri);
  if (s === undefined) return [];
  const actions: CodeAction[] = [];
  for (const d of params.context.diagnostics) {
    if (d.source !== DIAGNOSTIC_SOURCE) continue;
    const found = s.state.rules.find((r) => r.rule === d.code && r.range.start.line === d.range.start.line && r.range.start.character === d.range.start.character);
    for (const fix of found?.fixes ?? []) {
      const action = CodeAction.create(fix.title, toWorkspaceEdit(s.doc.uri, s.doc.version, fix), CodeActionKind.QuickFix);
      action.diagnostics = [d];
      if (fix.isPreferred === true) action.isPreferred = true;
      actions.push(action);
    }
  }
  return actions;
}));

// Builds run by the client: keys taken at the start, results recorded at the end.
interface PendingBuild { uri: string; run: PredictionRun; settings: CacheLensSettings }
const pendingBuilds = new Map<string, PendingBuild>();
/** The last failed build step of each Dockerfile, shown as a diagnostic until the next build. */
const buildFailures = new Map<string, Diagnostic>();

connection.onRequest(PREPARE_BUILD_REQUEST, async (params: PrepareBuildParams): Promise<PrepareBuildResult> => {
  const file = filePath(params.uri);
  if (file === undefined) throw new ResponseError(ErrorCodes.InvalidParams, `not a file on disk: ${params.uri}`);
  const base = await settingsFor(params.uri);
  const settings: CacheLensSettings = {
    ...base,
    target: params.target ?? base.target,
    buildArgs: params.buildArgs ?? base.buildArgs,
    platform: params.platform ?? base.platform,
    context: params.context ?? base.context,
    engine: params.engine ?? base.engine,
  };
  const text = documents.get(params.uri)?.getText() ?? await fs.promises.readFile(file, 'utf8');
  const run = await session.prepareBuild(file, text, settings, params.builder);
  const buildId = randomUUID();
  pendingBuilds.set(buildId, { uri: params.uri, run, settings });
  return {
    buildId,
    plan: {
      dockerfile: run.config.dockerfile, context: run.config.context, target: run.config.target,
      buildArgs: run.config.buildArgs, platform: run.config.platform, engine: run.config.engine,
    },
    steps: run.result.steps.filter((p) => p.step.dedupOf === undefined && p.step.reachable)
      .map((p) => ({ vertex: p.step.vertex, prediction: p.prediction, reason: p.reason })),
    problems: run.problems,
  };
});

connection.onRequest(BUILD_FINISHED_REQUEST, async (params: BuildFinishedParams): Promise<BuildFinishedResult> => {
  const pending = pendingBuilds.get(params.buildId);
  if (pending === undefined) throw new ResponseError(ErrorCodes.InvalidParams, `unknown build ${params.buildId}`);
  pendingBuilds.delete(params.buildId);
  const comparisons = await session.recordBuild(pending.run, pending.settings, {
    vertices: params.vertices, success: params.success, durationMs: params.durationMs,
  });
  const own = comparisons.filter((c) => c.prediction.step.dedupOf === undefined);
  const failed = own.find((c) => c.actual === 'failed');
  let failure: BuildFinishedResult['failure'];
  if (failed !== undefined) {
    const inst = failed.prediction.step.instruction;
    const tail = failed.vertex?.logTail.slice(-8).join('\n') ?? '';
    const message = `${failed.vertex?.error ?? params.errorMessage ?? 'the step failed'}${tail === '' ? '' : `\n${tail}`}`;
    buildFailures.set(pending.uri, Diagnostic.create(inst.range, message, DiagnosticSeverity.Error, 'build/failed', DIAGNOSTIC_SOURCE));
    failure = { vertex: failed.prediction.step.vertex, line: inst.range.start.line + 1, message };
  } else if (!params.cancelled) {
    buildFailures.delete(pending.uri);
  }
  // The new prediction and the lens refresh before the answer, not after it.
  await revalidateAllNow();
  return {
    recorded: true,
    disagreements: own.filter((c) => c.disagrees).map((c) => ({
      vertex: c.prediction.step.vertex, predicted: c.prediction.prediction, reason: c.prediction.reason, actual: c.actual,
    })),
    failure,
    // FROM is resolved on every build, cached or not: it is no step that ran.
    cached: own.filter((c) => c.actual === 'cached' && c.prediction.step.kind !== 'from').length,
    built: own.filter((c) => c.actual === 'built' && c.prediction.step.kind !== 'from').length,
  };
});

connection.onRequest(FORGET_BUILDS_REQUEST, async (params: ForgetBuildsParams): Promise<void> => {
  if (params.uri === undefined) {
    await session.forget(normalizeSettings(undefined), undefined);
    return;
  }
  const file = filePath(params.uri);
  const settings = await settingsFor(params.uri);
  await session.forget(settings, file === undefined ? undefined : session.configFor(file, settings));
});

// issue 17: the cache impact of a git change, for the open Dockerfile (features/impact.ts).
const impactHashers = new ImpactHashers();
connection.onRequest(IMPACT_REQUEST, async (params: ImpactParams): Promise<ImpactResult> => {
  const file = filePath(params.uri);
  if (file === undefined) return { ok: false, kind: 'not-a-repository', message: `not a file on disk: ${params.uri}` };
  const settings = await settingsFor(params.uri);
  const docker = session.docker;
  return documentImpact(params, settings, session.configFor(file, settings), docker?.ok === true ? docker.mergeOps : false, impactHashers);
});

// A bug must cost one answer, not the server: log and keep serving.
process.on('uncaughtException', (e) => connection.console.error(`uncaught: ${errorText(e)}`));
process.on('unhandledRejection', (e) => connection.console.error(`unhandled rejection: ${errorText(e)}`));

connection.onShutdown(() => session.dispose());
documents.listen(connection);
connection.listen();
