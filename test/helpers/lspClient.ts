/**
 * A real LSP client for tests: starts the bundled server (dist/server.js) as its own process over
 * stdio and talks JSON-RPC to it with vscode-languageserver-protocol. Waits on messages, never on time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import {
  createProtocolConnection, StreamMessageReader, StreamMessageWriter, type ProtocolConnection,
  InitializeRequest, InitializedNotification, ConfigurationRequest, PublishDiagnosticsNotification,
  DidOpenTextDocumentNotification, DidChangeTextDocumentNotification, DidCloseTextDocumentNotification,
  RegistrationRequest, CodeLensRefreshRequest, ShutdownRequest, ExitNotification, LogMessageNotification,
  type PublishDiagnosticsParams, type ConfigurationParams,
} from 'vscode-languageserver-protocol/node';

import { SERVER_EXEC_ARGV } from '../../shared/src/protocol';

export const SERVER = path.join(__dirname, '..', '..', 'dist', 'server.js');

export class TestClient {
  readonly connection: ProtocolConnection;
  readonly process: ChildProcess;
  readonly logs: string[] = [];
  private readonly diagnostics = new Map<string, PublishDiagnosticsParams[]>();
  private readonly waiters: Array<{ uri: string; pred: (p: PublishDiagnosticsParams) => boolean; resolve: (p: PublishDiagnosticsParams) => void }> = [];
  /** Settings answered to workspace/configuration, per document URI ('*' for any). */
  settings = new Map<string, unknown>();
  configurationRequests = 0;
  stderr = '';
  exited: Promise<number | null>;

  /** How many `workspace/codeLens/refresh` requests the server sent. */
  lensRefreshes = 0;
  private readonly refreshWaiters: Array<() => void> = [];

  constructor(env: NodeJS.ProcessEnv = process.env) {
    // Started as the extension starts it (the same Node options).
    this.process = spawn(process.execPath, [...SERVER_EXEC_ARGV, SERVER, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'], env });
    this.process.stderr?.on('data', (d: Buffer) => { this.stderr += d.toString(); });
    this.exited = new Promise((resolve) => this.process.on('exit', (code) => resolve(code)));
    if (this.process.stdout === null || this.process.stdin === null) throw new Error('no stdio');
    this.connection = createProtocolConnection(new StreamMessageReader(this.process.stdout), new StreamMessageWriter(this.process.stdin));
    this.connection.onNotification(PublishDiagnosticsNotification.type, (p) => {
      const list = this.diagnostics.get(p.uri) ?? [];
      list.push(p);
      this.diagnostics.set(p.uri, list);
      for (let i = this.waiters.length - 1; i >= 0; i--) {
        const w = this.waiters[i];
        if (w !== undefined && w.uri === p.uri && w.pred(p)) {
          this.waiters.splice(i, 1);
          w.resolve(p);
        }
      }
    });
    this.connection.onNotification(LogMessageNotification.type, (p) => { this.logs.push(p.message); });
    this.connection.onRequest(ConfigurationRequest.type, (p: ConfigurationParams) => {
      this.configurationRequests++;
      return p.items.map((i) => this.settings.get(i.scopeUri ?? '') ?? this.settings.get('*') ?? {});
    });
    this.connection.onRequest(RegistrationRequest.type, () => undefined);
    this.connection.onRequest(CodeLensRefreshRequest.type, () => {
      this.lensRefreshes++;
      for (const w of this.refreshWaiters.splice(0)) w();
    });
    this.connection.listen();
  }

  async initialize(): Promise<void> {
    await this.connection.sendRequest(InitializeRequest.type, {
      processId: process.pid,
      rootUri: null,
      capabilities: {
        workspace: { configuration: true, didChangeConfiguration: { dynamicRegistration: true }, codeLens: { refreshSupport: true } },
        textDocument: { documentSymbol: { hierarchicalDocumentSymbolSupport: true } },
      },
      workspaceFolders: null,
    });
    await this.connection.sendNotification(InitializedNotification.type, {});
  }

  /** Resolves at the next `workspace/codeLens/refresh` the server sends. */
  nextLensRefresh(): Promise<void> {
    return new Promise((resolve) => this.refreshWaiters.push(resolve));
  }

  /** Resolves with the first diagnostics for `uri` (already received or to come) that satisfy `pred`. */
  waitForDiagnostics(uri: string, pred: (p: PublishDiagnosticsParams) => boolean = () => true): Promise<PublishDiagnosticsParams> {
    const seen = (this.diagnostics.get(uri) ?? []).find(pred);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ uri, pred, resolve }));
  }

  async open(uri: string, text: string, version = 1): Promise<void> {
    await this.connection.sendNotification(DidOpenTextDocumentNotification.type, {
      textDocument: { uri, languageId: 'dockerfile', version, text },
    });
  }

  async replace(uri: string, text: string, version: number): Promise<void> {
    await this.connection.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri, version },
      contentChanges: [{ text }],
    });
  }

  async close(uri: string): Promise<void> {
    await this.connection.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri } });
  }

  async shutdown(): Promise<number | null> {
    await this.connection.sendRequest(ShutdownRequest.type);
    await this.connection.sendNotification(ExitNotification.type);
    const code = await this.exited;
    this.connection.dispose();
    return code;
  }
}
