/**
 * BuildKit's shell lexer tests (moby/buildkit 73ed6825, frontend/dockerfile/shell/lex_test.go,
 * Apache-2.0), ported. Expected values come from BuildKit's tables and tests; the last section
 * holds cases worked out by hand from lex.go's source.
 */
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  ShellLex,
  ShellLexError,
  convertShellPatternToRegex,
  emptyEnv,
  envFromPairs,
  envFromRecord,
  reversePattern,
  reverseString,
  type ShellEnv,
} from '../../server/src/parser/shellLex';
import { trimSpaceSpan } from '../../server/src/parser/text';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'buildkit');

/** Lines as Go's bufio.Scanner yields them (no trailing empty line, `\r` before `\n` dropped). */
function goLines(file: string): string[] {
  const text = fs.readFileSync(path.join(FIXTURES, file), 'utf8');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

/** Go's strings.TrimSpace. */
function trimSpace(s: string): string {
  const [start, end] = trimSpaceSpan(s);
  return s.slice(start, end);
}

function expectLexError(fn: () => unknown, reason?: string): ShellLexError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ShellLexError, `expected a ShellLexError, got ${String(caught)}`);
  if (reason !== undefined) assert.equal(caught.reason, reason);
  return caught;
}

describe('envVarTest (TestShellParser4EnvVars)', () => {
  const shlex = new ShellLex('\\');
  const envs = envFromPairs(['PWD=/home', 'SHELL=bash', 'KOREAN=한국어', 'NULL=']);
  let lineCount = 0;
  let rows = 0;
  for (const raw of goLines('shell-envVarTest')) {
    lineCount++;
    if (raw.startsWith('#')) continue;
    const line = trimSpace(raw);
    if (line === '') continue;
    const words = line.split('|');
    const lineNo = lineCount;
    assert.equal(words.length, 3, `line ${lineNo} must have 3 fields`);
    const platform = trimSpace(words[0] ?? '');
    const source = trimSpace(words[1] ?? '');
    const expected = trimSpace(words[2] ?? '');
    assert.ok(['W', 'A', 'U'].includes(platform), `invalid tag ${platform} at line ${lineNo}`);
    if (platform === 'W') continue; // we follow BuildKit on Unix
    rows++;
    test(`line ${lineNo}: ${source} → ${expected === 'error' ? 'error' : JSON.stringify(expected)}`, () => {
      if (expected === 'error') {
        expectLexError(() => shlex.processWord(source, envs));
      } else {
        assert.equal(shlex.processWord(source, envs), expected, `at line ${lineNo} of envVarTest`);
      }
    });
  }
  test('every A and U row was collected', () => {
    assert.equal(rows, 228);
  });
});

describe('wordsTest (TestShellParser4Words)', () => {
  // lex_test.go also loops over a RawQuotes+SkipUnsetEnv mode, but its scanner has already
  // consumed the file by then, so only the normal mode ever runs; so do we.
  const shlex = new ShellLex('\\');
  const envs: string[] = [];
  let lineNum = 0;
  let rows = 0;
  for (const line of goLines('shell-wordsTest')) {
    lineNum++;
    if (line.startsWith('#')) continue;
    if (line.startsWith('ENV ')) {
      envs.push(line.slice(3).replace(/^ +/, ''));
      continue;
    }
    const words = line.split('|');
    const lineNo = lineNum;
    assert.equal(words.length, 2, `line ${lineNo}: should be exactly one |`);
    const input = trimSpace(words[0] ?? '');
    const expected = (words[1] ?? '').replace(/^ +/, '').split(',');
    const env = envFromPairs([...envs]);
    rows++;
    test(`line ${lineNo}: ${input} → ${JSON.stringify(expected)}`, () => {
      let result: string[];
      try {
        result = shlex.processWords(input, env);
      } catch (e) {
        assert.ok(e instanceof ShellLexError, String(e));
        result = ['error'];
      }
      assert.deepEqual(result, expected, `at line ${lineNo} of wordsTest`);
    });
  }
  test('every row was collected', () => {
    assert.equal(rows, 24);
  });
});

test('TestConvertShellPatternToRegex', () => {
  const cases: Record<string, string> = {
    '*': '^.*',
    '?': '^.',
    '\\*': '^\\*',
    '(()[]{\\}^$.\\*\\?|\\\\': '^\\(\\(\\)\\[\\]\\{\\}\\^\\$\\.\\*\\?\\|\\\\',
  };
  for (const [pattern, expected] of Object.entries(cases)) {
    assert.equal(convertShellPatternToRegex(pattern, true, true).goSource, expected, pattern);
  }
  for (const pattern of ['\\', '\\x', '\\\\\\']) {
    assert.throws(() => convertShellPatternToRegex(pattern, true, true), Error, pattern);
  }
});

test('TestReverseString', () => {
  assert.equal(reverseString('54321'), '12345');
  assert.equal(reverseString('🖖🚀👽'), '👽🚀🖖');
});

test('TestReversePattern', () => {
  const cases: Record<string, string> = {
    'a\\*c': 'c\\*a',
    '\\\\\\ab': 'b\\a\\\\',
    'ab\\': '\\ba',
    '👽\\🚀🖖': '🖖\\🚀👽',
    '\\\\b': 'b\\\\',
  };
  for (const [pattern, expected] of Object.entries(cases)) {
    assert.equal(reversePattern(pattern), expected, pattern);
  }
});

test('TestShellParserMandatoryEnvVars', () => {
  const shlex = new ShellLex('\\');
  const setEnvs = envFromPairs(['VAR=plain', 'ARG=x']);
  const emptyEnvs = envFromPairs(['VAR=', 'ARG=x']);
  const unsetEnvs = envFromPairs(['ARG=x']);
  const noEmpty = '${VAR:?message here$ARG}';
  const noUnset = '${VAR?message here$ARG}';

  assert.equal(shlex.processWord(noEmpty, setEnvs), 'plain');
  assert.match(expectLexError(() => shlex.processWord(noEmpty, emptyEnvs)).message, /message herex/);
  assert.match(expectLexError(() => shlex.processWord(noEmpty, unsetEnvs)).message, /message herex/);

  assert.equal(shlex.processWord(noUnset, setEnvs), 'plain');
  assert.equal(shlex.processWord(noUnset, emptyEnvs), '');
  assert.match(expectLexError(() => shlex.processWord(noUnset, unsetEnvs)).message, /message herex/);
});

test('TestGetEnv', () => {
  const get = (env: ShellEnv, name: string): string => env.get(name) ?? '';
  assert.equal(get(envFromPairs([]), 'foo'), '');
  assert.equal(get(envFromPairs(['foo']), 'foo'), '');
  assert.equal(get(envFromPairs(['foo=']), 'foo'), '');
  assert.equal(get(envFromPairs(['foo=bar']), 'foo'), 'bar');
  const two = envFromPairs(['foo=bar', 'car=hat']);
  assert.equal(get(two, 'foo'), 'bar');
  assert.equal(get(two, 'car'), 'hat');
  // the last 'car' in the list wins
  assert.equal(get(envFromPairs(['foo=bar', 'car=hat', 'car=bike']), 'car'), 'bike');
});

interface MatchCase {
  input: string;
  envs: Record<string, string>;
  expected?: string;
  expectedErr?: boolean;
  matches?: string[];
  unmatched?: string[];
}

const FX = { FOO: 'xxx', BAR: '' };

const matchCases: MatchCase[] = [
  { input: 'x', envs: { DUMMY: 'dummy' }, expected: 'x' },
  { input: 'x ${UNUSED}', envs: { DUMMY: 'dummy' }, expected: 'x ', unmatched: ['UNUSED'] },
  { input: 'x ${FOO}', envs: { FOO: 'y' }, expected: 'x y', matches: ['FOO'] },
  { input: '${FOO-aaa} ${BAR-bbb} ${BAZ-ccc}', envs: FX, expected: 'xxx  ccc', matches: ['FOO', 'BAR'], unmatched: ['BAZ'] },
  { input: '${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc}', envs: FX, expected: 'xxx bbb ccc', matches: ['FOO', 'BAR'], unmatched: ['BAZ'] },
  { input: '${FOO:-}', envs: FX, expected: 'xxx', matches: ['FOO'] },
  { input: '${FOO:-}', envs: {}, expected: '', unmatched: ['FOO'] },
  { input: '${FOO+aaa} ${BAR+bbb} ${BAZ+ccc}', envs: FX, expected: 'aaa bbb ', matches: ['FOO', 'BAR'], unmatched: ['BAZ'] },
  { input: '${FOO:+aaa} ${BAR:+bbb} ${BAZ:+ccc}', envs: FX, expected: 'aaa  ', matches: ['FOO', 'BAR'], unmatched: ['BAZ'] },
  { input: '${FOO?aaa}', envs: FX, expected: 'xxx', matches: ['FOO'] },
  { input: '${BAR?bbb}', envs: FX, expected: '', matches: ['BAR'] },
  { input: '${BAZ?ccc}', envs: FX, expectedErr: true },
  { input: '${FOO:?aaa}', envs: FX, expected: 'xxx', matches: ['FOO'] },
  { input: '${BAR:?bbb}', envs: FX, expectedErr: true },
  { input: '${BAZ:?ccc}', envs: FX, expectedErr: true },
  { input: '${BAZ:?}', envs: FX, expectedErr: true },
  { input: '${FOO=aaa}', envs: FX, expectedErr: true },
  { input: '${FOO=:aaa}', envs: FX, expectedErr: true },
  { input: '${FOO=}', envs: {}, expectedErr: true },
  // special characters in regular expressions; } must be escaped not to close ${}
  { input: '${FOO#()[]{\\}^$.\\*\\?|\\\\}', envs: { FOO: '()[]{}^$.*?|\\x' }, expected: 'x', matches: ['FOO'] },
  { input: '${FOO%%\\**}', envs: { FOO: 'xx**' }, expected: 'xx', matches: ['FOO'] },
  { input: '${FOO#*x*y}', envs: { FOO: 'xxyy' }, expected: 'y', matches: ['FOO'] },
  { input: '${FOO#*}', envs: { FOO: 'xxyy' }, expected: 'xxyy', matches: ['FOO'] },
  { input: '${FOO#$BAR}', envs: { FOO: 'xxyy', BAR: 'x' }, expected: 'xyy', matches: ['FOO', 'BAR'] },
  { input: '${FOO#$BAR}', envs: { FOO: 'xxyy', BAR: '' }, expected: 'xxyy', matches: ['FOO', 'BAR'] },
  { input: '${FOO#}', envs: { FOO: 'xxyy' }, expected: 'xxyy', matches: ['FOO'] },
  { input: '${FOO##*x}', envs: { FOO: 'xxyy' }, expected: 'yy', matches: ['FOO'] },
  { input: '${FOO##}', envs: { FOO: 'xxyy' }, expected: 'xxyy', matches: ['FOO'] },
  { input: '${FOO#?\\?}', envs: { FOO: '???y' }, expected: '?y', matches: ['FOO'] },
  { input: '${ABC:-.}${FOO%x}${ABC:-.}', envs: { FOO: 'xxyy' }, expected: '.xxyy.', matches: ['FOO'], unmatched: ['ABC'] },
  { input: '${FOO%%\\**\\*}', envs: { FOO: 'a***yy*' }, expected: 'a', matches: ['FOO'] },
  { input: '${FOO%}', envs: { FOO: 'xxyy' }, expected: 'xxyy', matches: ['FOO'] },
  { input: '${FOO%%$BAR}', envs: { FOO: 'xxyy', BAR: '' }, expected: 'xxyy', matches: ['FOO', 'BAR'] },
  { input: '${FOO:#}', envs: {}, expectedErr: true },
  { input: '${FOO:##}', envs: {}, expectedErr: true },
  { input: '${FOO:%}', envs: {}, expectedErr: true },
  { input: '${FOO:%%}', envs: {}, expectedErr: true },
  // wildcards
  {
    input: '${FOO/$NEEDLE/.} - ${FOO//$NEEDLE/.}',
    envs: { FOO: '/foo*/*/*.txt', NEEDLE: '\\*/' },
    expected: '/foo.*/*.txt - /foo..*.txt',
    matches: ['FOO', 'NEEDLE'],
  },
  // / in patterns
  {
    input: '${FOO/$NEEDLE/} - ${FOO//$NEEDLE/}',
    envs: { FOO: '/tmp/tmp/bar.txt', NEEDLE: '/tmp' },
    expected: '/tmp/bar.txt - /bar.txt',
    matches: ['FOO', 'NEEDLE'],
  },
  {
    input: '${FOO/$NEEDLE/$REPLACEMENT} - ${FOO//$NEEDLE/$REPLACEMENT}',
    envs: { FOO: '/a/foo/b/c.txt', NEEDLE: '/?/', REPLACEMENT: '/' },
    expected: '/foo/b/c.txt - /foo/c.txt',
    matches: ['FOO', 'NEEDLE', 'REPLACEMENT'],
  },
  {
    input: '${FOO/$NEEDLE/$REPLACEMENT}',
    envs: { FOO: 'http://google.de', NEEDLE: 'http://', REPLACEMENT: 'https://' },
    expected: 'https://google.de',
    matches: ['FOO', 'NEEDLE', 'REPLACEMENT'],
  },
  // substitute escaped separator characters
  { input: '${FOO//\\//\\/}', envs: { FOO: '/tmp/foo.txt' }, expected: '\\/tmp\\/foo.txt', matches: ['FOO'] },
  // partial input (not guaranteed behaviour in BuildKit, but must not crash)
  { input: '${FOO/$BAR/ww}', envs: { FOO: 'xxyy', BAR: '' }, expected: 'wwxxyy', matches: ['FOO', 'BAR'] },
  { input: '${FOO//ww}', envs: { FOO: 'xxyy' }, expectedErr: true },
  { input: '${FOO//}', envs: { FOO: 'xxyy' }, expectedErr: true },
  { input: '${FOO///}', envs: { FOO: 'xxyy' }, expected: 'xxyy', matches: ['FOO'] },
  { input: '${FOO///}', envs: {}, expected: '', unmatched: ['FOO'] },
];

describe('TestProcessWithMatches', () => {
  const shlex = new ShellLex('\\');
  for (const c of matchCases) {
    test(`${c.input} ${JSON.stringify(c.envs)}`, () => {
      const env = envFromRecord(c.envs);
      if (c.expectedErr) {
        expectLexError(() => shlex.processWordWithMatches(c.input, env));
        return;
      }
      const r = shlex.processWordWithMatches(c.input, env);
      assert.equal(r.result, c.expected);
      assert.deepEqual([...r.matched].sort(), [...(c.matches ?? [])].sort());
      assert.deepEqual([...r.unmatched].sort(), [...(c.unmatched ?? [])].sort());
    });
  }
});

test('TestProcessWithMatchesPlatform', () => {
  const shlex = new ShellLex('\\');
  const release = 'something-${VERSION}.${TARGETOS}-${TARGETARCH}${TARGETVARIANT:+-${TARGETVARIANT}}.tar.gz';
  const version = 'v1.2.3';
  let r = shlex.processWordWithMatches(release, envFromRecord({ VERSION: version, TARGETOS: 'linux', TARGETARCH: 'arm', TARGETVARIANT: 'v7' }));
  assert.equal(r.result, 'something-v1.2.3.linux-arm-v7.tar.gz');
  r = shlex.processWordWithMatches(release, envFromRecord({ VERSION: version, TARGETOS: 'linux', TARGETARCH: 'arm64', TARGETVARIANT: '' }));
  assert.equal(r.result, 'something-v1.2.3.linux-arm64.tar.gz');
  r = shlex.processWordWithMatches(release, envFromRecord({ VERSION: version, TARGETOS: 'linux', TARGETARCH: 'arm64' }));
  assert.equal(r.result, 'something-v1.2.3.linux-arm64.tar.gz');
});

// --- BuildKit's heredoc name parsing (parser.go heredocFromMatch / heredocsFromLine) drives the
// lexer with SkipUnsetEnv, RawQuotes and RawEscapes; its tests in parser_heredoc_test.go. ---

const reHeredoc = /^(\d*)<<(-?)[\t\n\f\r ]*([^<]*)$/;

/** parser.go ParseHeredoc, returning the name, or undefined when not a heredoc. */
function parseHeredocName(src: string): string | undefined {
  const m = reHeredoc.exec(src);
  const rest = m?.[3] ?? '';
  if (rest === '') return undefined;
  const shlex = new ShellLex('\\', { skipUnsetEnv: true });
  const words = shlex.processWords(rest, emptyEnv);
  if (words.length !== 1) return undefined;
  shlex.rawQuotes = true;
  const wordsRaw = shlex.processWords(rest, emptyEnv);
  assert.equal(wordsRaw.length, words.length, 'internal lexing of heredoc produced inconsistent results');
  return words[0];
}

test('TestParseHeredocHelpers (lexer part)', () => {
  for (const src of ['<<EOF', "<<'EOF'", '<<"EOF"', '<<-EOF', "<<-'EOF'", '<<-"EOF"', '<<EO"F"', '<< EOF', '<<- EOF']) {
    assert.equal(parseHeredocName(src), 'EOF', src);
  }
  for (const src of ["<<'EOF", '<<"EOF', "<<EOF'", '<<EOF"']) {
    expectLexError(() => parseHeredocName(src));
  }
  for (const src of ['', 'EOF', '<<', '<<-', '<EOF', '<<<EOF', '<<EOF sh']) {
    assert.equal(parseHeredocName(src), undefined, src);
  }
});

test('TestHeredocsFromLine (lexer part)', () => {
  const cases: [string, string[]][] = [
    ['RUN <<EOF', ['EOF']],
    ['RUN <<-EOF', ['EOF']],
    ['RUN <<- EOF', ['EOF']],
    ['RUN << -EOF', ['-EOF']],
    ["RUN <<'EOF'", ['EOF']],
    ['RUN 4<<EOF', ['EOF']],
    ['RUN <<EOF <<EOF2', ['EOF', 'EOF2']],
    ["RUN '<<EOF'", []],
    ['RUN "<<EOF"', []],
  ];
  const shlex = new ShellLex('\\', { rawQuotes: true, rawEscapes: true, skipUnsetEnv: true });
  for (const [line, names] of cases) {
    let words: string[];
    try {
      words = shlex.processWords(line, emptyEnv);
    } catch {
      words = [];
    }
    const found = words.map(parseHeredocName).filter((n): n is string => n !== undefined);
    // Like BuildKit's test, compare only the heredocs that were found.
    found.forEach((name, i) => assert.equal(name, names[i], line));
  }
});

// --- Cases worked out by hand from lex.go's source (not from running this code). ---

describe('derived from lex.go', () => {
  const env = envFromPairs(['PWD=/home', 'EMPTY=']);

  test('error messages', () => {
    const shlex = new ShellLex();
    const cases: [string, string][] = [
      ["'abc", 'unexpected end of statement while looking for matching single-quote'],
      ['"abc', 'unexpected end of statement while looking for matching double-quote'],
      ['${}', 'syntax error: bad substitution'],
      ['${:-a}', 'syntax error: bad substitution'],
      ['${', "syntax error: missing '}'"],
      ['${X:-abc', "syntax error: missing '}'"],
      ['${X:-"abc}', "syntax error: missing '}'"],
      ['he${PWD', 'unsupported modifier (\uFFFD) in substitution'],
      ['${.}', 'unsupported modifier (.) in substitution'],
      ['${X:=y}', 'unsupported modifier (:=) in substitution'],
      ['${X:#a}', 'unsupported modifier (:#) in substitution'],
      ['${X?}', 'X: is not allowed to be unset'],
      ['${X:?}', 'X: is not allowed to be unset'],
      ['${EMPTY:?}', 'EMPTY: is not allowed to be empty'],
      ['${EMPTY:?need $PWD}', 'EMPTY: need /home'],
      ['${X//ab}', "syntax error: missing '/' in ${}"],
      ['${X#\\x}', "invalid pattern (\\x) in substitution: invalid escape '\\x'"],
      // trimSuffix reports the reversed pattern
      ['${X%a\\x}', "invalid pattern (\\xa) in substitution: invalid escape '\\x'"],
      ['${A:-${X:?oops}}', 'X: oops'],
    ];
    for (const [input, reason] of cases) {
      const err = expectLexError(() => shlex.processWord(input, env), reason);
      assert.equal(err.message, `failed to process ${JSON.stringify(input)}: ${reason}`, input);
    }
  });

  test('errors carry the variables seen so far', () => {
    const err = expectLexError(() => new ShellLex().processWordWithMatches('$PWD ${EMPTY:?} $LATER', env));
    assert.deepEqual([...err.matched], ['PWD', 'EMPTY']);
    assert.deepEqual([...err.unmatched], []);
  });

  test('backtick escape token', () => {
    const shlex = new ShellLex('`');
    assert.equal(shlex.processWord('he`$PWD', env), 'he$PWD');
    assert.equal(shlex.processWord('he\\$PWD', env), 'he\\/home');
    assert.equal(shlex.processWord('"a`"b"', env), 'a"b');
    assert.equal(shlex.processWord('"a`tb"', env), 'a`tb');
    assert.equal(shlex.processWord('a``b', env), 'a`b');
    assert.deepEqual(shlex.processWords('a` b c', env), ['a b', 'c']);
  });

  test('SkipUnsetEnv leaves unset references as written', () => {
    const shlex = new ShellLex('\\', { skipUnsetEnv: true });
    assert.equal(shlex.processWord('$X ${X} ${X:-a} ${X#a} ${X//a/b} $PWD', env), '$X ${X} ${X:-a} ${X#a} ${X/a/b} /home');
    // the modifier is only checked after the unset variable is echoed
    assert.equal(shlex.processWord('${X:=y}', env), '${X:=y}');
    assert.equal(shlex.processWord('$1', env), '$1');
  });

  test('RawQuotes and RawEscapes', () => {
    assert.equal(new ShellLex('\\', { rawQuotes: true }).processWord(`"a $PWD"'$b'`, env), `"a /home"'$b'`);
    assert.equal(new ShellLex('\\', { rawEscapes: true }).processWord('a\\ b', env), 'a\\ b');
    // an escape that escapes nothing inside double quotes is written twice with RawEscapes
    assert.equal(new ShellLex('\\', { rawEscapes: true }).processWord('"a\\tb"', env), 'a\\\\tb');
    assert.equal(new ShellLex('\\', { skipProcessQuotes: true }).processWord(`"a"'b'`, env), `"a"'b'`);
  });

  test('word splitting', () => {
    const shlex = new ShellLex();
    const e = envFromPairs(['S= a  b ']);
    assert.deepEqual(shlex.processWords('x$S"$S"y', e), ['x', 'a', 'b', ' a  b y']);
    assert.deepEqual(shlex.processWords('"" a \'\'', e), ['a']);
    assert.deepEqual(shlex.processWords('cat <<  EOF', e), ['cat', '<<  EOF']);
    // a nested ${...} word resets BuildKit's shared words buffer
    assert.deepEqual(shlex.processWords('a${X:-b}', e), ['b']);
    assert.deepEqual(shlex.processWords('a ${X:-b}', e), ['a', 'b']);
    assert.deepEqual(shlex.processWordWithMatches('x $S', e).words, ['x', 'a', 'b']);
  });

  test('patterns follow Go regexp semantics', () => {
    const shlex = new ShellLex();
    const e = envFromRecord({ FOO: 'abc', NL: 'a\nb' });
    // ReplaceAllString expands $0 in the replacement; the single replacement is literal
    assert.equal(shlex.processWord('${FOO//b/[\\$0]}', e), 'a[\\b]c');
    assert.equal(shlex.processWord('${FOO/b/[\\$0]}', e), 'a[\\$0]c');
    // no empty match right after a match
    assert.equal(shlex.processWord('${FOO//*/x}', e), 'x');
    // `.` does not match a newline
    assert.equal(shlex.processWord('${NL##*}', e), '\nb');
  });

  test('leading byte order mark is dropped', () => {
    assert.equal(new ShellLex().processWord('\uFEFFa\uFEFF', env), 'a\uFEFF');
  });

  test('envFromPairs keeps entries without = as set and empty', () => {
    assert.equal(envFromPairs(['foo']).get('foo'), '');
    assert.equal(envFromPairs([]).get('foo'), undefined);
    assert.equal(envFromPairs(['a=b=c']).get('a'), 'b=c');
    assert.equal(envFromRecord({}).get('toString'), undefined);
  });
});
