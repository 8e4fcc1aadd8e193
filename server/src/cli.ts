/**
 * The command line: the same engine as the language server, for terminals and CI.
 *   dockerfile-cache-lens parse   [-f Dockerfile] [--json | --dump]
 *   dockerfile-cache-lens predict [options] [CONTEXT]
 *   dockerfile-cache-lens build   [options] [CONTEXT] [-- docker build args]
 *   dockerfile-cache-lens impact  [--base REV] [--head REV] [options] [CONTEXT]
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { dumpAST, parse, splitStages, type DockerfileAST, type Instruction } from './parser';
import { probeDocker, runBuild, type DockerReady } from './build/docker';
import { inspectImages } from './build/images';
import { ManifestStore } from './cache/manifest';
import { Predictor, buildConfig, type PredictionRun, type StepComparison } from './cache/predictor';
import type { StepPrediction } from './cache/predict';
import { vertexNames, type BuildPlan } from './cache/steps';
import { formatSeconds } from './features/codeLens';
import { ContextHasher } from './cache/contextHash';
import { pathsOf } from './cache/entryTable';
import type { KnownStep } from './cache/manifest';
import { applyFix, fixToApply, runRules, type RuleDiagnostic, type RuleSeverity } from './rules';
import { DOCKER_DOWN_NOTICE } from '../../shared/src/protocol';
import { EXIT } from './exitCodes';
import { IMPACT_USAGE, impactCommand } from './impact/impactCommand';
import { buildArgsOf } from './buildArgFlags';

const USAGE = `Usage: dockerfile-cache-lens <command> [options]

Commands:
  predict [options] [CONTEXT]   Say, before building, which steps BuildKit will take from its
                                cache, which will run again and why.
  build [options] [CONTEXT] [-- docker build args]
                                Build with docker buildx (progress as it comes), record what
                                BuildKit did, and compare it with the prediction.
  lint [-f Dockerfile] [--json] [--fix | --fix-rule ID...] [CONTEXT]
                                Cache-order rules: each finding with its rule id, line,
                                severity, message and the fixes on offer; --fix applies the
                                safe fixes and says what it changed; --fix-rule ID applies
                                only that rule's fixes, including those --fix leaves out
                                (cache-mount hints, a .dockerignore that changes the image).
                                Exits 1 when a rule of severity error fires (rule
                                severities: --rule ID=SEVERITY|off).
  parse [-f Dockerfile] [--json | --dump]
                                Show how BuildKit reads the Dockerfile (--dump: BuildKit's own
                                AST dump format; --json: the full tree with ranges).
${IMPACT_USAGE}
Options of predict and build:
  -f, --file PATH          The Dockerfile (default: CONTEXT/Dockerfile)
  --target STAGE           Build this stage (default: the last one)
  --build-arg K=V          A build argument (repeatable)
  --platform P             Target platform, e.g. linux/amd64
  --manifest DIR           Where recorded builds live (default: the user's cache directory)
  --engine buildkit|legacy Whose cache to predict: BuildKit (default) or the legacy
                           builder (DOCKER_BUILDKIT=0)
  --json                   Machine-readable output on stdout
  --pull                   (predict) base images will be pulled again: FROM is unknown
  -t, --tag NAME           (build) name the image
  --no-cache               (build) build without the cache
  --no-cache-filter STAGE  Build STAGE without the cache (repeatable; predicted as rebuilt)
  -h, --help               Show this help

CONTEXT defaults to the current directory. Docker is reached exactly as the docker CLI reaches it
(DOCKER_HOST, DOCKER_CONTEXT, the current context, BUILDX_BUILDER), so a remote engine or builder
works as a local one.
`;

/** Exit codes a script can act on. */
export { EXIT };

type Out = NodeJS.WritableStream;

function describe(inst: Instruction): string {
  const lines = inst.range.start.line === inst.range.end.line
    ? `${inst.range.start.line + 1}`
    : `${inst.range.start.line + 1}-${inst.range.end.line + 1}`;
  const flags = inst.flags.map((f) => f.value).join(' ');
  const args = inst.child !== undefined
    ? `${inst.child.keyword.toUpperCase()} ${inst.child.args.map((a) => JSON.stringify(a.value)).join(' ')}`
    : inst.args.map((a) => JSON.stringify(a.value)).join(' ');
  const form = inst.json ? ' (exec form)' : '';
  const heredocs = inst.heredocs.map((h) => ` <<${h.name}: ${h.content.split('\n').length - 1} line(s)${h.expand ? '' : ', not expanded'}`).join('');
  return `  ${lines.padStart(7)}  ${inst.keyword.toUpperCase()}${flags === '' ? '' : ' ' + flags} ${args}${form}${heredocs}`;
}

function printParse(file: string, ast: DockerfileAST, out: Out): void {
  const { metaArgs, stages } = splitStages(ast);
  out.write(`${file}: ${ast.instructions.length} instruction(s), ${stages.length} stage(s), escape character ${ast.escapeToken}\n`);
  for (const d of ast.directives) out.write(`  directive ${d.name}=${d.value}\n`);
  if (metaArgs.length > 0) {
    out.write('global build arguments:\n');
    for (const a of metaArgs) out.write(describe(a) + '\n');
  }
  for (const s of stages) {
    out.write(`stage ${s.index}${s.name === undefined ? '' : ` "${s.name}"`} from ${s.base?.value ?? '?'}${s.platform === undefined ? '' : ` (platform ${s.platform})`}:\n`);
    out.write(describe(s.from) + '\n');
    for (const c of s.commands) out.write(describe(c) + '\n');
  }
  printProblems(file, ast, out);
}

function printProblems(file: string, ast: DockerfileAST, out: Out): void {
  for (const p of ast.problems) {
    out.write(`${file}:${p.range.start.line + 1}:${p.range.start.character + 1}: ${p.severity}: ${p.message} [${p.code}]\n`);
  }
}

interface CommonOptions {
  file?: string; target?: string; 'build-arg'?: string[]; platform?: string; manifest?: string; json?: boolean; pull?: boolean;
  tag?: string; 'no-cache'?: boolean; 'no-cache-filter'?: string[]; dump?: boolean; help?: boolean; engine?: string; fix?: boolean; 'fix-rule'?: string[]; rule?: string[];
}

function parseCommon(args: string[]): { values: CommonOptions; positionals: string[]; passthrough: string[] } {
  const dd = args.indexOf('--');
  const own = dd < 0 ? args : args.slice(0, dd);
  const passthrough = dd < 0 ? [] : args.slice(dd + 1);
  const { values, positionals } = parseArgs({
    args: own,
    allowPositionals: true,
    options: {
      file: { type: 'string', short: 'f' },
      target: { type: 'string' },
      'build-arg': { type: 'string', multiple: true },
      platform: { type: 'string' },
      manifest: { type: 'string' },
      json: { type: 'boolean' },
      pull: { type: 'boolean' },
      tag: { type: 'string', short: 't' },
      'no-cache': { type: 'boolean' },
      'no-cache-filter': { type: 'string', multiple: true },
      dump: { type: 'boolean' },
      engine: { type: 'string' },
      fix: { type: 'boolean' },
      'fix-rule': { type: 'string', multiple: true },
      rule: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  });
  return { values, positionals, passthrough };
}

/** The options, or the exit code when they are wrong or --help was asked for (said on out/err). */
function parseOrExit(rest: string[], out: Out, err: Out): ReturnType<typeof parseCommon> | number {
  let parsed: ReturnType<typeof parseCommon>;
  try {
    parsed = parseCommon(rest);
  } catch (e) {
    err.write(`dockerfile-cache-lens: ${e instanceof Error ? e.message : String(e)}\n\n${USAGE}`);
    return EXIT.usage;
  }
  if (parsed.values.help === true) {
    out.write(USAGE);
    return EXIT.ok;
  }
  return parsed;
}

function readDockerfile(file: string, err: Out): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    err.write(code === 'ENOENT'
      ? `dockerfile-cache-lens: Dockerfile not found: ${file} (use -f to name another file)\n`
      : `dockerfile-cache-lens: cannot read ${file}: ${e instanceof Error ? e.message : String(e)}\n`);
    return undefined;
  }
}

const ICON: Record<string, string> = { hit: '✓', miss: '↻', unknown: '?', skipped: '–' };

function seconds(ms: number | undefined): number | null {
  return ms === undefined ? null : Math.round(ms / 100) / 10;
}

function stepJson(plan: BuildPlan, p: StepPrediction): Record<string, unknown> {
  const s = p.step;
  const also = vertexNames(plan, s).filter((n) => n !== s.vertex);
  return {
    vertex: s.vertex,
    // BuildKit merges identical steps of several stages into one vertex, named after any of them.
    ...(also.length === 0 ? {} : { alsoNamed: also }),
    stage: s.stageName,
    line: s.instruction.range.start.line + 1,
    endLine: s.instruction.range.end.line + 1,
    instruction: s.instruction.keyword.toUpperCase(),
    prediction: p.prediction,
    reason: p.reason,
    details: p.details,
    estimatedSeconds: p.prediction === 'miss' || p.prediction === 'unknown' ? seconds(p.estimatedMs) : null,
    ...(s.dedupOf === undefined ? {} : { sameVertexAs: s.dedupOf }),
  };
}

function printPrediction(run: PredictionRun, out: Out): void {
  for (const p of run.result.steps) {
    if (p.step.dedupOf !== undefined) continue;
    // The same rule as the lenses: under a tenth of a second is not worth a number.
    const est = p.prediction === 'miss' && p.estimatedMs !== undefined && p.estimatedMs >= 100 ? ` ~${formatSeconds(p.estimatedMs)}` : '';
    const why = p.prediction === 'hit' ? 'cached' : p.reason;
    out.write(`${ICON[p.prediction] ?? ' '} ${p.step.vertex.padEnd(60)}  ${why}${est}\n`);
  }
  const c = run.result.counts;
  const total = c.hit + c.miss + c.unknown;
  out.write(`\n${c.hit} of ${total} steps cached, ${c.miss} will run, ${c.unknown} unknown`
    + (c.miss > 0 ? ` · rebuild ~${formatSeconds(run.result.estimatedRebuildMs)}` : '') + '\n');
}

interface EngineSetup { predictor: Predictor; docker: DockerReady | undefined; builder: string; warnings: string[]; dockerProblem: string | undefined }

async function setupEngine(manifestDir: string | undefined, needDocker: boolean, err: Out): Promise<EngineSetup | undefined> {
  const info = await probeDocker(process.env);
  const warnings: string[] = [];
  let builder: string;
  let docker: DockerReady | undefined;
  if (info.ok) {
    docker = info;
    builder = info.builder;
    for (const n of info.notes) warnings.push(n.message);
  } else {
    if (needDocker) {
      err.write(`dockerfile-cache-lens: ${info.problem.message}${info.problem.detail === undefined ? '' : `\n  ${info.problem.detail}`}\n`);
      return undefined;
    }
    // Said once, here: the steps say `unknown` only where the answer hangs on a base image.
    warnings.push(`${DOCKER_DOWN_NOTICE}. ${info.problem.message}`);
    builder = `${info.endpoint ?? 'unknown'}|builder=default|driver=docker`;
  }
  const store = new ManifestStore(manifestDir);
  const reachable = info.ok;
  const predictor = new Predictor({
    store,
    images: async (refs) => (reachable ? inspectImages(refs, process.env) : new Map()),
    imagesUnavailable: reachable ? undefined : 'the Docker engine cannot be asked which image this tag points to',
    mergeOps: docker?.mergeOps ?? false,
    baseNamesPinned: docker?.baseNamesPinned ?? false,
  });
  return { predictor, docker, builder, warnings, dockerProblem: info.ok ? undefined : info.problem.message };
}

async function predictOrBuild(command: 'predict' | 'build', rest: string[], out: Out, err: Out): Promise<number> {
  const parsed = parseOrExit(rest, out, err);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals, passthrough } = parsed;
  if (values.engine !== undefined && values.engine !== 'buildkit' && values.engine !== 'legacy') {
    err.write(`dockerfile-cache-lens: --engine must be buildkit or legacy, not ${values.engine}\n`);
    return EXIT.usage;
  }
  const requested = values.engine === 'legacy' ? 'legacy' : values.engine === 'buildkit' ? 'buildkit' : undefined;
  const context = path.resolve(positionals[0] ?? '.');
  const file = path.resolve(values.file ?? path.join(context, 'Dockerfile'));
  const text = readDockerfile(file, err);
  if (text === undefined) return EXIT.notFound;
  const setup = await setupEngine(values.manifest, command === 'build', err);
  if (setup === undefined) return EXIT.docker;
  for (const w of setup.warnings) err.write(`dockerfile-cache-lens: ${w}\n`);
  // Without buildx, docker builds with the legacy builder: predict that builder's cache.
  const engine = requested ?? setup.docker?.engine ?? 'buildkit';
  const config = buildConfig({
    dockerfile: file, context, target: values.target, buildArgs: buildArgsOf(values['build-arg']),
    platform: values.platform, builder: setup.builder, engine,
  });
  // buildx takes a list per flag too: --no-cache-filter a,b
  const noCacheFilter = values['no-cache-filter']?.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
  const run = await setup.predictor.run(config, text, { pull: values.pull === true, noCacheFilter });
  for (const p of run.problems) err.write(`dockerfile-cache-lens: ${p}\n`);
  const syntaxErrors = run.ast.problems.filter((p) => p.severity === 'error');
  if (syntaxErrors.length > 0) {
    printProblems(path.relative(process.cwd(), file) || file, run.ast, err);
    return EXIT.problems;
  }

  if (command === 'predict') {
    if (values.json === true) {
      out.write(JSON.stringify({
        steps: run.result.steps.filter((p) => p.step.dedupOf === undefined).map((p) => stepJson(run.plan, p)),
        estimatedRebuildSeconds: seconds(run.result.estimatedRebuildMs) ?? 0,
        problems: run.problems,
        // null when the engine answered; else why base images could not be checked.
        docker: setup.dockerProblem === undefined ? null : { running: false, notice: DOCKER_DOWN_NOTICE, problem: setup.dockerProblem },
      }, null, 2) + '\n');
    } else {
      printPrediction(run, out);
    }
    return EXIT.ok;
  }

  const docker = setup.docker as DockerReady;
  const handle = runBuild({
    dockerfile: file, context, target: config.target, buildArgs: config.buildArgs, platform: config.platform,
    noCache: values['no-cache'] === true, tag: values.tag,
    extraArgs: [...(noCacheFilter ?? []).flatMap((f) => ['--no-cache-filter', f]), ...passthrough],
    buildx: docker.buildxVersion !== undefined, env: process.env, docker: docker.docker, engine,
  });
  const onSignal = (): void => handle.cancel();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  handle.onOutput((t) => err.write(t));
  const outcome = await handle.result;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);

  const { comparisons } = await setup.predictor.record(run, outcome);
  const disagreements = comparisons.filter((c) => c.disagrees);
  if (values.json === true) {
    out.write(JSON.stringify({
      success: outcome.success,
      cancelled: outcome.cancelled,
      exitCode: outcome.exitCode,
      durationSeconds: seconds(outcome.durationMs),
      steps: comparisons.filter((c) => c.prediction.step.dedupOf === undefined).map((c: StepComparison) => ({
        ...stepJson(run.plan, c.prediction), actual: c.actual, ...(c.vertex?.durationMs === undefined ? {} : { seconds: seconds(c.vertex.durationMs) }),
      })),
      vertices: outcome.vertices.map((v) => ({ name: v.name, cached: v.cached, error: v.error ?? null })),
      error: outcome.errorMessage ?? null,
    }, null, 2) + '\n');
  } else {
    for (const d of disagreements) {
      err.write(`dockerfile-cache-lens: predicted ${d.prediction.prediction} (${d.prediction.reason}) but BuildKit ${d.actual === 'cached' ? 'used the cache' : 'rebuilt'}: ${d.prediction.step.vertex}\n`);
    }
    // FROM is resolved on every build, cached or not: it is no step that ran.
    const steps = comparisons.filter((c) => c.prediction.step.dedupOf === undefined && c.prediction.step.kind !== 'from');
    const cached = steps.filter((c) => c.actual === 'cached').length;
    const ran = steps.filter((c) => c.actual === 'built').length;
    out.write(`${outcome.success ? 'built' : outcome.cancelled ? 'cancelled' : 'failed'}: ${cached} step(s) cached, ${ran} run, in ${seconds(outcome.durationMs) ?? 0} s`
      + `${disagreements.length > 0 ? `; ${disagreements.length} step(s) differed from the prediction` : ''}\n`);
  }
  if (outcome.cancelled) return EXIT.cancelled;
  if (!outcome.success) {
    const failed = outcome.failedVertex;
    err.write(`dockerfile-cache-lens: build failed${failed === undefined ? '' : ` at ${failed.name}`}: ${outcome.errorMessage ?? failed?.error ?? `docker exited with ${outcome.exitCode ?? 'a signal'}`}\n`);
    return EXIT.buildFailed;
  }
  return EXIT.ok;
}

function parseCommand(rest: string[], out: Out, err: Out): number {
  const parsed = parseOrExit(rest, out, err);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const file = values.file ?? positionals[0] ?? 'Dockerfile';
  const text = readDockerfile(file, err);
  if (text === undefined) return EXIT.notFound;
  const ast = parse(text);
  if (values.json === true) out.write(JSON.stringify(ast, null, 2) + '\n');
  else if (values.dump === true) out.write(dumpAST(ast));
  else printParse(file, ast, out);
  return ast.problems.some((p) => p.severity === 'error') ? EXIT.problems : EXIT.ok;
}

async function lintCommand(rest: string[], out: Out, err: Out): Promise<number> {
  const parsed = parseOrExit(rest, out, err);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const severities: Record<string, RuleSeverity | 'off'> = {};
  for (const r of values.rule ?? []) {
    const [id = '', sev = ''] = r.split('=');
    if (!['error', 'warning', 'info', 'hint', 'off'].includes(sev)) {
      err.write(`dockerfile-cache-lens: --rule takes ID=error|warning|info|hint|off, not ${r}\n`);
      return EXIT.usage;
    }
    severities[id] = sev as RuleSeverity | 'off';
  }
  const context = path.resolve(positionals[0] ?? '.');
  const file = path.resolve(values.file ?? path.join(context, 'Dockerfile'));
  let text = readDockerfile(file, err);
  if (text === undefined) return EXIT.notFound;
  const snapshot = await new ContextHasher(context, { dockerfile: file }).snapshot();
  // Recorded builds feed the rule on frequently-changing steps; without Docker there are none to read.
  const info = await probeDocker(process.env);
  const history: KnownStep[] = info.ok
    ? [...(await new ManifestStore(values.manifest).knownKeys(info.builder, info.engine)).values()].sort((a, b) => b.time.localeCompare(a.time))
    : [];
  const lint = (t: string): RuleDiagnostic[] => {
    const ast = parse(t);
    return runRules({
      ast, stages: splitStages(ast), text: t,
      contextFiles: pathsOf(snapshot.entries),
      dockerignore: snapshot.ignoreFile === undefined ? undefined : { path: snapshot.ignoreFile, patterns: snapshot.ignorePatterns },
      contextRoot: context, history,
    }, severities);
  };
  let found = lint(text);
  const changes: string[] = [];
  const asked = values['fix-rule'] === undefined ? undefined : new Set(values['fix-rule']);
  const fixing = values.fix === true || asked !== undefined;
  if (fixing) {
    // One fix at a time, linting again after each: a fix moves lines under the others.
    for (let round = 0; round < 50; round++) {
      const next = found.find((d) => fixToApply(d, asked) !== undefined);
      const fix = next === undefined ? undefined : fixToApply(next, asked);
      if (next === undefined || fix === undefined) break;
      text = applyFix(text, fix);
      for (const e of fix.edits) {
        if (e.file === undefined) continue;
        const old = fs.existsSync(e.file) ? fs.readFileSync(e.file, 'utf8') : '';
        fs.writeFileSync(e.file, old + (old === '' || old.endsWith('\n') ? '' : '\n') + e.newText);
        changes.push(`${path.relative(process.cwd(), e.file) || e.file}: ${fix.title}`);
      }
      changes.push(`${path.relative(process.cwd(), file) || file}:${next.range.start.line + 1}: ${fix.title} [${next.rule}]`);
      const again = lint(text);
      // A fix that leaves its own finding in place would loop: stop there.
      if (again.some((d) => d.rule === next.rule && d.range.start.line === next.range.start.line && d.fixes.some((f) => f.title === fix.title))) break;
      found = again;
    }
    if (changes.length > 0) fs.writeFileSync(file, text);
    found = lint(text);
  }
  const shown = path.relative(process.cwd(), file) || file;
  if (values.json === true) {
    out.write(JSON.stringify({
      diagnostics: found.map((d) => ({
        rule: d.rule, line: d.range.start.line + 1, endLine: d.range.end.line + 1, severity: d.severity, message: d.message,
        fixes: d.fixes.map((f) => ({ title: f.title })),
      })),
      ...(fixing ? { fixed: changes } : {}),
    }, null, 2) + '\n');
  } else {
    for (const c of changes) out.write(`fixed: ${c}\n`);
    for (const d of found) {
      out.write(`${shown}:${d.range.start.line + 1}:${d.range.start.character + 1}: ${d.severity}: ${d.message} [${d.rule}]\n`);
      for (const f of d.fixes) out.write(`    fix available: ${f.title}\n`);
    }
    if (found.length === 0) out.write(`${shown}: no cache-order findings\n`);
  }
  return found.some((d) => d.severity === 'error') ? EXIT.problems : EXIT.ok;
}

export async function main(argv: string[], out: Out = process.stdout, err: Out = process.stderr): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    out.write(USAGE);
    return command === undefined ? EXIT.usage : EXIT.ok;
  }
  switch (command) {
    case 'parse': return parseCommand(rest, out, err);
    case 'lint': return lintCommand(rest, out, err);
    case 'impact': return impactCommand(rest, out, err);
    case 'predict':
    case 'build': return predictOrBuild(command, rest, out, err);
    default:
      err.write(`dockerfile-cache-lens: unknown command '${command}'\n\n${USAGE}`);
      return EXIT.usage;
  }
}

/** Runs the CLI and sets the exit code; never leaves an exception unreported. */
export function runMain(argv: string[]): void {
  main(argv).then((code) => {
    process.exitCode = code;
  }, (e: unknown) => {
    process.stderr.write(`dockerfile-cache-lens: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 70;
  });
}

if (require.main === module) runMain(process.argv.slice(2));
