/**
 * The language server process. Wiring only: requests go to the pure functions in parser/ and
 * features/, settings come from the client per document, and no handler may take the process down.
 */

import {
  createConnection, DidChangeConfigurationNotification, ProposedFeatures, TextDocuments, TextDocumentSyncKind,
  type Connection, type InitializeResult,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { SETTINGS_SECTION, normalizeSettings, type CacheLensSettings } from '../../shared/src/protocol';
import { ParseCache } from './documents';
import { syntaxDiagnostics } from './features/diagnostics';
import { foldingRanges } from './features/folding';
import { documentSymbols } from './features/symbols';

const connection: Connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);
const parses = new ParseCache();
let canAskConfiguration = false;

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

function astOf(doc: TextDocument) {
  return parses.get(doc.uri, doc.version, () => doc.getText());
}

/** Settings are asked for each time: the user may change them per folder at any moment. */
async function settingsFor(uri: string): Promise<CacheLensSettings> {
  if (!canAskConfiguration) return normalizeSettings(undefined);
  const raw: unknown = await connection.workspace.getConfiguration({ scopeUri: uri, section: SETTINGS_SECTION });
  return normalizeSettings(raw);
}

const validate = guarded('validate', undefined, async (doc: TextDocument): Promise<void> => {
  const settings = await settingsFor(doc.uri);
  const current = documents.get(doc.uri);
  if (current === undefined || current.version !== doc.version) return; // a newer version will be validated
  await connection.sendDiagnostics({ uri: doc.uri, version: doc.version, diagnostics: syntaxDiagnostics(astOf(doc), settings) });
});

connection.onInitialize((params): InitializeResult => {
  canAskConfiguration = params.capabilities.workspace?.configuration === true;
  return {
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      documentSymbolProvider: true,
      foldingRangeProvider: true,
    },
    serverInfo: { name: 'Dockerfile Cache Lens' },
  };
});

connection.onInitialized(() => {
  if (canAskConfiguration) {
    connection.client.register(DidChangeConfigurationNotification.type, { section: SETTINGS_SECTION }).catch((e: unknown) => {
      connection.console.warn(`could not register for configuration changes: ${errorText(e)}`);
    });
  }
});

connection.onDidChangeConfiguration(() => {
  for (const doc of documents.all()) void validate(doc);
});

documents.onDidChangeContent((e) => void validate(e.document));
documents.onDidClose((e) => {
  parses.delete(e.document.uri);
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

// A bug must cost one answer, not the server: log and keep serving.
process.on('uncaughtException', (e) => connection.console.error(`uncaught: ${errorText(e)}`));
process.on('unhandledRejection', (e) => connection.console.error(`unhandled rejection: ${errorText(e)}`));

documents.listen(connection);
connection.listen();
