/**
 * `npm start`: the product, running. Builds and packages the extension; finds a Docker engine
 * (DOCKER_HOST or the docker context when it answers, else the private engine of scripts/engine.sh,
 * started — and installed on first run — here); builds a copy of examples/node-app once, through
 * our CLI, so that the build is recorded; starts code-server on 127.0.0.1 (a free port, its own
 * profile, the packaged extension installed) on that copy and prints the URL. Serves until Ctrl+C,
 * then stops what it started.
 *
 * `npm start -- --check` does the same, then looks with headless Chromium: opens the Dockerfile,
 * waits for the lenses of the recorded build, writes a screenshot, says where, and exits 0.
 *
 * Every wait is bounded and says what it waits for; what cannot be installed here is said, with
 * exit code 1, before anything long starts.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { probeDocker, type DockerInfo, type DockerReady } from '../server/src/build/docker';
import { ManifestStore } from '../server/src/cache/manifest';
import { buildConfig } from '../server/src/cache/predictor';
import { EXAMPLES, ROOT, VSIX, startCodeServer, type CodeServer } from './lib/codeServer';
import { ENGINE_SH, engineSh, parseEngineEnv } from './lib/engine';
import { Workbench, splitLens, type ShownLens } from './lib/workbench';

const CHECK = process.argv.includes('--check');
const MIN = 60_000;

function say(text: string): void {
  process.stdout.write(`npm start: ${text}\n`);
}

class StartError extends Error {}

/** Runs a command with its output shown; rejects after `timeoutMs`, saying what it was doing. */
function runShown(what: string, cmd: string, args: string[], timeoutMs: number, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  return new Promise((resolve, reject) => {
    // In npm start's process group: a Ctrl+C reaches it too.
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'inherit', 'inherit'] });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new StartError(`${what}: no end after ${Math.round(timeoutMs / MIN)} min; stopped it`));
    }, timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); reject(new StartError(`${what}: ${e.message}`)); });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new StartError(`${what} failed (${code === null ? `signal ${signal ?? '?'}` : `exit ${code}`}); its output is above`));
    });
  });
}

/** Runs a command quietly: its exit code and output. */
function runQuiet(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (b: Buffer) => { output += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { output += b.toString(); });
    const timer = setTimeout(() => { child.kill('SIGKILL'); }, timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); resolve({ code: null, output: e.message }); });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, output }); });
  });
}

/** code-server and Chromium (scripts/e2e-setup.sh), installed on first run, or why they cannot be. */
async function ensureWorkbenchTools(): Promise<void> {
  const e2eSetup = path.join(ROOT, 'scripts', 'e2e-setup.sh');
  const missing = await runQuiet('bash', [e2eSetup, '--missing'], 30_000);
  if (missing.code === 0) return;
  if (missing.code !== 10) {
    throw new StartError(`VS Code in the browser (code-server) and Chromium cannot be installed here:\n${missing.output.trim()}`);
  }
  say(`first run: installing code-server and Chromium (scripts/e2e-setup.sh: Debian packages, npm ci in test/e2e; a few minutes):\n  ${missing.output.trim().split('\n').join('\n  ')}`);
  await runShown('scripts/e2e-setup.sh', 'bash', [e2eSetup], 30 * MIN);
}

interface Engine {
  env: NodeJS.ProcessEnv;
  info: DockerReady;
  /** We started the private engine: stop it at the end. */
  started: boolean;
}

function buildsWithBuildKit(info: DockerInfo): info is DockerReady {
  return info.ok && info.buildxVersion !== undefined;
}

/** The user's Docker when DOCKER_HOST or the docker context answers, else the private engine. */
async function findEngine(): Promise<Engine> {
  say('waiting for Docker: is DOCKER_HOST or the docker context a running engine? (gives up after 20 s)');
  const own = await probeDocker(process.env);
  if (buildsWithBuildKit(own)) {
    say(`using your Docker ${own.serverVersion} at ${own.endpoint} (builder ${own.builderName})`);
    return { env: process.env, info: own, started: false };
  }
  say(`not your Docker (${own.ok ? 'no buildx' : own.problem.message}): the private engine, scripts/engine.sh`);
  const env = parseEngineEnv(await engineSh(['env'], 30_000));
  const running = await probeDocker(env);
  if (buildsWithBuildKit(running)) {
    say(`the private engine is running: Docker ${running.serverVersion} at ${running.endpoint}`);
    return { env, info: running, started: false };
  }
  if (process.getuid?.() !== 0) {
    throw new StartError('no Docker engine answers, and the private one needs root to install and run (scripts/engine.sh: a rootful dockerd from Debian packages).'
      + ' Start Docker and point DOCKER_HOST or the docker context at it, or run npm start as root.');
  }
  say('starting the private engine (scripts/engine.sh start; its first run installs Docker 26.1 + buildx from Debian packages: a few minutes)');
  await runShown('scripts/engine.sh start', 'bash', [ENGINE_SH, 'start'], 20 * MIN);
  const info = await probeDocker(env);
  if (!buildsWithBuildKit(info)) throw new StartError(`the private engine started but does not build: ${info.ok ? 'no buildx' : info.problem.message}`);
  return { env, info, started: true };
}

/** The copy of examples/node-app npm start opens, in the user's cache folder (kept between runs). */
function exampleCopy(): string {
  const dir = path.join(path.dirname(ManifestStore.defaultDir()), 'start', 'node-app');
  if (!fs.existsSync(path.join(dir, 'Dockerfile'))) {
    say(`copying examples/node-app to ${dir}`);
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    const tmp = `${dir}.tmp-${process.pid}`;
    fs.cpSync(path.join(EXAMPLES, 'node-app'), tmp, { recursive: true });
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(tmp, dir);
  }
  return dir;
}

/** Builds the copy through our CLI (so that the build is recorded) unless a build of it is. */
async function buildOnce(dir: string, engine: Engine): Promise<void> {
  const config = buildConfig({ dockerfile: path.join(dir, 'Dockerfile'), context: dir, builder: engine.info.builder, engine: engine.info.engine });
  const { manifest } = await new ManifestStore(ManifestStore.defaultDir(engine.env)).load(config);
  if ((manifest?.builds.length ?? 0) > 0) {
    say(`${dir} was built before on this builder: not building it again`);
    return;
  }
  say(`building ${dir} once, recorded for the lenses (dockerfile-cache-lens build; up to 15 min)`);
  await runShown('dockerfile-cache-lens build', process.execPath, [path.join(ROOT, 'dist', 'cli.js'), 'build', dir], 15 * MIN, engine.env);
}

/** The lenses of the recorded build: the stage summaries and `✓ cached` steps. */
function lensesShowBuild(lenses: readonly ShownLens[]): boolean {
  const summaries = lenses.map((l) => splitLens(l.text).summary).filter((s) => s !== undefined);
  return summaries.some((s) => /last built/.test(s)) && lenses.some((l) => splitLens(l.text).step === '✓ cached');
}

async function check(server: CodeServer, dir: string): Promise<string> {
  say('opening the workbench in headless Chromium (waits up to 60 s for each thing it looks for)');
  const wb = await Workbench.open(server);
  try {
    await wb.openFile('Dockerfile');
    const lenses = await wb.waitForLenses('the lenses of the recorded build (a stage summary `… last built …` and `✓ cached` steps)', lensesShowBuild, 120_000);
    const file = path.join(path.dirname(dir), 'check.png');
    await wb.screenshot('start-check', { file });
    for (const l of lenses) say(`  line ${l.line}: ${l.text.replace(/\s*\n\s*/g, ' ')}`);
    return file;
  } finally {
    await wb.close();
  }
}

async function main(): Promise<number> {
  const t0 = Date.now();
  const since = (): string => `${Math.round((Date.now() - t0) / 1000)} s`;
  await ensureWorkbenchTools();
  say('building and packaging the extension (npm run package)');
  await runShown('npm run package', 'npm', ['run', '--silent', 'package'], 10 * MIN);
  if (!fs.existsSync(VSIX)) throw new StartError(`${VSIX} is missing after npm run package`);
  const engine = await findEngine();
  let server: CodeServer | undefined;
  const stop = async (): Promise<void> => {
    const s = server;
    server = undefined;
    await s?.stop();
    if (engine.started) {
      say('stopping the private engine it started (scripts/engine.sh stop)');
      await engineSh(['stop'], 60_000).catch((e: unknown) => say(`could not stop the engine: ${e instanceof Error ? e.message : String(e)}`));
    }
  };
  try {
    const dir = exampleCopy();
    await buildOnce(dir, engine);
    say('starting code-server with the packaged extension (waits up to 60 s for it to listen)');
    // The user's manifest folder (empty setting): the lenses see the build the CLI recorded.
    server = await startCodeServer({ workspace: dir, env: engine.env, settings: { 'dockerfileCacheLens.manifestDirectory': '' } });
    say(`ready after ${since()}. Open in a browser:\n\n  ${server.url}\n\n  (${dir}: open its Dockerfile for the lenses; Build Image is Ctrl+Alt+Shift+B)\n`);
    if (CHECK) {
      const shot = await check(server, dir);
      say(`check passed after ${since()}: the lenses show. Screenshot: ${shot}`);
      return 0;
    }
    say('serving until Ctrl+C');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    say('stopping');
    return 0;
  } finally {
    await stop();
  }
}

main().then((code) => { process.exitCode = code; }, (e: unknown) => {
  process.stderr.write(`npm start: ${e instanceof StartError ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
