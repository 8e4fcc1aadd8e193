/**
 * Every quick-fix the cache rules offer (server/src/rules) on sample projects (test/helpers/
 * fixProjects.ts), proven on the real engine (scripts/engine.sh):
 * 1. safe: the original Dockerfile and the fixed one build the same image — file system (every
 *    path with type, mode, owner, size, sha256) and config (`docker image inspect` Config) — before
 *    and after a typical edit; differences a fix makes by design (the Dockerfile itself when
 *    `COPY . .` takes it in, what its .dockerignore now excludes, a package cache moved into a
 *    cache mount) are listed with their reason. Because the stand-in tools never read files, every
 *    step that sees less of the context after the fix is also checked statically: each file its
 *    real tool reads must still be there (fixHarness.checkInputs);
 * 2. useful: after the edit, the fixed Dockerfile reruns strictly fewer steps (equal or fewer for
 *    fixes that do not claim it), and the rule no longer fires on it.
 * Results go to test-output/fixes.json; scripts/fixes-doc.ts turns them into docs/fixes.md.
 */
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RuleDiagnostic, RuleFix } from '../../server/src/rules/types';
import { engineEnv, engineInfo, type EngineInfo } from '../helpers/differential';
import {
  applyOtherFileEdits, build, checkCacheMounts, checkInputs, diffConfig, diffListings, exempted, exemptions, exportImage, FIXES_REPORT,
  imageConfig, lineDiff, loadRules, materialiseEdit, modelDockerfile, NO_RERUN_CLAIM, otherFileEdits, removeImages,
  rerunSteps, ruleContext, ruleName, writeFiles,
  type FixesReport, type FixResult, type FsEntry, type OtherFileEdit, type RulesApi,
} from '../helpers/fixHarness';
import { FIX_PROJECTS, type FixProject } from '../helpers/fixProjects';

const TIMEOUT = { timeout: 600_000 };
/** DCL_FIXES_ONLY=name,name runs only those projects (the report says so). */
const ONLY = (process.env.DCL_FIXES_ONLY ?? '').split(',').filter((s) => s !== '');
/** Projects built at once (DCL_FIXES_CONCURRENCY); 1 keeps the step durations free of each other's load. */
const CONCURRENCY = Math.max(1, Number(process.env.DCL_FIXES_CONCURRENCY ?? '2') || 2);
const PROJECTS = FIX_PROJECTS.filter((p) => ONLY.length === 0 || ONLY.includes(p.name));

const started = Date.now();
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'dcl-fixes-'));
let env: NodeJS.ProcessEnv = {};
let engine: EngineInfo | undefined;
let api: RulesApi | undefined;
let rulesProblem: string | undefined;
let cacheMountHides: boolean | undefined;
const tags: string[] = [];
const report: FixesReport['projects'] = [];
const results: FixResult[] = [];

const unavailable = ((): string | undefined => {
  if (typeof process.getuid === 'function' && process.getuid() !== 0 && process.env.DCL_USE_EXISTING_DOCKER !== '1') return 'the private engine needs root (or DCL_USE_EXISTING_DOCKER=1)';
  return undefined;
})();

before(async () => {
  if (unavailable !== undefined) return;
  const loaded = await loadRules();
  if (typeof loaded === 'string') rulesProblem = loaded;
  else api = loaded;
  env = engineEnv();
  engine = await engineInfo(env);
});

after(async () => {
  if (engine !== undefined) {
    const out: FixesReport = {
      version: 1,
      generatedAt: new Date().toISOString(),
      durationMs: Date.now() - started,
      engine,
      rulesAvailable: api !== undefined,
      rulesProblem,
      concurrency: CONCURRENCY,
      cacheMountHidesLayer: cacheMountHides,
      rules: (api?.RULES ?? []).map((r) => ({ id: r.id, title: r.title, offeredFixes: results.filter((x) => x.kind === 'single' && x.rule === r.id).length })),
      projects: FIX_PROJECTS.map((p) => report.find((r) => r.name === p.name)).filter((r) => r !== undefined),
      results: [...results].sort((x, y) => FIX_PROJECTS.findIndex((p) => p.name === x.project) - FIX_PROJECTS.findIndex((p) => p.name === y.project)),
    };
    if (ONLY.length === 0) {
      fs.mkdirSync(path.dirname(FIXES_REPORT), { recursive: true });
      fs.writeFileSync(FIXES_REPORT, JSON.stringify(out, null, 2) + '\n');
    }
    await removeImages(env, tags);
  }
  fs.rmSync(tmpRoot, { recursive: true, force: true });
});

const tagOf = (project: string, what: string): string => {
  const tag = `dcl-fixes/${project}:${what}`;
  tags.push(tag);
  return tag;
};

interface Candidate {
  kind: 'single' | 'all';
  rule: string;
  title: string;
  preferred: boolean;
  diagnostic: string;
  text: string;
  otherFiles: OtherFileEdit[];
  /** Every fix applied only makes the reruns cheaper (`cheaperReruns`): it must rerun no more steps, not fewer. */
  cheaperOnly: boolean;
}

/**
 * What `lint --fix` would pick for a diagnostic: its preferred fix, else its first, leaving out the
 * fixes it applies only when asked by rule id (`onRequest`: cache-mount hints, a .dockerignore that
 * changes the image). Written out here, not imported: DCL_FIXES_RULES may load another rules module.
 */
const lintFix = (d: RuleDiagnostic): RuleFix | undefined => {
  const offered = d.fixes.filter((f) => f.onRequest === undefined);
  return offered.find((f) => f.isPreferred === true) ?? offered[0];
};

/** Every fix `lint --fix` applies, one after another with the rules rerun in between, as it would leave the file. */
async function fixAll(rules: RulesApi, text: string, files: Record<string, string>): Promise<{ text: string; otherFiles: OtherFileEdit[]; applied: string[]; remaining: string[]; cheaperOnly: boolean }> {
  const work = fs.mkdtempSync(path.join(tmpRoot, 'all-'));
  writeFiles(work, files);
  const otherFiles: OtherFileEdit[] = [];
  const applied: string[] = [];
  let cheaperOnly = true;
  let current = text;
  const dockerfile = `${work}.Dockerfile`;
  for (let i = 0; i < 12; i++) {
    const view = await ruleContext(work, current, dockerfile);
    const d = rules.runRules(view.ctx).find((x) => lintFix(x) !== undefined);
    const fix = d === undefined ? undefined : lintFix(d);
    if (d === undefined || fix === undefined) return { text: current, otherFiles, applied, remaining: [], cheaperOnly };
    const next = rules.applyFix(current, fix);
    const edits = otherFileEdits(fix, work);
    if (next === current && edits.length === 0) break;
    applyOtherFileEdits(work, edits);
    otherFiles.push(...edits);
    applied.push(`${d.rule}: ${fix.title}`);
    if (fix.cheaperReruns !== true) cheaperOnly = false;
    current = next;
  }
  const view = await ruleContext(work, current, dockerfile);
  const remaining = rules.runRules(view.ctx).filter((x) => lintFix(x) !== undefined).map((x) => `${x.rule}: ${x.message}`);
  return { text: current, otherFiles, applied, remaining, cheaperOnly };
}

async function runProject(rules: RulesApi, project: FixProject): Promise<FixResult[]> {
  const dir = fs.mkdtempSync(path.join(tmpRoot, `${project.name}-`));
  const ctxA = path.join(dir, 'a');
  writeFiles(ctxA, project.files, project.executables);
  const textA = project.files.Dockerfile ?? '';
  // Both Dockerfiles are given with -f from outside the contexts, whose `Dockerfile` stays the
  // original in both: a COPY of the whole context then takes the same bytes into both images (the
  // stand-in tools hash the source tree, so the edited Dockerfile would also change their outputs).
  const dockerfileA = path.join(dir, 'a.Dockerfile');
  fs.writeFileSync(dockerfileA, textA);
  const viewA = await ruleContext(ctxA, textA, dockerfileA);
  const diags: RuleDiagnostic[] = rules.runRules(viewA.ctx);
  const entry: FixesReport['projects'][number] = {
    name: project.name, ecosystem: project.ecosystem, modelledOn: project.modelledOn, variant: project.variant,
    files: Object.keys(project.files).length, sourceEdit: project.sourceEdit.description,
    diagnostics: diags.map((d) => ({ rule: d.rule, message: d.message, fixes: d.fixes.map((f) => f.title) })),
    error: undefined,
  };
  report.push(entry);
  const modelA = modelDockerfile(textA, viewA.entries);
  const buildArgs = project.buildArgs ?? {};
  const tagA = tagOf(project.name, 'a');
  const builtA = await build(env, dockerfileA, ctxA, tagA, buildArgs);
  if (!builtA.success) {
    entry.error = `the original Dockerfile does not build: ${builtA.error ?? '?'}`;
    return [];
  }
  const fsA = await exportImage(env, tagA);
  const cfgA = await imageConfig(env, tagA);

  const candidates: Candidate[] = [];
  for (const d of diags) {
    for (const fix of d.fixes) {
      candidates.push({ kind: 'single', rule: d.rule, title: fix.title, preferred: fix.isPreferred === true, diagnostic: d.message, text: rules.applyFix(textA, fix), otherFiles: otherFileEdits(fix, ctxA), cheaperOnly: fix.cheaperReruns === true });
    }
  }
  // Always when lint --fix has something to do: the project's cut in reruns is read from this row.
  if (diags.some((d) => lintFix(d) !== undefined)) {
    const all = await fixAll(rules, textA, project.files);
    candidates.push({ kind: 'all', rule: all.applied.map((a) => a.slice(0, a.indexOf(':'))).join(' + '), title: `every fix, one after another: ${all.applied.join('; ')}`, preferred: true, diagnostic: all.remaining.length > 0 ? `still offered afterwards: ${all.remaining.join('; ')}` : '', text: all.text, otherFiles: all.otherFiles, cheaperOnly: all.cheaperOnly });
  }

  const out: FixResult[] = [];
  for (const [k, c] of candidates.entries()) {
    const failures: string[] = [];
    const ctxB = path.join(dir, `b${k}`);
    writeFiles(ctxB, project.files, project.executables);
    applyOtherFileEdits(ctxB, c.otherFiles);
    const dockerfileB = path.join(dir, `b${k}.Dockerfile`);
    fs.writeFileSync(dockerfileB, c.text);
    const viewB = await ruleContext(ctxB, c.text, dockerfileB);
    const modelB = modelDockerfile(c.text, viewB.entries);
    const tagB = tagOf(project.name, `b${k}`);
    // Warm: A is built; B builds now.
    const builtB = await build(env, dockerfileB, ctxB, tagB, buildArgs);
    const result: FixResult = {
      project: project.name, ecosystem: project.ecosystem, kind: c.kind, rule: c.rule, fixTitle: c.title, preferred: c.preferred, diagnostic: c.diagnostic,
      dockerfileDiff: lineDiff(textA, c.text), otherFiles: c.otherFiles,
      buildBefore: { success: true, error: undefined }, buildAfter: { success: builtB.success, error: builtB.error },
      image: { entries: fsA.size, identical: false, exempt: [], differences: [] },
      config: { identical: false, differences: [] },
      afterEdit: { imageIdentical: false, configIdentical: false, differences: [] },
      inputs: checkInputs(modelA, modelB, ctxA, new Set(viewB.entries.keys())),
      cacheMounts: [],
      ruleAfter: { before: 0, after: 0, remaining: [] },
      benefit: { edit: '', editKind: 'file', claimsFewerReruns: false, before: { steps: 0, ms: 0, names: [] }, after: { steps: 0, ms: 0, names: [] } },
      failures,
    };
    out.push(result);
    if (c.text === textA && c.otherFiles.length === 0) failures.push('the fix changes nothing');
    if (!builtB.success) {
      failures.push(`the fixed Dockerfile does not build: ${builtB.error ?? '?'}`);
      continue;
    }
    const ex = exemptions(modelA, modelB, viewA.entries, viewB.entries);
    const compare = (a: Map<string, FsEntry>, b: Map<string, FsEntry>): { exempt: FixResult['image']['exempt']; differences: FixResult['image']['differences'] } => {
      const exempt: FixResult['image']['exempt'] = [];
      const differences: FixResult['image']['differences'] = [];
      const all = diffListings(a, b);
      for (const d of all) {
        const e = exempted(d, ex, all);
        if (e !== undefined) exempt.push({ ...d, reason: e.reason });
        else differences.push(d);
      }
      return { exempt, differences };
    };
    const fsB = await exportImage(env, tagB);
    const cfgB = await imageConfig(env, tagB);
    const cmp = compare(fsA, fsB);
    result.image = { entries: fsA.size, identical: cmp.differences.length === 0, exempt: cmp.exempt, differences: cmp.differences };
    result.config = { identical: diffConfig(cfgA, cfgB).length === 0, differences: diffConfig(cfgA, cfgB) };
    if (!result.image.identical) failures.push(`the image differs: ${cmp.differences.slice(0, 8).map((d) => `/${d.path} (${d.what})`).join('; ')}${cmp.differences.length > 8 ? ` and ${cmp.differences.length - 8} more` : ''}`);
    if (!result.config.identical) failures.push(`the image config differs: ${result.config.differences.join('; ')}`);
    if (!result.inputs.ok) failures.push(...result.inputs.problems.map((p) => `a real tool would miss an input: ${p}`));
    result.cacheMounts = checkCacheMounts(modelA, modelB);
    failures.push(...result.cacheMounts.map((p) => `cache mount: ${p}`));

    // The rule no longer fires (for "all": nothing fixable is left).
    if (c.kind === 'single') {
      const count = (ds: RuleDiagnostic[]): number => ds.filter((d) => d.rule === c.rule).length;
      const afterDiags = rules.runRules(viewB.ctx);
      result.ruleAfter = { before: count(diags), after: count(afterDiags), remaining: afterDiags.filter((d) => d.rule === c.rule).map((d) => d.message) };
      if (result.ruleAfter.after >= result.ruleAfter.before) failures.push(`${c.rule} still fires after its fix (${result.ruleAfter.before} -> ${result.ruleAfter.after}): ${result.ruleAfter.remaining.join('; ')}`);
      else if (result.ruleAfter.after > 0) result.ruleAfter.remaining.unshift('(another occurrence)');
    } else {
      const afterDiags = rules.runRules(viewB.ctx).filter((d) => lintFix(d) !== undefined);
      result.ruleAfter = { before: diags.filter((d) => lintFix(d) !== undefined).length, after: afterDiags.length, remaining: afterDiags.map((d) => `${d.rule}: ${d.message}`) };
      if (afterDiags.length > 0) failures.push(`after every fix, fixes are still offered: ${result.ruleAfter.remaining.join('; ')}`);
    }

    // The benefit: the same kind of edit in both contexts (each with its own marker, so that
    // neither build can take the other's new steps from the cache), both rebuilt on a warm cache.
    const names = c.kind === 'single' ? [ruleName(c.rule)] : c.rule.split(' + ').map(ruleName);
    // A rule-specific change (a build arg, a commit) for a single fix of that rule; the source edit otherwise.
    const editSpec = (c.kind === 'single' ? project.ruleEdits?.[ruleName(c.rule)] : undefined) ?? project.sourceEdit;
    const editA = materialiseEdit(editSpec, project);
    const editB = materialiseEdit(editSpec, project);
    const saved = new Map<string, string | undefined>();
    const setFiles = (files: Record<string, string>): void => {
      for (const [rel, content] of Object.entries(files)) {
        const abs = path.join(ctxA, rel);
        if (!saved.has(abs)) saved.set(abs, fs.existsSync(abs) ? fs.readFileSync(abs, 'utf8') : undefined);
        writeFiles(ctxA, { [rel]: content });
      }
    };
    setFiles(editA.files);
    writeFiles(ctxB, editB.files);
    const againA = await build(env, dockerfileA, ctxA, tagOf(project.name, `a-edit${k}`), editA.buildArgs);
    const tagBe = tagOf(project.name, `b${k}-edit`);
    const againB = await build(env, dockerfileB, ctxB, tagBe, editB.buildArgs);
    // For the image comparison: the original with B's edit.
    setFiles(editB.files);
    const tagAe = tagOf(project.name, `a-edit${k}b`);
    const sameA = await build(env, dockerfileA, ctxA, tagAe, editB.buildArgs);
    for (const [abs, content] of saved) {
      if (content === undefined) fs.rmSync(abs, { force: true });
      else fs.writeFileSync(abs, content);
    }
    const claims = names.some((n) => !NO_RERUN_CLAIM.has(n)) && !c.cheaperOnly;
    result.benefit = { edit: editSpec.description, editKind: editSpec.kind, claimsFewerReruns: claims, before: rerunSteps(againA.vertices), after: rerunSteps(againB.vertices) };
    if (!againA.success || !againB.success || !sameA.success) {
      failures.push(`a rebuild after the edit failed: ${againA.error ?? ''} ${againB.error ?? ''} ${sameA.error ?? ''}`.trim());
      continue;
    }
    const { before: b0, after: b1 } = result.benefit;
    if (claims && b1.steps >= b0.steps) failures.push(`no cache benefit: after "${editSpec.description}" the fixed Dockerfile reruns ${b1.steps} step(s), the original ${b0.steps}`);
    if (!claims && b1.steps > b0.steps) failures.push(`the fix makes the cache worse: after "${editSpec.description}" ${b1.steps} step(s) rerun instead of ${b0.steps}`);
    const fsAe = await exportImage(env, tagAe);
    const fsBe = await exportImage(env, tagBe);
    const cmpE = compare(fsAe, fsBe);
    const cfgE = diffConfig(await imageConfig(env, tagAe), await imageConfig(env, tagBe));
    result.afterEdit = { imageIdentical: cmpE.differences.length === 0, configIdentical: cfgE.length === 0, differences: [...cmpE.differences.map((d) => `/${d.path} (${d.what})`), ...cfgE] };
    if (!result.afterEdit.imageIdentical || !result.afterEdit.configIdentical) failures.push(`after the edit the images differ: ${result.afterEdit.differences.slice(0, 8).join('; ')}`);
  }
  return out;
}

describe('quick-fixes on real builds', { concurrency: CONCURRENCY }, () => {
  for (const project of PROJECTS) {
    test(`${project.name} (${project.ecosystem})`, TIMEOUT, async (t) => {
      if (unavailable !== undefined) { t.skip(unavailable); return; }
      if (api === undefined) { t.skip(rulesProblem ?? 'rules not loaded'); return; }
      const projectResults = await runProject(api, project);
      results.push(...projectResults);
      const entry = report.find((r) => r.name === project.name);
      assert.equal(entry?.error, undefined, entry?.error);
      assert.ok(projectResults.some((r) => r.kind === 'single'), `no fix is offered on ${project.name}: ${JSON.stringify(entry?.diagnostics)}`);
      for (const r of projectResults) {
        await t.test(`${r.kind === 'all' ? 'all fixes' : r.rule}: ${r.fixTitle}`, () => {
          assert.deepEqual(r.failures, [], `${project.name}, ${r.rule} (${r.fixTitle}):\n${r.dockerfileDiff}\n- ${r.failures.join('\n- ')}`);
        });
      }
    });
  }
});

test('premise of the cache-mount check: a cache mount hides what an earlier step left at its target', TIMEOUT, async (t) => {
  if (unavailable !== undefined || engine === undefined) { t.skip(unavailable ?? 'no engine'); return; }
  const dir = fs.mkdtempSync(path.join(tmpRoot, 'probe-'));
  const id = `dcl-fixes-probe-${Date.now()}`;
  // The second RUN succeeds only if the file the first one wrote is gone under the mount.
  writeFiles(dir, { Dockerfile: `FROM alpine\nRUN mkdir -p /root/.m2 && echo ${id} > /root/.m2/dep.jar\nRUN --mount=type=cache,target=/root/.m2,id=${id} test ! -e /root/.m2/dep.jar\n` });
  const probe = await build(env, path.join(dir, 'Dockerfile'), dir, tagOf('probe', 'hidden'));
  cacheMountHides = probe.success;
  assert.ok(probe.success, `a cache mount did not hide the layer below it: ${probe.error ?? ''}`);
});

test('every rule that offers a fix is exercised by a sample project', () => {
  if (unavailable !== undefined || api === undefined) return;
  if (ONLY.length > 0) return;
  const offered = new Set(results.filter((r) => r.kind === 'single').map((r) => r.rule));
  const withFixes = new Set(report.flatMap((p) => p.diagnostics.filter((d) => d.fixes.length > 0).map((d) => d.rule)));
  assert.deepEqual([...withFixes].filter((r) => !offered.has(r)), []);
  // Rules never seen offering a fix on any project: listed in the report (rules[].offeredFixes = 0).
});
