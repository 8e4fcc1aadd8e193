/** The differential impact check's comparison (test/helpers/impactCheck.ts) catches what it must. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { compareImpact } from '../helpers/impactCheck';
import type { StepRow } from '../helpers/differential';

function row(vertex: string, prediction: StepRow['prediction'], actual: StepRow['actual'], outcome: StepRow['outcome'] = 'agreed'): StepRow {
  return { vertex, stage: 's', line: 1, instruction: 'RUN', prediction, reason: 'r', actual, outcome };
}

const listed = (...steps: Array<[string, 'miss' | 'unknown']>): Map<string, { vertex: string; prediction: 'miss' | 'unknown'; reason: string }> =>
  new Map(steps.map(([vertex, prediction]) => [vertex, { vertex, prediction, reason: 'why' }]));

test('a step BuildKit rebuilt that impact does not list is a false hit', () => {
  const problems = compareImpact(listed(['[2/3] RUN b', 'miss']), [row('[1/3] RUN a', 'miss', 'miss'), row('[2/3] RUN b', 'miss', 'miss')], false);
  assert.deepEqual(problems, ['FALSE HIT: BuildKit rebuilt [1/3] RUN a, impact does not list it']);
});

test('impact unknown where predict knew, and a listed step BuildKit cached while predict said miss, are disagreements', () => {
  const problems = compareImpact(listed(['[1/3] RUN a', 'unknown'], ['[2/3] RUN b', 'miss']), [row('[1/3] RUN a', 'miss', 'miss'), row('[2/3] RUN b', 'miss', 'hit', 'false-miss')], false);
  assert.equal(problems.length, 2);
  assert.match(problems[0] ?? '', /impact says unknown .* where predict said miss/);
  assert.match(problems[1] ?? '', /false miss: impact lists \[2\/3\] RUN b/);
});

test('allowed: a revert BuildKit held from an older state (predict hit); a FROM; equal trees must list nothing', () => {
  assert.deepEqual(compareImpact(listed(['[2/3] RUN b', 'miss']), [row('[1/3] FROM x', 'hit', 'hit', 'base-image'), row('[2/3] RUN b', 'hit', 'hit')], false), []);
  assert.deepEqual(compareImpact(listed(), [row('[2/3] RUN b', 'hit', 'miss', 'false-hit')], true), []);
  assert.equal(compareImpact(listed(['[2/3] RUN b', 'miss']), [], true).length, 1);
});
