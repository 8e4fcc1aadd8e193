/** The VS Code side: starts the language server in its own process and connects it to Dockerfiles. */

import * as path from 'node:path';
import type { ExtensionContext } from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { DOCKERFILE_LANGUAGE_ID, SETTINGS_SECTION } from '../../shared/src/protocol';

let client: LanguageClient | undefined;

export async function activate(context: ExtensionContext): Promise<void> {
  const module = context.asAbsolutePath(path.join('dist', 'server.js'));
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6009'] } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', language: DOCKERFILE_LANGUAGE_ID },
      { scheme: 'untitled', language: DOCKERFILE_LANGUAGE_ID },
    ],
    synchronize: { configurationSection: SETTINGS_SECTION },
  };
  client = new LanguageClient('dockerfileCacheLens', 'Dockerfile Cache Lens', serverOptions, clientOptions);
  await client.start();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}
