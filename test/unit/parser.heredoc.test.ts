/**
 * Heredocs. Inputs and expectations of the first tests are BuildKit's own (parser_heredoc_test.go at
 * 73ed6825, Apache-2.0); the range tests are ours.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { parse, parseHeredocWord } from '../../server/src/parser';

const DOCKERFILE = `
FROM alpine:3.6

ENV NAME=me

RUN ls

USER <<INVALID
INVALID

RUN <<EMPTY
EMPTY

RUN 3<<EMPTY2
EMPTY2

RUN "<<NOHEREDOC"

RUN <<INDENT
\tfoo
\tbar
INDENT

RUN <<-UNINDENT
\tbaz
\tquux
UNINDENT

RUN <<-UNINDENT2
\tbaz
\tquux
\tUNINDENT2

RUN <<-EXPAND
\texpand $NAME
EXPAND

RUN <<-'NOEXPAND'
\tdon't expand $NAME
NOEXPAND

RUN <<COPY
echo hello world
echo foo bar
COPY

RUN <<COMMENT
# internal comment
echo hello world
echo foo bar # trailing comment
COMMENT

RUN --mount=type=cache,target=/foo <<MOUNT
echo hello
MOUNT

COPY <<FILE1 <<FILE2 /dest
content 1
FILE1
content 2
FILE2

COPY <<EOF /quotes
"foo"
'bar'
EOF

COPY <<X <<Y /dest
Y
X
X
Y

RUN <<COMPLEX python3
print('hello world')
COMPLEX

COPY <<file.txt /dest
hello world
file.txt

RUN <<eo'f'
echo foo
eof

RUN <<eo\\'f
echo foo
eo'f

RUN <<'e'o\\'f
echo foo
eo'f

RUN <<'one two'
echo bar
one two

RUN <<$EOF
$EOF

RUN <<  EOF
EOF

RUN <<  EOF  > foo
EOF
\t`;

type H = [name: string, content: string, expand: boolean, chomp?: boolean, fd?: number];
const EXPECTED: H[][] = [
  [], // ENV
  [], // RUN ls
  [], // USER <<INVALID
  [], // INVALID
  [['EMPTY', '', true]],
  [['EMPTY2', '', true, false, 3]],
  [], // RUN "<<NOHEREDOC"
  [['INDENT', '\tfoo\n\tbar\n', true]],
  [['UNINDENT', '\tbaz\n\tquux\n', true, true]],
  [['UNINDENT2', '\tbaz\n\tquux\n', true, true]],
  [['EXPAND', '\texpand $NAME\n', true, true]],
  [['NOEXPAND', "\tdon't expand $NAME\n", false, true]],
  [['COPY', 'echo hello world\necho foo bar\n', true]],
  [['COMMENT', '# internal comment\necho hello world\necho foo bar # trailing comment\n', true]],
  [['MOUNT', 'echo hello\n', true]],
  [['FILE1', 'content 1\n', true], ['FILE2', 'content 2\n', true]],
  [['EOF', '"foo"\n\'bar\'\n', true]],
  [['X', 'Y\n', true], ['Y', 'X\n', true]],
  [['COMPLEX', "print('hello world')\n", true]],
  [['file.txt', 'hello world\n', true]],
  [['eof', 'echo foo\n', false]],
  [["eo'f", 'echo foo\n', true]],
  [["eo'f", 'echo foo\n', false]],
  [['one two', 'echo bar\n', false]],
  [['$EOF', '', true]],
  [['EOF', '', true]],
  [['EOF', '', true]],
];

test('heredocs are extracted as BuildKit extracts them', () => {
  const ast = parse(DOCKERFILE);
  assert.deepEqual(ast.problems.filter((p) => p.severity === 'error' && p.code !== 'syntax/instruction'), []);
  const got = ast.instructions.slice(1).map((i) => i.heredocs.map((h): H => {
    const row: H = [h.name, h.content, h.expand];
    if (h.chomp || h.fileDescriptor !== 0) row.push(h.chomp);
    if (h.fileDescriptor !== 0) row.push(h.fileDescriptor);
    return row;
  }));
  assert.deepEqual(got, EXPECTED);
});

test('JSON-form RUN has no heredocs', () => {
  const ast = parse('\nFROM alpine:3.6\nRUN ["whoami"]\nRUN ["<<EOF"]\nRUN ["<<\'EOF\'"]\n\t');
  assert.deepEqual(ast.instructions.map((i) => i.heredocs.length), [0, 0, 0, 0]);
});

test('heredoc words: valid, invalid and not heredocs (BuildKit TestParseHeredocHelpers)', () => {
  for (const src of ['<<EOF', "<<'EOF'", '<<"EOF"', '<<-EOF', "<<-'EOF'", '<<-"EOF"', '<<EO"F"', '<< EOF', '<<- EOF']) {
    assert.equal(parseHeredocWord(src)?.name, 'EOF', src);
  }
  for (const src of ["<<'EOF", '<<"EOF', "<<EOF'", '<<EOF"']) {
    assert.throws(() => parseHeredocWord(src), src);
  }
  for (const src of ['', 'EOF', '<<', '<<-', '<EOF', '<<<EOF', '<<EOF sh']) {
    assert.equal(parseHeredocWord(src), undefined, src);
  }
});

test('an unterminated heredoc is an error on its marker', () => {
  const ast = parse('FROM alpine\nRUN <<EOF\necho hi\n');
  const p = ast.problems.find((x) => x.code === 'syntax/unterminated-heredoc');
  assert.ok(p);
  assert.deepEqual(p.range, { start: { line: 1, character: 4 }, end: { line: 1, character: 9 } });
});

test('heredoc ranges: marker, body and terminator; the instruction spans them', () => {
  const text = 'FROM alpine\nRUN <<EOF cat > /x\nline one\nline two\nEOF\nRUN echo after\n';
  const ast = parse(text);
  const run = ast.instructions[1];
  assert.ok(run);
  const h = run.heredocs[0];
  assert.ok(h);
  assert.deepEqual(h.markerRange, { start: { line: 1, character: 4 }, end: { line: 1, character: 9 } });
  assert.deepEqual(h.bodyRange, { start: { line: 2, character: 0 }, end: { line: 3, character: 8 } });
  assert.deepEqual(h.terminatorRange, { start: { line: 4, character: 0 }, end: { line: 4, character: 3 } });
  assert.deepEqual(run.range, { start: { line: 1, character: 0 }, end: { line: 4, character: 3 } });
  // The heredoc body is not parsed as instructions.
  assert.deepEqual(ast.instructions.map((i) => i.keyword), ['FROM', 'RUN', 'RUN']);
});

test('<<- strips tabs from the terminator, and a heredoc in ONBUILD is read', () => {
  const ast = parse('FROM alpine\nONBUILD RUN <<-EOF\n\techo hi\n\t\tEOF\nCMD x\n');
  assert.deepEqual(ast.instructions.map((i) => i.keyword), ['FROM', 'ONBUILD', 'CMD']);
  assert.equal(ast.instructions[1]?.heredocs[0]?.content, '\techo hi\n');
});

test('the escape directive does not change heredoc parsing, and CRLF bodies keep their line endings', () => {
  const ast = parse('# escape=`\r\nFROM alpine\r\nRUN <<EOF\r\necho `hi\r\nEOF\r\n');
  assert.equal(ast.escapeToken, '`');
  assert.equal(ast.instructions[1]?.heredocs[0]?.content, 'echo `hi\r\n');
  assert.equal(ast.instructions.length, 2);
});
