/**
 * The `dockerfile-cache-lens` task type: one task per Dockerfile of the workspace (every folder),
 * tasks.json tasks resolved, each run in a pseudoterminal by buildFlow. The build commands run
 * these tasks, so every build shows in the terminal panel.
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  CustomExecution, EventEmitter, Task, TaskGroup, TaskRevealKind, TaskScope, Uri, workspace,
  type Pseudoterminal, type TaskDefinition, type TaskProvider, type WorkspaceFolder,
} from 'vscode';
import { probeDocker, runBuild } from '../../server/src/build/docker';
import {
  TASK_TYPE, checkDefinition, startBuildFlow, type BuildFlow, type BuildFlowResult, type BuildRequest, type BuildServer,
  type BuildTaskDefinition,
} from './buildFlow';

export const TASK_SOURCE = 'Dockerfile Cache Lens';

/** Dockerfiles by the names VS Code gives the dockerfile language. */
export const DOCKERFILE_GLOB = '**/{Dockerfile,*.Dockerfile,Dockerfile.*,Containerfile}';
export const DOCKERFILE_EXCLUDE = '**/node_modules/**';

/** Every Dockerfile of every workspace folder (not `Dockerfile.dockerignore`), sorted. */
export async function findDockerfiles(): Promise<Uri[]> {
  const found = await workspace.findFiles(DOCKERFILE_GLOB, DOCKERFILE_EXCLUDE);
  return found
    .filter((u) => !u.path.endsWith('.dockerignore'))
    .sort((a, b) => workspace.asRelativePath(a, true).localeCompare(workspace.asRelativePath(b, true)));
}

/** What a finished build tells the rest of the extension. */
export interface BuildListener {
  /** The task reports done once this resolves (the status bar shows the build by then). */
  (uri: string, result: BuildFlowResult): Promise<void>;
}

export interface TaskContext {
  server: () => BuildServer | undefined;
  onFinished: BuildListener;
}

/** The Dockerfile of a definition: absolute, or relative to the task's folder (else the first folder). */
function dockerfilePath(def: BuildTaskDefinition, folder: WorkspaceFolder | undefined): string | undefined {
  if (path.isAbsolute(def.dockerfile)) return def.dockerfile;
  const base = folder ?? workspace.workspaceFolders?.[0];
  return base === undefined ? undefined : path.join(base.uri.fsPath, def.dockerfile);
}

function folderOf(scope: Task['scope']): WorkspaceFolder | undefined {
  return typeof scope === 'object' ? scope : undefined;
}

/** The task's terminal: runs one build, Ctrl+C or closing it cancels. */
class BuildTerminal implements Pseudoterminal {
  private readonly writeEmitter = new EventEmitter<string>();
  private readonly closeEmitter = new EventEmitter<number>();
  readonly onDidWrite = this.writeEmitter.event;
  readonly onDidClose = this.closeEmitter.event;
  private flow: BuildFlow | undefined;
  private closed = false;

  constructor(private readonly raw: TaskDefinition, private readonly folder: WorkspaceFolder | undefined, private readonly ctx: TaskContext) {}

  private write(text: string): void {
    if (!this.closed) this.writeEmitter.fire(text.replace(/\r?\n/g, '\r\n'));
  }

  private end(code: number): void {
    if (this.closed) return;
    this.closed = true;
    this.closeEmitter.fire(code);
  }

  open(): void {
    void this.run().catch((e: unknown) => {
      this.write(`\r\nThe build could not run: ${e instanceof Error ? e.message : String(e)}\n`);
      this.end(1);
    });
  }

  private async run(): Promise<void> {
    if (!workspace.isTrusted) {
      this.write('Builds need a trusted workspace (predictions work without one).\n');
      this.end(1);
      return;
    }
    const checked = checkDefinition(this.raw);
    if ('error' in checked) {
      this.write(`This ${TASK_TYPE} task cannot run: ${checked.error}.\n`);
      this.end(1);
      return;
    }
    const def = checked.definition;
    const file = dockerfilePath(def, this.folder);
    if (file === undefined) {
      this.write(`"${def.dockerfile}" is relative, but there is no workspace folder: give an absolute path.\n`);
      this.end(1);
      return;
    }
    if (!fs.existsSync(file)) {
      this.write(`Dockerfile not found: ${file}\n`);
      this.end(1);
      return;
    }
    const server = this.ctx.server();
    if (server === undefined) {
      this.write('The Dockerfile Cache Lens language server is not running.\n');
      this.end(1);
      return;
    }
    // The server predicts from the open document: what docker reads must be the same text.
    const open = workspace.textDocuments.find((d) => d.uri.fsPath === file);
    if (open?.isDirty === true) await open.save();
    const uri = open?.uri.toString() ?? Uri.file(file).toString();
    const request: BuildRequest = {
      uri, context: def.context, target: def.target, buildArgs: def.buildArgs, platform: def.platform,
      tag: def.tag, builder: def.builder, noCache: def.noCache, args: def.args,
    };
    const flow = startBuildFlow({ server, write: (t) => { this.write(t); }, docker: { probeDocker, runBuild }, env: process.env, request });
    this.flow = flow;
    const result = await flow.result;
    await this.ctx.onFinished(uri, result);
    this.end(result.exitCode);
  }

  handleInput(data: string): void {
    if (data === '\x03') {
      this.write('^C\n');
      this.flow?.cancel();
    }
  }

  close(): void {
    // Terminate Task / the terminal closed. The flow still tells the server what completed.
    this.closed = true;
    this.flow?.cancel();
  }
}

/** `build app/Dockerfile`, `build app/Dockerfile --target test (no cache)` */
function taskName(def: BuildTaskDefinition, folder: WorkspaceFolder | undefined): string {
  const file = dockerfilePath(def, folder);
  const label = file === undefined ? def.dockerfile : workspace.asRelativePath(file, true);
  return `build ${label}${def.target !== undefined && def.target !== '' ? ` --target ${def.target}` : ''}${def.noCache === true ? ' (no cache)' : ''}`;
}

export function createTask(def: BuildTaskDefinition, scope: WorkspaceFolder | TaskScope.Workspace | TaskScope.Global, ctx: TaskContext, name?: string): Task {
  const folder = typeof scope === 'object' ? scope : undefined;
  const task = new Task(def, scope, name ?? taskName(def, folder), TASK_SOURCE,
    new CustomExecution((resolved) => Promise.resolve(new BuildTerminal(resolved, folder, ctx))), []);
  task.group = TaskGroup.Build;
  task.presentationOptions = { reveal: TaskRevealKind.Always, clear: true };
  return task;
}

/** The definition (and scope) a command builds a Dockerfile with. */
export function definitionFor(file: Uri, extra: Partial<BuildTaskDefinition> = {}): { def: BuildTaskDefinition; scope: WorkspaceFolder | TaskScope.Workspace } {
  const folder = workspace.getWorkspaceFolder(file);
  const dockerfile = folder === undefined ? file.fsPath : path.relative(folder.uri.fsPath, file.fsPath).split(path.sep).join('/');
  const def: BuildTaskDefinition = { type: TASK_TYPE, dockerfile };
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) (def as unknown as Record<string, unknown>)[k] = v;
  return { def, scope: folder ?? TaskScope.Workspace };
}

export class BuildTaskProvider implements TaskProvider {
  constructor(private readonly ctx: TaskContext) {}

  async provideTasks(): Promise<Task[]> {
    if (!workspace.isTrusted) return [];
    const files = await findDockerfiles();
    return files.map((f) => {
      const { def, scope } = definitionFor(f);
      return createTask(def, scope, this.ctx);
    });
  }

  resolveTask(task: Task): Task | undefined {
    if (!workspace.isTrusted) return undefined;
    if (task.definition.type !== TASK_TYPE) return undefined;
    const scope = task.scope === undefined || typeof task.scope === 'number' ? TaskScope.Workspace : task.scope;
    // A broken definition still resolves: its terminal says what is wrong.
    const resolved = new Task(task.definition, scope, task.name, TASK_SOURCE,
      new CustomExecution((d) => Promise.resolve(new BuildTerminal(d, folderOf(scope), this.ctx))), []);
    resolved.group = task.group ?? TaskGroup.Build;
    return resolved;
  }
}
