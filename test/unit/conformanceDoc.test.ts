/**
 * The dockerfile-ast adapter (scripts/dockerfileAstAdapter.ts) and the generated docs/conformance.md.
 * Expected dumps are worked out by hand from BuildKit's line parsers (frontend/dockerfile/parser).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { dockerfileAstDump, dockerfileAstRejects, envReadsBack, lexStrategies } from '../../scripts/dockerfileAstAdapter';

test('adapter: simple instructions dump as BuildKit dumps them', () => {
  assert.equal(dockerfileAstDump('FROM alpine\nRUN echo hi\n'), '(from "alpine")\n(run "echo hi")\n');
  // JSON form: the decoded strings, one node each.
  assert.equal(dockerfileAstDump('CMD ["a", "b"]\n'), '(cmd "a" "b")\n');
  // Flags go in a bracketed list; the remaining words are kept as written.
  assert.equal(dockerfileAstDump('COPY --from=build /a /b\n'), '(copy ["--from=build"] "/a" "/b")\n');
  // ENV: key, value as written (quotes kept), separator.
  assert.equal(dockerfileAstDump('ENV a=1 b="x y"\nENV c d e\n'), '(env "a" "1" "=" "b" "\\"x y\\"" "=")\n(env "c" "d e" "")\n');
  // A continuation line keeps its indentation: "a " + "  b".
  assert.equal(dockerfileAstDump('RUN a \\\n  b\n'), '(run "a   b")\n');
  assert.equal(dockerfileAstDump('ONBUILD RUN make\n'), '(onbuild (run "make"))\n');
  assert.equal(dockerfileAstDump('HEALTHCHECK --retries=3 CMD curl -f x\n'), '(healthcheck ["--retries=3"] "CMD" "curl -f x")\n');
});

test('adapter: dockerfile-ast has no error channel, so it rejects nothing', () => {
  assert.equal(dockerfileAstRejects(''), false);
  assert.equal(dockerfileAstRejects('CMD [ "echo", [ "nested" ] ]\n'), false);
});

test('adapter: the ENV prelude sets values exactly, and expansion reads them', () => {
  assert.ok(envReadsBack([['a', 'x  "y" $z \\ w'], ['empty', '']]));
  const expanded = lexStrategies.find((s) => s.name === 'expanded arguments');
  assert.ok(expanded !== undefined);
  assert.equal(expanded.word('he$PWD.', [['PWD', '/home']]), 'he/home.');
});

/** The summary table of docs/conformance.md, as rows of cells keyed by the header. */
function summaryTable(doc: string): Record<string, string>[] {
  const lines = doc.split('\n');
  const start = lines.findIndex((l) => l.startsWith('| fixture set |'));
  assert.ok(start >= 0, 'summary table header');
  const cells = (l: string): string[] => l.slice(1, -1).split(' | ').map((c) => c.trim());
  const header = cells(lines[start] ?? '');
  const rows: Record<string, string>[] = [];
  for (let i = start + 2; (lines[i] ?? '').startsWith('|'); i++) {
    const c = cells(lines[i] ?? '');
    rows.push(Object.fromEntries(header.map((h, j) => [h, c[j] ?? ''])));
  }
  return rows;
}

test('docs/conformance.md: our parser passes every fixture', () => {
  const doc = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'conformance.md'), 'utf8');
  const rows = summaryTable(doc);
  const find = (prefix: string): Record<string, string> => {
    const row = rows.find((r) => (r['fixture set'] ?? '').startsWith(prefix));
    assert.ok(row !== undefined, `row ${prefix}`);
    return row;
  };
  const expected: [string, number][] = [
    ['parser: testfiles ', 33],
    ['parser: testfiles-negative', 4],
    ['lexer: shell-envVarTest', 228],
    ['lexer: shell-wordsTest', 24],
  ];
  assert.equal(rows.length, expected.length);
  for (const [prefix, cases] of expected) {
    const row = find(prefix);
    assert.equal(row.cases, String(cases), prefix);
    assert.equal(row['Dockerfile Cache Lens'], String(cases), prefix);
    const theirs = Number(row['dockerfile-ast']);
    assert.ok(Number.isInteger(theirs) && theirs >= 0 && theirs <= cases, `${prefix}: dockerfile-ast count ${row['dockerfile-ast']}`);
  }
});
