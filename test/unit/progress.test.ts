/**
 * The progress readers: BuildKit's rawjson stream (hand-written snippets and real captures from
 * the test engine, test/fixtures/rawjson/) and the legacy builder's plain output.
 */
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  LegacyProgressParser,
  RawJsonProgressParser,
  diffMs,
  parseNanoTime,
} from '../../server/src/build/progress';
import type { VertexResult } from '../../server/src/cache/types';

const RAWJSON = path.join(__dirname, '..', 'fixtures', 'rawjson');
const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

/** Pretty-printed like Go's json.Encoder with a two-space indent. */
const obj = (o: unknown): string => JSON.stringify(o, null, 2) + '\n';

const D1 = 'sha256:1111';
const D2 = 'sha256:2222';
const DI = 'sha256:0000';

/** A small build: an internal vertex, a cached COPY, a RUN with logs, an export. */
const SNIPPET = [
  obj({ vertexes: [{ digest: DI, name: '[internal] load build definition from Dockerfile', started: '2024-05-01T10:00:00.000000001Z', completed: '2024-05-01T10:00:00.000000002Z' }] }),
  obj({ vertexes: [
    { digest: D2, inputs: [D1], name: '[2/2] RUN echo "a {b} \\"c\\"" && build' },
    { digest: D1, name: '[1/2] COPY . .' },
  ] }),
  obj({ vertexes: [{ digest: D1, name: '[1/2] COPY . .', started: '2024-05-01T10:00:01.100000000Z', completed: '2024-05-01T10:00:01.100500000Z', cached: true }] }),
  obj({ vertexes: [{ digest: D2, inputs: [D1], name: '[2/2] RUN echo "a {b} \\"c\\"" && build', started: '2024-05-01T10:00:01.999999999Z' }] }),
  obj({ statuses: [{ id: 'x', vertex: D2, name: 'x', current: 1, timestamp: '2024-05-01T10:00:02Z' }] }),
  obj({ logs: [{ vertex: D2, stream: 1, data: b64('line 1\nline '), timestamp: '2024-05-01T10:00:02Z' }] }),
  obj({ logs: [{ vertex: D2, stream: 2, data: b64('2\n{not json}\n'), timestamp: '2024-05-01T10:00:02Z' }] }),
  obj({ vertexes: [{ digest: D2, inputs: [D1], name: '[2/2] RUN echo "a {b} \\"c\\"" && build', started: '2024-05-01T10:00:01.999999999Z', completed: '2024-05-01T10:00:03.000001999Z' }] }),
].join('');

function parseAll(text: string, chunks: (t: string) => string[] = (t) => [t]): { parser: RawJsonProgressParser; results: VertexResult[] } {
  const parser = new RawJsonProgressParser();
  for (const c of chunks(text)) parser.feed(c);
  parser.end();
  return { parser, results: parser.results() };
}

describe('timestamps', () => {
  test('nanosecond precision survives', () => {
    const a = parseNanoTime('2026-11-28T05:24:45.197168798Z');
    const b = parseNanoTime('2026-11-28T05:24:45.352139315Z');
    assert.ok(a !== undefined && b !== undefined);
    assert.equal(a.nanos, 197168798);
    assert.equal(diffMs(a, b), 154.971); // 154.970517 ms, microsecond-rounded
  });
  test('fewer fraction digits, no fraction, offsets, across seconds', () => {
    assert.equal(parseNanoTime('2026-11-28T05:24:36.08685137Z')?.nanos, 86851370);
    assert.equal(parseNanoTime('2026-11-28T05:24:36Z')?.nanos, 0);
    const z = parseNanoTime('2024-01-01T00:00:00.5Z');
    const plus = parseNanoTime('2024-01-01T02:00:01.25+02:00');
    assert.ok(z !== undefined && plus !== undefined);
    assert.equal(diffMs(z, plus), 750);
    assert.equal(parseNanoTime('yesterday'), undefined);
  });
});

describe('rawjson parser', () => {
  test('a small build: last update wins, internal vertices left out, durations, logs', () => {
    const { parser, results } = parseAll(SNIPPET);
    assert.deepEqual(parser.unparsed, []);
    assert.deepEqual(results.map((v) => v.name), ['[1/2] COPY . .', '[2/2] RUN echo "a {b} \\"c\\"" && build']);
    const [copy, run] = results;
    assert.ok(copy !== undefined && run !== undefined);
    assert.equal(copy.cached, true);
    assert.equal(copy.durationMs, 0.5);
    assert.equal(run.cached, false);
    assert.equal(run.completed, true);
    assert.equal(run.durationMs, 1000.002);
    assert.equal(run.error, undefined);
    assert.deepEqual(run.logTail, ['line 1', 'line 2', '{not json}']);
  });

  test('split at every possible chunk boundary (and one character at a time)', () => {
    const whole = parseAll(SNIPPET).results;
    for (let i = 0; i <= SNIPPET.length; i++) {
      const { results, parser } = parseAll(SNIPPET, (t) => [t.slice(0, i), t.slice(i)]);
      assert.deepEqual(results, whole, `split at ${i}`);
      assert.deepEqual(parser.unparsed, []);
    }
    assert.deepEqual(parseAll(SNIPPET, (t) => [...t]).results, whole);
  });

  test('garbage between and around objects is collected, objects still read', () => {
    const text = 'WARNING: something\n' + SNIPPET.replace('}\n{', '}\nnot json at all\n  {"half": \n{').replace(/\}\n$/, '}{"vertexes":[]}\n')
      + 'trailing { brace\n{ unfinished';
    const events: string[] = [];
    const parser = new RawJsonProgressParser();
    parser.onText((l) => events.push(l));
    parser.feed(text);
    parser.end();
    assert.deepEqual(parser.results(), parseAll(SNIPPET).results);
    assert.deepEqual(parser.unparsed, ['WARNING: something', 'not json at all', '{"half": ', 'trailing { brace', '{ unfinished']);
    assert.deepEqual(events, parser.unparsed);
  });

  test('compact objects back to back, CRLF, and a garbage line starting with {', () => {
    const compact = SNIPPET.split(/\n(?=\{)/).map((o) => JSON.stringify(JSON.parse(o))).join('');
    assert.deepEqual(parseAll(compact).results, parseAll(SNIPPET).results);
    const crlf = SNIPPET.replace(/\n/g, '\r\n');
    assert.deepEqual(parseAll(crlf).results, parseAll(SNIPPET).results);
    const withBrace = '{ this is not json\n' + SNIPPET;
    const r = parseAll(withBrace);
    assert.deepEqual(r.results, parseAll(SNIPPET).results);
    assert.deepEqual(r.parser.unparsed, ['{ this is not json']);
  });

  test('never throws on byte soup', () => {
    const soup = ['{', '}', '"', '\\', '\n', '[', ']', 'x', ' ', '{"vertexes":', '{"logs":[{"vertex":1}]}', '\u0000', '\ud800'];
    let seed = 7;
    const rnd = (): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
    for (let n = 0; n < 300; n++) {
      const parser = new RawJsonProgressParser();
      let text = '';
      for (let i = 0; i < 60; i++) text += soup[Math.floor(rnd() * soup.length)] ?? '';
      parser.feed(text);
      parser.feed(SNIPPET);
      parser.end();
      assert.ok(Array.isArray(parser.results()));
    }
  });

  test('an error vertex, its logs and the CLI error text', () => {
    const text = obj({ vertexes: [{ digest: D1, name: '[1/1] RUN exit 3', started: '2024-05-01T10:00:00Z' }] })
      + obj({ logs: [{ vertex: D1, stream: 2, data: b64('boom\n') }] })
      + obj({ vertexes: [{ digest: D1, name: '[1/1] RUN exit 3', started: '2024-05-01T10:00:00Z', completed: '2024-05-01T10:00:00.25Z', error: 'process "/bin/sh -c exit 3" did not complete successfully: exit code: 3' }] })
      + 'Dockerfile:2\n--------------------\n   1 | >>> RUN exit 3\n--------------------\nERROR: failed to solve: exit code: 3\n';
    const { parser, results } = parseAll(text);
    assert.equal(results.length, 1);
    assert.match(results[0]?.error ?? '', /exit code: 3/);
    assert.equal(results[0]?.durationMs, 250);
    assert.deepEqual(results[0]?.logTail, ['boom']);
    assert.ok(parser.unparsed.includes('ERROR: failed to solve: exit code: 3'));
  });

  test('a vertex restarted: state of the last update, duration over both runs', () => {
    const v = (u: object): string => obj({ vertexes: [{ digest: D1, name: '[1/1] RUN x', ...u }] });
    const text = v({ started: '2024-05-01T10:00:00Z', completed: '2024-05-01T10:00:01Z' })
      + v({ started: '2024-05-01T10:00:02Z' });
    const running = parseAll(text).results[0];
    assert.equal(running?.completed, false);
    assert.equal(running?.durationMs, undefined);
    const done = parseAll(text + v({ started: '2024-05-01T10:00:02Z', completed: '2024-05-01T10:00:02.5Z' })).results[0];
    assert.equal(done?.completed, true);
    assert.equal(done?.durationMs, 1500);
  });

  test('events: onVertex on changes only, onLog with the vertex name, multi-byte split across log records', () => {
    const parser = new RawJsonProgressParser();
    const seen: string[] = [];
    const logs: Array<[string, string]> = [];
    parser.onVertex((v) => seen.push(`${v.name} ${v.started ? 'S' : ''}${v.completed ? 'C' : ''}${v.cached ? '*' : ''}`));
    parser.onLog((name, text) => logs.push([name, text]));
    const bytes = Buffer.from('café\n', 'utf8');
    parser.feed(obj({ vertexes: [{ digest: D1, name: 'RUN a' }] }));
    parser.feed(obj({ vertexes: [{ digest: D1, name: 'RUN a' }] })); // no change: no event
    parser.feed(obj({ vertexes: [{ digest: D1, name: 'RUN a', started: '2024-05-01T10:00:00Z' }] }));
    parser.feed(obj({ logs: [{ vertex: D1, stream: 1, data: bytes.subarray(0, 4).toString('base64') }] }));
    parser.feed(obj({ logs: [{ vertex: D1, stream: 1, data: bytes.subarray(4).toString('base64') }] }));
    parser.feed(obj({ vertexes: [{ digest: D1, name: 'RUN a', started: '2024-05-01T10:00:00Z', completed: '2024-05-01T10:00:00Z', cached: true }] }));
    parser.end();
    assert.deepEqual(seen, ['RUN a ', 'RUN a S', 'RUN a SC*']);
    assert.deepEqual(logs, [['RUN a', 'caf'], ['RUN a', 'é\n']]);
    assert.deepEqual(parser.results()[0]?.logTail, ['café']);
  });

  test('logTail keeps the last 20 lines; a carriage return overwrites; ANSI colours dropped', () => {
    const lines = Array.from({ length: 30 }, (_, i) => `l${i}`).join('\n') + '\n10%\r50%\r100%\n\u001b[31mred\u001b[0m';
    const text = obj({ vertexes: [{ digest: D1, name: 'RUN a', started: '2024-05-01T10:00:00Z' }] })
      + obj({ logs: [{ vertex: D1, stream: 1, data: b64(lines) }] });
    const tail = parseAll(text).results[0]?.logTail ?? [];
    assert.equal(tail.length, 20);
    assert.deepEqual(tail.slice(-3), ['l29', '100%', 'red']);
  });

  test('warnings are decoded', () => {
    const text = obj({ warnings: [{ vertex: D1, level: 1, short: b64('FromAsCasing: x'), detail: [b64('d')] }] });
    assert.deepEqual(parseAll(text).parser.warnings, ['FromAsCasing: x']);
  });
});

describe('rawjson captured from the engine', () => {
  const read = (name: string): string => fs.readFileSync(path.join(RAWJSON, name), 'utf8');

  test('first build: steps in order, RUN built with its output, nothing unparsed', () => {
    const { parser, results } = parseAll(read('first-build.rawjson'));
    assert.deepEqual(parser.unparsed, []);
    assert.deepEqual(results.map((v) => v.name), [
      '[1/3] FROM docker.io/library/busybox:latest',
      '[2/3] WORKDIR /app',
      '[3/3] RUN echo "fixture-ok $(id -u)" && printf "caf\\303\\251\\n"',
      'exporting to image',
    ]);
    const run = results[2];
    assert.equal(run?.cached, false);
    assert.equal(run?.durationMs, 147.497); // 10:..53.192052155 -> 53.339549181
    assert.deepEqual(run?.logTail, ['fixture-ok 0', 'café']);
    assert.ok(results.every((v) => v.completed && v.error === undefined));
  });

  test('second build: the steps come from the cache', () => {
    const { results } = parseAll(read('second-build.rawjson'));
    assert.deepEqual(results.filter((v) => v.cached).map((v) => v.name), [
      '[2/3] WORKDIR /app',
      '[3/3] RUN echo "fixture-ok $(id -u)" && printf "caf\\303\\251\\n"',
    ]);
  });

  test('failed RUN: error on the vertex, logs of both streams, the CLI error as text', () => {
    const text = read('failed-run.rawjson');
    const whole = parseAll(text);
    const failed = whole.results.find((v) => v.error !== undefined);
    assert.equal(failed?.name, '[2/2] RUN echo "fixture-fail" && echo oops >&2 && exit 3');
    assert.match(failed?.error ?? '', /exit code: 3$/);
    assert.deepEqual(failed?.logTail, ['oops', 'fixture-fail']);
    assert.equal(whole.parser.unparsed[0], 'Dockerfile:2');
    assert.match(whole.parser.unparsed[whole.parser.unparsed.length - 1] ?? '', /^ERROR: failed to solve: process/);
    // Any chunking gives the same.
    for (const size of [1, 7, 64, 1000]) {
      const r = parseAll(text, (t) => t.match(new RegExp(`[^]{1,${size}}`, 'g')) ?? []);
      assert.deepEqual(r.results, whole.results);
      assert.deepEqual(r.parser.unparsed, whole.parser.unparsed);
    }
  });
});

describe('legacy builder output', () => {
  const OK = [
    'Sending build context to Docker daemon  3.072kB',
    'Step 1/4 : FROM busybox',
    ' ---> 1c11af11550c',
    'Step 2/4 : COPY a.txt /a.txt',
    ' ---> Using cache',
    ' ---> 6239489b2271',
    'Step 3/4 : RUN echo building && cat /a.txt',
    ' ---> Running in 92c2d88f0767',
    'building',
    '\u001b[91mto-stderr',
    '\u001b[0m ---> Removed intermediate container 92c2d88f0767',
    ' ---> 8eca7c9f6ef5',
    'Step 4/4 : RUN echo second line',
    ' ---> Using cache',
    ' ---> 1418a4dd2b69',
    'Successfully built 1418a4dd2b69',
    '',
  ].join('\n');

  test('steps, cached flags, logs, image id; same for any chunking', () => {
    let t = 0;
    const parser = new LegacyProgressParser({ now: () => (t += 10) });
    parser.feed(OK);
    parser.end();
    const r = parser.results();
    assert.deepEqual(r.map((v) => [v.name, v.cached, v.completed]), [
      ['Step 1/4 : FROM busybox', false, true],
      ['Step 2/4 : COPY a.txt /a.txt', true, true],
      ['Step 3/4 : RUN echo building && cat /a.txt', false, true],
      ['Step 4/4 : RUN echo second line', true, true],
    ]);
    assert.deepEqual(r[2]?.logTail, ['building', 'to-stderr']);
    assert.equal(r[2]?.digest, 'sha256:8eca7c9f6ef5');
    assert.equal(r[0]?.durationMs, 10);
    assert.equal(parser.imageId, '1418a4dd2b69');
    assert.deepEqual(parser.unparsed, ['Sending build context to Docker daemon  3.072kB', 'Successfully built 1418a4dd2b69']);
    for (let i = 0; i <= OK.length; i += 3) {
      const p = new LegacyProgressParser({ now: () => 0 });
      p.feed(OK.slice(0, i));
      p.feed(OK.slice(i));
      p.end();
      assert.deepEqual(p.results().map((v) => [v.name, v.cached, v.logTail]), r.map((v) => [v.name, v.cached, v.logTail]));
    }
  });

  test('a failing step gets the error', () => {
    const parser = new LegacyProgressParser();
    parser.feed('Step 1/2 : FROM busybox\n ---> 1c11af11550c\nStep 2/2 : RUN exit 3\n ---> Running in ce10de44e9d0\n');
    parser.fail("The command '/bin/sh -c exit 3' returned a non-zero code: 3");
    parser.end();
    const last = parser.results()[1];
    assert.equal(last?.completed, true);
    assert.match(last?.error ?? '', /non-zero code: 3/);
  });
});
