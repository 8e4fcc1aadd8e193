/** BuildKit's own parser fixtures (moby/buildkit 73ed6825, Apache-2.0): our parse must dump exactly as BuildKit's. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { dumpAST, parse } from '../../server/src/parser';
import { BUILDKIT, negativeCases, positiveCases } from '../helpers/fixtures';

const positives = positiveCases();
const negatives = negativeCases();

test('the fixture set is complete', () => {
  assert.equal(positives.length, 33);
  assert.equal(negatives.length, 4);
});

for (const c of positives) {
  test(`parses ${c.name} exactly as BuildKit`, () => {
    const ast = parse(c.dockerfile);
    const errors = ast.problems.filter((p) => p.severity === 'error' && p.code !== 'syntax/instruction');
    assert.deepEqual(errors, [], 'BuildKit parses this file without error');
    assert.equal(dumpAST(ast), c.result);
  });
}

for (const c of negatives) {
  test(`rejects ${c.name} as BuildKit does`, () => {
    const ast = parse(c.dockerfile);
    assert.ok(ast.problems.some((p) => p.severity === 'error'), 'expected a syntax error');
  });
}

test('instruction lines match BuildKit (testfile-line)', () => {
  // Expected values from BuildKit's TestParseIncludesLineNumbers (1-based there, 0-based here).
  const text = fs.readFileSync(path.join(BUILDKIT, 'parser', 'testfile-line', 'Dockerfile'), 'utf8');
  const ast = parse(text);
  assert.deepEqual(ast.instructions.map((i) => [i.range.start.line + 1, i.range.end.line + 1]), [[5, 5], [11, 12], [17, 31]]);
});

test('empty continuation lines warn, as in BuildKit', () => {
  // From BuildKit's TestParseWarnsOnEmptyContinutationLine.
  const text = `
FROM alpine:3.6

RUN valid \\
    continuation

RUN something \\

    following \\

    more

RUN another \\

    thing

RUN non-indented \\
# this is a comment
   after-comment

RUN indented \\
    # this is an indented comment
    comment
\t`;
  const ast = parse(text);
  const warnings = ast.problems.filter((p) => p.code === 'syntax/empty-continuation');
  assert.equal(warnings.length, 2);
  assert.deepEqual(ast.instructions.map((i) => i.original), [
    'FROM alpine:3.6',
    'RUN valid     continuation',
    'RUN something     following     more',
    'RUN another     thing',
    'RUN non-indented    after-comment',
    'RUN indented     comment',
  ]);
});

test('a line longer than BuildKit can scan is an error', () => {
  // From BuildKit's TestParseReturnsScannerErrors.
  const ast = parse(`\n\t\tFROM image\n\t\tLABEL test=${'a'.repeat(64 * 1024)}\n`);
  assert.ok(ast.problems.some((p) => p.message === 'dockerfile line greater than max allowed size of 65535'));
});
