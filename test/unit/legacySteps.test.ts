/**
 * The legacy builder's step model (DOCKER_BUILDKIT=0): progress names and which inputs change a
 * step's key. Expected names are what Docker 26.1's legacy builder printed for these Dockerfiles;
 * key expectations follow moby's builder/dockerfile (dispatchers.go, internals.go, buildargs.go)
 * and image/cache/compare.go: a step's key is its parent's plus the container config it commits.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { parse } from '../../server/src/parser';
import { planLegacyBuild } from '../../server/src/cache/legacySteps';
import { predict } from '../../server/src/cache/predict';
import type { BuildPlan, ContextSelector, PlanOptions } from '../../server/src/cache/steps';
import type { StepRecord } from '../../server/src/cache/types';

/** A context whose files hash by content only (as the real snapshot's entry hashes do). */
function contextOf(files: Record<string, string>): ContextSelector {
  return (sources) => {
    const out: Array<{ path: string; hash: string }> = [];
    const missing: string[] = [];
    for (const raw of sources) {
      const src = raw.replace(/^\.\//, '').replace(/\/$/, '');
      const matched = Object.keys(files).filter((p) => src === '.' || p === src || p.startsWith(src + '/') || (src.includes('*') && new RegExp(`^${src.replace(/\./g, '\\.').replace(/\*/g, '[^/]*')}$`).test(p)));
      if (matched.length === 0) missing.push(raw);
      for (const p of matched) out.push({ path: p, hash: `h(${files[p] ?? ''})` });
    }
    return { checksum: JSON.stringify(out), files: out, missing };
  };
}

const CONTEXT = { 'a.txt': 'A', 'package.json': '{}', 'src/index.js': 'x', 'src/util.js': 'y' };
/** alpine and busybox are one image on the test engine: the legacy cache only sees the id. */
const images: PlanOptions['images'] = (ref) => ({ id: ref.includes('node') ? 'sha256:node' : 'sha256:base', env: [['PATH', '/bin']], workdir: '', user: '', shell: undefined });
const plan = (text: string, opts: PlanOptions = {}, files: Record<string, string> = CONTEXT): BuildPlan =>
  planLegacyBuild(parse(text), { context: contextOf(files), images, ...opts });
const names = (p: BuildPlan): string[] => p.steps.filter((s) => s.reachable).map((s) => s.vertex);
const stepOf = (p: BuildPlan, text: string): BuildPlan['steps'][number] => {
  const s = p.steps.find((x) => x.vertex.endsWith(` : ${text}`));
  assert.ok(s !== undefined, `no step ${text} in ${JSON.stringify(p.steps.map((x) => x.vertex))}`);
  return s;
};
const keyOf = (p: BuildPlan, text: string): string | undefined => stepOf(p, text).key;

const MULTI = `ARG GLOBAL=g1
FROM alpine AS base
ARG V=1
ENV FOO=bar \\
    BAZ=$V
COPY a.txt /a.txt
LABEL x=y
RUN echo $V $FOO
EXPOSE 80
WORKDIR /app
USER root
COPY --chown=0:0 src /src/
FROM busybox AS unused
RUN echo unused
FROM base AS final
ARG GLOBAL
CMD ["sh"]
ENTRYPOINT echo
RUN echo done
`;

test('names: Step i/N with the instruction as written; N counts meta ARGs, FROMs and every instruction', () => {
  // Printed by DOCKER_BUILDKIT=0 docker build (Docker 26.1) for this Dockerfile.
  assert.deepEqual(names(plan(MULTI)), [
    'Step 2/18 : FROM alpine AS base',
    'Step 3/18 : ARG V=1',
    'Step 4/18 : ENV FOO=bar     BAZ=$V',
    'Step 5/18 : COPY a.txt /a.txt',
    'Step 6/18 : LABEL x=y',
    'Step 7/18 : RUN echo $V $FOO',
    'Step 8/18 : EXPOSE 80',
    'Step 9/18 : WORKDIR /app',
    'Step 10/18 : USER root',
    'Step 11/18 : COPY --chown=0:0 src /src/',
    'Step 12/18 : FROM busybox AS unused',
    'Step 13/18 : RUN echo unused',
    'Step 14/18 : FROM base AS final',
    'Step 15/18 : ARG GLOBAL',
    'Step 16/18 : CMD ["sh"]',
    'Step 17/18 : ENTRYPOINT echo',
    'Step 18/18 : RUN echo done',
  ]);
});

test('names keep the keyword\'s case; a heredoc RUN shows its first line only', () => {
  assert.deepEqual(names(plan('from alpine\narg V=1\nrun echo $V\nRUN <<EOF2\necho heredoc\nEOF2\n')), [
    'Step 1/4 : from alpine', 'Step 2/4 : arg V=1', 'Step 3/4 : run echo $V', 'Step 4/4 : RUN <<EOF2',
  ]);
});

test('--target: stages before it are built (needed or not), stages after it are not counted', () => {
  const text = 'FROM scratch AS s0\nCOPY a.txt /a.txt\nFROM alpine AS unused\nRUN echo unused\nFROM alpine AS t\nCOPY a.txt /a.txt\nFROM alpine AS after\nRUN echo after\n';
  const p = plan(text, { target: 't' });
  assert.deepEqual(names(p), [
    'Step 1/6 : FROM scratch AS s0', 'Step 2/6 : COPY a.txt /a.txt',
    'Step 3/6 : FROM alpine AS unused', 'Step 4/6 : RUN echo unused',
    'Step 5/6 : FROM alpine AS t', 'Step 6/6 : COPY a.txt /a.txt',
  ]);
  assert.equal(p.target, 2);
  assert.deepEqual(p.stages.map((s) => s.reachable), [true, true, true, false]);
  const skipped = p.steps.filter((s) => !s.reachable);
  assert.deepEqual(skipped.map((s) => s.instruction.original), ['FROM alpine AS after', 'RUN echo after']);
  const result = predict(p, new Map(), []);
  assert.deepEqual(result.steps.filter((x) => !x.step.reachable).map((x) => x.prediction), ['skipped', 'skipped']);
  assert.deepEqual(plan(text, { target: 'nope' }).problems, ['target stage "nope" could not be found']);
});

test('a LABEL change misses that step and every later one of the stage, not the earlier ones', () => {
  const before = plan(MULTI);
  const after = plan(MULTI.replace('LABEL x=y', 'LABEL x=z'));
  const changed = (text: string, textAfter = text): boolean => keyOf(before, text) !== keyOf(after, textAfter);
  assert.equal(changed('ARG V=1'), false);
  assert.equal(changed('COPY a.txt /a.txt'), false);
  assert.equal(changed('LABEL x=y', 'LABEL x=z'), true);
  for (const t of ['RUN echo $V $FOO', 'EXPOSE 80', 'WORKDIR /app', 'USER root', 'COPY --chown=0:0 src /src/', 'FROM base AS final', 'CMD ["sh"]', 'RUN echo done']) {
    assert.equal(changed(t), true, t);
  }
  // Another stage on the same base image is not affected.
  assert.equal(changed('RUN echo unused'), false);
});

test('CMD, EXPOSE, USER, ENTRYPOINT changes each miss (metadata instructions are cache steps)', () => {
  const base = plan(MULTI);
  for (const [from, to, next] of [
    ['EXPOSE 80', 'EXPOSE 81', 'WORKDIR /app'], ['USER root', 'USER nobody', 'COPY --chown=0:0 src /src/'],
    ['CMD ["sh"]', 'CMD ["bash"]', 'ENTRYPOINT echo'], ['ENTRYPOINT echo', 'ENTRYPOINT echo hi', 'RUN echo done'],
  ] as const) {
    const edited = plan(MULTI.replace(from, to));
    assert.notEqual(keyOf(edited, to), keyOf(base, from), from);
    assert.notEqual(keyOf(edited, next), keyOf(base, next), `${next} after ${from}`);
  }
});

test('a build arg change: the ARG and the COPY hit, RUNs with the arg in scope and ENV using it miss', () => {
  const text = 'FROM alpine\nARG V=1\nCOPY a.txt /a.txt\nRUN echo hi\n';
  const one = plan(text, { buildArgs: { V: '1' } });
  const two = plan(text, { buildArgs: { V: '2' } });
  assert.equal(keyOf(one, 'ARG V=1'), keyOf(two, 'ARG V=1'));
  assert.equal(keyOf(one, 'COPY a.txt /a.txt'), keyOf(two, 'COPY a.txt /a.txt'));
  // RUN's Cmd is `|1 V=2 /bin/sh -c echo hi`: the value counts even when the command does not use it.
  assert.notEqual(keyOf(one, 'RUN echo hi'), keyOf(two, 'RUN echo hi'));
  assert.deepEqual(stepOf(two, 'RUN echo hi').inputs.args, { V: '2' });
  // The build arg equal to the default: the same lookup as no build arg.
  assert.equal(keyOf(one, 'RUN echo hi'), keyOf(plan(text), 'RUN echo hi'));
  // An ENV that uses it changes the config.
  const env = 'FROM alpine\nARG V=1\nENV X=$V\nCOPY a.txt /a.txt\n';
  assert.notEqual(keyOf(plan(env, { buildArgs: { V: '1' } }), 'ENV X=$V'), keyOf(plan(env, { buildArgs: { V: '2' } }), 'ENV X=$V'));
  // The ARG's own default is in its commit message.
  assert.notEqual(keyOf(plan(text), 'ARG V=1'), keyOf(plan(text.replace('V=1', 'V=3')), 'ARG V=3'));
});

test('RUN prefix: ENV overrides an ARG of the same name; proxy args count only when declared; meta args only when re-declared', () => {
  const text = 'ARG M=m\nFROM alpine\nARG V=1\nENV V=env\nRUN echo hi\n';
  assert.equal(keyOf(plan(text, { buildArgs: { V: '1' } }), 'RUN echo hi'), keyOf(plan(text, { buildArgs: { V: '2' } }), 'RUN echo hi'));
  assert.deepEqual(stepOf(plan(text), 'RUN echo hi').inputs.args, {});
  const proxy = 'FROM alpine\nRUN echo hi\n';
  assert.equal(keyOf(plan(proxy), 'RUN echo hi'), keyOf(plan(proxy, { buildArgs: { HTTP_PROXY: 'http://p' } }), 'RUN echo hi'));
  const declared = 'FROM alpine\nARG HTTP_PROXY\nRUN echo hi\n';
  assert.notEqual(keyOf(plan(declared), 'RUN echo hi'), keyOf(plan(declared, { buildArgs: { HTTP_PROXY: 'http://p' } }), 'RUN echo hi'));
  // A meta ARG is not in a stage's scope until declared there, then with its value.
  assert.equal(keyOf(plan(text, { buildArgs: { M: 'x' } }), 'RUN echo hi'), keyOf(plan(text), 'RUN echo hi'));
  const redeclared = 'ARG M=m\nFROM alpine\nARG M\nRUN echo hi\n';
  assert.deepEqual(stepOf(plan(redeclared), 'RUN echo hi').inputs.args, { M: 'm' });
  assert.notEqual(keyOf(plan(redeclared), 'RUN echo hi'), keyOf(plan(redeclared, { buildArgs: { M: 'x' } }), 'RUN echo hi'));
});

test('COPY: the key is the files (paths and content) and the destination, not the text', () => {
  const text = 'FROM alpine\nCOPY a.txt /a.txt\nRUN echo hi\n';
  const base = plan(text);
  // A single copied file renamed, content unchanged: tarsum's header has the path, so it misses.
  const renamed = plan('FROM alpine\nCOPY b.txt /a.txt\nRUN echo hi\n', {}, { ...CONTEXT, 'b.txt': 'A' });
  assert.notEqual(keyOf(renamed, 'COPY b.txt /a.txt'), keyOf(base, 'COPY a.txt /a.txt'));
  // The same file spelt differently: the same lookup.
  assert.equal(keyOf(plan('FROM alpine\nCOPY ./a.txt /a.txt\nRUN echo hi\n'), 'COPY ./a.txt /a.txt'), keyOf(base, 'COPY a.txt /a.txt'));
  // Content changed; destination changed; --chown added.
  assert.notEqual(keyOf(plan(text, {}, { ...CONTEXT, 'a.txt': 'B' }), 'COPY a.txt /a.txt'), keyOf(base, 'COPY a.txt /a.txt'));
  assert.notEqual(keyOf(plan('FROM alpine\nCOPY a.txt /b.txt\n'), 'COPY a.txt /b.txt'), keyOf(base, 'COPY a.txt /a.txt'));
  assert.notEqual(keyOf(plan('FROM alpine\nCOPY --chown=1 a.txt /a.txt\n'), 'COPY --chown=1 a.txt /a.txt'), keyOf(base, 'COPY a.txt /a.txt'));
  // COPY vs ADD of the same file.
  assert.notEqual(keyOf(plan('FROM alpine\nADD a.txt /a.txt\n'), 'ADD a.txt /a.txt'), keyOf(base, 'COPY a.txt /a.txt'));
  // A file renamed inside a copied directory.
  const dir = 'FROM alpine\nCOPY src/ /src/\n';
  const { 'src/util.js': util, ...rest } = CONTEXT;
  assert.notEqual(keyOf(plan(dir, {}, { ...rest, 'src/helpers.js': util }), 'COPY src/ /src/'), keyOf(plan(dir), 'COPY src/ /src/'));
  assert.deepEqual((stepOf(plan(dir), 'COPY src/ /src/').selection?.files ?? []).map((f) => f.path), ['src/index.js', 'src/util.js']);
  // A missing source fails the build.
  assert.match(stepOf(plan('FROM alpine\nCOPY nope /x\n'), 'COPY nope /x').unknownReason ?? '', /nope not found/);
});

test('COPY --from: keyed on the stage\'s final image; an image by its id', () => {
  const text = 'FROM alpine AS b\nRUN echo one\nFROM alpine\nCOPY --from=b /x /x\nCOPY --from=node:20-alpine /y /y\n';
  const p = plan(text);
  assert.deepEqual(stepOf(p, 'COPY --from=b /x /x').readsStages, [0]);
  assert.notEqual(keyOf(p, 'COPY --from=b /x /x'), keyOf(plan(text.replace('echo one', 'echo two')), 'COPY --from=b /x /x'));
  assert.ok(p.imageRefs.includes('docker.io/library/node:20-alpine'));
  const noImage = planLegacyBuild(parse(text), { context: contextOf(CONTEXT), images: (r) => (r.includes('node') ? undefined : images(r)) });
  assert.match(stepOf(noImage, 'COPY --from=node:20-alpine /y /y').unknownReason ?? '', /not in the local image store/);
});

test('ADD of a URL is unknown (downloaded on every build); a local ADD is keyed like COPY', () => {
  const p = plan('FROM alpine\nADD https://example.com/x.tgz /x\nRUN echo after\n');
  assert.equal(keyOf(p, 'ADD https://example.com/x.tgz /x'), undefined);
  assert.match(stepOf(p, 'ADD https://example.com/x.tgz /x').unknownReason ?? '', /URL/);
  assert.equal(keyOf(p, 'RUN echo after'), undefined);
  const r = predict(p, new Map(), []);
  assert.deepEqual(r.steps.map((x) => x.prediction), ['miss', 'miss', 'miss']);
  assert.ok(plan('FROM alpine\nADD --checksum=sha256:00 a.txt /a\n').steps.every((s) => s.key !== undefined));
});

test('what the legacy builder rejects: RUN flags, --chmod and heredoc sources fail at the step; --parents before the build', () => {
  for (const [text, inst] of [
    ['FROM alpine\nRUN --mount=type=cache,target=/x echo hi\n', 'RUN --mount=type=cache,target=/x echo hi'],
    ['FROM alpine\nRUN --network=none echo hi\n', 'RUN --network=none echo hi'],
    ['FROM alpine\nCOPY --chmod=644 a.txt /a\n', 'COPY --chmod=644 a.txt /a'],
    ['FROM alpine\nCOPY <<EOF /x\nhello\nEOF\n', 'COPY <<EOF /x'],
  ] as const) {
    const p = plan(text);
    assert.equal(keyOf(p, inst), undefined, inst);
    assert.match(stepOf(p, inst).unknownReason ?? '', /the build fails here/, inst);
    assert.equal(p.problems.length, 1, inst);
    assert.notEqual(keyOf(p, text.split('\n')[0] ?? ''), undefined, `FROM of ${inst}`);
  }
  // --link is accepted and ignored.
  assert.notEqual(keyOf(plan('FROM alpine\nCOPY --link a.txt /a\n'), 'COPY --link a.txt /a'), undefined);
  const fatal = plan('FROM alpine\nRUN echo a\nCOPY --parents a.txt /a/\n');
  assert.ok(fatal.steps.every((s) => s.key === undefined));
  assert.match(fatal.problems.join('\n'), /COPY --parents: the build fails before it starts/);
});

test('FROM: keyed on the image id (not the name); FROM <stage> continues the stage\'s chain', () => {
  const a = plan('FROM alpine\nRUN echo hi\n');
  const b = plan('FROM busybox\nRUN echo hi\n');
  assert.equal(keyOf(a, 'RUN echo hi'), keyOf(b, 'RUN echo hi'));
  assert.notEqual(keyOf(a, 'RUN echo hi'), keyOf(plan('FROM node:20-alpine\nRUN echo hi\n'), 'RUN echo hi'));
  const staged = plan('FROM alpine AS base\nRUN echo hi\nFROM base\nRUN echo two\n');
  assert.equal(keyOf(staged, 'FROM base'), keyOf(staged, 'RUN echo hi'));
  // So a stage FROM another is the same lookup as the same steps written in one stage.
  assert.equal(keyOf(staged, 'RUN echo two'), keyOf(plan('FROM alpine\nRUN echo hi\nRUN echo two\n'), 'RUN echo two'));
  // An image the engine cannot be asked about; --pull.
  assert.match(planLegacyBuild(parse('FROM alpine\nRUN x\n'), { imagesUnavailable: 'no engine' }).steps[1]?.unknownReason ?? '', /no engine/);
  assert.equal(plan('FROM alpine\nRUN x\n', { pull: true }).steps[1]?.key, undefined);
});

test('ONBUILD: a step itself; its triggers run in the FROM step of a stage built on it', () => {
  const text = 'FROM alpine AS a\nCOPY a.txt /\nONBUILD RUN echo trig\nFROM a AS b\nRUN echo after\n';
  const p = plan(text);
  assert.deepEqual(names(p), ['Step 1/5 : FROM alpine AS a', 'Step 2/5 : COPY a.txt /', 'Step 3/5 : ONBUILD RUN echo trig', 'Step 4/5 : FROM a AS b', 'Step 5/5 : RUN echo after']);
  assert.notEqual(keyOf(p, 'FROM a AS b'), keyOf(p, 'ONBUILD RUN echo trig'));
  assert.notEqual(keyOf(p, 'FROM a AS b'), undefined);
  const other = plan(text.replace('echo trig', 'echo trig2'));
  assert.notEqual(keyOf(other, 'RUN echo after'), keyOf(p, 'RUN echo after'));
});

test('predict() on a legacy plan: after a recorded build, a LABEL change misses from there on', () => {
  const text = 'FROM alpine\nCOPY a.txt /a.txt\nLABEL v=1\nRUN echo build\nCMD ["sh"]\n';
  const first = plan(text);
  const known = new Map<string, StepRecord>(first.steps.map((s) => [s.key ?? '', {
    key: s.key ?? '', parentKey: s.parentKey, vertex: s.vertex, stage: s.stageName, line: 1, instruction: s.instruction.keyword.toUpperCase(),
    inputs: s.inputs, result: 'built', durationMs: 10,
  }]));
  const history = [...known.values()];
  assert.deepEqual(predict(first, known, history).steps.map((x) => x.prediction), ['hit', 'hit', 'hit', 'hit', 'hit']);
  const edited = predict(plan(text.replace('v=1', 'v=2')), known, history);
  assert.deepEqual(edited.steps.map((x) => [x.prediction, x.reason]), [
    ['hit', 'cached'], ['hit', 'cached'], ['miss', 'instruction changed'], ['miss', 'previous step rebuilds'], ['miss', 'previous step rebuilds'],
  ]);
});
