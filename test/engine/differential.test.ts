/**
 * Differential suite: the CLI's predictions against a real BuildKit (the private engines of
 * scripts/engine.sh: Docker 26.1 classic, 28.5 classic, 28.5 containerd store), scenario by
 * scenario, vertex by vertex, each engine with its own manifest. Fails on any false hit, false
 * miss or name mismatch; writes test-output/accuracy.json (then
 * `node --import tsx scripts/accuracy-doc.ts` writes docs/accuracy.md).
 *
 *   node --import tsx --test test/engine/differential.test.ts
 *   DCL_DIFF_ONLY=chown   (only scenarios whose name contains it)   DCL_DIFF_KEEP=1 (keep temp dirs)
 *   DCL_DIFF_ENGINES=28-containerd   (only these profiles, comma-separated)
 */

import * as assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  compareSteps, DifferentialSuite, formatProblems, matrixReport, problemsOf, selectedEngines, unavailableReason, writeReport,
  type EditResult, type EngineRun, type PredictStep,
} from '../helpers/differential';
import { DROPPED, EDIT_KINDS, SCENARIOS, type EditKind } from './scenarios';
import { ImpactCheck, writeImpactReport } from '../helpers/impactCheck';
import { REPO, REPORT_PATH } from '../helpers/differential';
import * as path from 'node:path';

const FILTER = process.env.DCL_DIFF_ONLY;
// DCL_DIFF_ONLY='a|b': scenarios whose name contains a or b
const selected = FILTER === undefined ? SCENARIOS : SCENARIOS.filter((s) => FILTER.split('|').some((f) => s.name.includes(f)));

describe('differential scenarios (static checks)', () => {
  test('at least 80 scenarios with unique names, each with 1-3 edits', () => {
    assert.ok(SCENARIOS.length >= 80, `${SCENARIOS.length} scenarios`);
    assert.equal(new Set(SCENARIOS.map((s) => s.name)).size, SCENARIOS.length);
    for (const s of SCENARIOS) assert.ok(s.edits.length >= 1 && s.edits.length <= 3, s.name);
  });

  test('every edit kind is covered, no scenario uses # syntax', () => {
    const covered = new Set<EditKind>(SCENARIOS.flatMap((s) => s.edits.flatMap((e) => e.kinds)));
    covered.add('initial');
    const missing = (Object.keys(EDIT_KINDS) as EditKind[]).filter((k) => !covered.has(k));
    assert.deepEqual(missing, []);
    for (const s of SCENARIOS) assert.ok(!/^#\s*syntax\s*=/im.test(s.dockerfile), s.name);
  });

  test('the matrix: three engines by default, DCL_DIFF_ENGINES picks some, unknown profiles are refused', () => {
    assert.deepEqual(selectedEngines('').map((e) => e.profile), ['26', '28', '28-containerd']);
    assert.deepEqual(selectedEngines('28-containerd, 26').map((e) => e.profile), ['26', '28-containerd']);
    assert.throws(() => selectedEngines('29'), /unknown profile\(s\) 29/);
    // a scenario limited to some engines names only profiles of the matrix
    for (const s of SCENARIOS) for (const p of s.engines ?? []) assert.ok(selectedEngines('').some((e) => e.profile === p), `${s.name}: ${p}`);
  });

  test('the comparison classifies steps and name mismatches', () => {
    const step = (vertex: string, prediction: PredictStep['prediction'], instruction = 'RUN'): PredictStep =>
      ({ vertex, alsoNamed: [], stage: 's', line: 1, instruction, prediction, reason: 'r' });
    const { rows, otherVertices } = compareSteps(
      [
        step('[s 1/6] FROM docker.io/library/alpine:latest', 'hit', 'FROM'),
        step('[s 2/6] RUN a', 'hit'),
        step('[s 3/6] RUN b', 'hit'),
        step('[s 4/6] RUN c', 'miss'),
        step('[s 5/6] RUN d', 'unknown'),
        step('[s 6/6] RUN e', 'miss'),
        step('[t 2/2] RUN f', 'skipped'),
        step('[u 2/2] RUN g', 'skipped'),
        step('[v 1/2] FROM docker.io/library/busybox:latest', 'miss', 'FROM'),
      ],
      [
        { name: '[internal] load build context', cached: false },
        { name: '[s 1/6] FROM docker.io/library/alpine:latest', cached: false },
        { name: '[s 2/6] RUN a', cached: true },
        { name: '[s 3/6] RUN b', cached: false },
        { name: '[s 4/6] RUN c', cached: true },
        { name: '[s 5/6] RUN d', cached: false },
        { name: '[s 6/6] RUN  e', cached: false },
        { name: '[u 2/2] RUN g', cached: false },
        { name: 'exporting to image', cached: false },
        { name: '[1/3] FROM docker.io/library/node:20', cached: true },
      ],
    );
    assert.deepEqual(rows.map((r) => r.outcome), [
      'base-image', 'agreed', 'false-hit', 'false-miss', 'unknown', 'not-printed', 'skipped', 'skipped-but-run', 'base-image', 'not-predicted',
    ]);
    assert.deepEqual(otherVertices, ['exporting to image', '[1/3] FROM docker.io/library/node:20']);
  });
});

const skip = unavailableReason();

const engines = selectedEngines();
const runs: EngineRun[] = [];
const startedAt = Date.now();

for (const profile of engines) {
  describe(`differential on ${profile.label} (engine.sh profile ${profile.profile})`, { skip: skip ?? false }, () => {
    let suite: DifferentialSuite | undefined;
    const all: EditResult[] = [];
    // issue 17: `impact --base BEFORE --head AFTER` against what BuildKit rebuilt, on the first engine
    // of the matrix (impact needs no engine: one is enough to judge it). DCL_IMPACT_CHECK=0: off.
    const checkImpact = profile === engines[0] && process.env.DCL_IMPACT_CHECK !== '0';

    before(async () => {
      suite = await DifferentialSuite.start(profile);
      if (checkImpact) suite.impact = new ImpactCheck(suite.env, suite.root, suite.manifestDir, REPO);
    });

    after(() => {
      if (suite === undefined) return;
      runs.push(suite.engineRun());
      // Written after each engine: a partial matrix still leaves a report.
      writeReport(matrixReport(selected, DROPPED, FILTER, runs, startedAt));
      if (suite.impact !== undefined) writeImpactReport(suite.impact, path.join(path.dirname(REPORT_PATH), 'impact-check.json')); // issue 17
      const problems = all.filter((r) => problemsOf(r).length > 0);
      if (problems.length > 0) console.error(`\n=== differential (${profile.label}): ${problems.length} edit(s) with disagreements ===\n${formatProblems(problems, `[${profile.profile}] `)}\n`);
      suite.dispose();
    });

    for (const s of selected.filter((x) => x.engines === undefined || x.engines.includes(profile.profile))) {
      test(s.name, async () => {
        assert.ok(suite !== undefined, 'the suite did not start');
        const results = await suite.run(s);
        all.push(...results);
        const text = formatProblems(results, `[${profile.profile}] `);
        const impactText = (suite.impact?.problems(s.name) ?? []).map((f) => `impact after "${f.edit}":\n  ${f.problems.join('\n  ')}`).join('\n'); // issue 17
        if (text !== '' || impactText !== '') assert.fail(`\n${text}${impactText === '' ? '' : `\n${impactText}`}`);
      });
    }
  });
}
