/**
 * The step model: BuildKit's progress names and which inputs change a step's key.
 * Expected names come from a real BuildKit (Docker 26.1) run of examples/node-app and from the
 * observations in shared notes (section 9); key expectations from BuildKit's convert.go.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from '../../server/src/parser';
import { planBuild, type PlanOptions, type BuildPlan } from '../../server/src/cache/steps';
import { predict } from '../../server/src/cache/predict';
import type { StepRecord } from '../../server/src/cache/types';

const fakeContext: PlanOptions['context'] = (sources) => ({ checksum: `sum:${sources.join(',')}`, files: [], missing: [] });
const images: PlanOptions['images'] = (ref) => ({ id: `id-of-${ref}`, env: [], workdir: '', user: '', shell: undefined });
const plan = (text: string, opts: PlanOptions = {}): BuildPlan => planBuild(parse(text), { context: fakeContext, images, ...opts });
const names = (p: BuildPlan): string[] => p.steps.filter((s) => s.reachable && s.dedupOf === undefined).map((s) => s.vertex);
const keyOf = (p: BuildPlan, vertexStart: string): string | undefined => p.steps.find((s) => s.vertex.includes(vertexStart))?.key;

test('names of examples/node-app match what BuildKit printed', () => {
  const text = fs.readFileSync(path.join(__dirname, '..', '..', 'examples', 'node-app', 'Dockerfile'), 'utf8');
  assert.deepEqual(names(plan(text)), [
    '[deps 1/4] FROM docker.io/library/node:20-alpine',
    '[deps 2/4] WORKDIR /app',
    '[deps 3/4] COPY package.json package-lock.json ./',
    '[deps 4/4] RUN --mount=type=cache,target=/root/.npm     npm ci',
    '[build 3/5] COPY --from=deps /app/node_modules ./node_modules',
    '[build 4/5] COPY . .',
    '[build 5/5] RUN npm run build',
    '[stage-2 3/4] COPY --from=build /app/dist ./dist',
    '[stage-2 4/4] COPY <<EOF /app/start.sh',
  ]);
});

test('single stage: no stage word; numbers padded to the width of N; WORKDIR / counted but not numbered', () => {
  const lines = ['FROM alpine', 'WORKDIR /', ...Array.from({ length: 10 }, (_, i) => `RUN echo ${i}`)];
  const n = names(plan(lines.join('\n')));
  assert.equal(n[0], '[ 1/12] FROM docker.io/library/alpine:latest');
  assert.equal(n[1], '[ 2/12] RUN echo 0');
  assert.equal(n[10], '[11/12] RUN echo 9');
  assert.equal(n.length, 11);
});

test('FROM scratch and FROM <stage> are neither numbered nor counted', () => {
  const p = plan('FROM alpine AS base\nRUN a\nFROM base AS build\nCOPY x /x\nRUN b\nFROM scratch\nCOPY --from=build /x /x\n');
  assert.deepEqual(names(p), [
    '[base 1/2] FROM docker.io/library/alpine:latest', '[base 2/2] RUN a',
    '[build 1/2] COPY x /x', '[build 2/2] RUN b',
    '[stage-2 1/1] COPY --from=build /x /x',
  ]);
});

test('an image read by COPY --from counts as a state: a single stage then shows its stage word', () => {
  assert.deepEqual(names(plan('FROM alpine\nCOPY --from=busybox /bin/busybox /bb\n')), [
    '[stage-0 1/2] FROM docker.io/library/alpine:latest',
    '[stage-0 2/2] COPY --from=busybox /bin/busybox /bb',
  ]);
});

test('names show ARG and ENV values expanded, single-quoted text kept', () => {
  const p = plan("FROM alpine\nARG V=1.2\nENV DIR=/srv\nRUN echo $V '$V' > $DIR/v\nCOPY app-$V.tgz $DIR/\n");
  assert.deepEqual(names(p).slice(1), ["[2/3] RUN echo 1.2 '$V' > /srv/v", '[3/3] COPY app-1.2.tgz /srv/']);
});

test('stages the target does not reach are skipped', () => {
  const p = plan('FROM alpine AS a\nRUN a\nFROM alpine AS b\nRUN b\nFROM alpine AS c\nCOPY --from=a /x /x\n');
  assert.deepEqual(p.steps.map((s) => s.reachable), [true, true, false, false, true, true]);
  const t = plan('FROM alpine AS a\nRUN a\nFROM alpine AS b\nRUN b\n', { target: 'a' });
  assert.deepEqual(t.steps.map((s) => s.reachable), [true, true, false, false]);
});

test('metadata instructions change no key under BuildKit', () => {
  const a = plan('FROM alpine\nRUN a\nLABEL x=1\nEXPOSE 80\nCMD ["a"]\nRUN b\n');
  const b = plan('FROM alpine\nRUN a\nLABEL x=2\nEXPOSE 81\nCMD ["b"]\nRUN b\n');
  assert.deepEqual(a.steps.map((s) => s.key), b.steps.map((s) => s.key));
});

test('ENV changes later RUN keys, not WORKDIR (a mkdir does not see the environment)', () => {
  const a = plan('FROM alpine\nENV A=1\nWORKDIR /app\nRUN x\n');
  const b = plan('FROM alpine\nENV A=2\nWORKDIR /app\nRUN x\n');
  assert.equal(keyOf(a, 'WORKDIR'), keyOf(b, 'WORKDIR'));
  assert.notEqual(keyOf(a, 'RUN x'), keyOf(b, 'RUN x'));
});

test('build args: a declared ARG with a value reaches every later RUN; an undeclared one reaches nothing', () => {
  const text = 'ARG GLOBAL=g\nFROM alpine\nARG V=1\nRUN unrelated\n';
  const base = plan(text);
  assert.notEqual(keyOf(base, 'RUN unrelated'), keyOf(plan(text, { buildArgs: { V: '2' } }), 'RUN unrelated'));
  assert.equal(keyOf(base, 'RUN unrelated'), keyOf(plan(text, { buildArgs: { NOT_DECLARED: 'x' } }), 'RUN unrelated'));
  // A global ARG reaches a stage only when re-declared there.
  assert.equal(keyOf(base, 'RUN unrelated'), keyOf(plan(text, { buildArgs: { GLOBAL: 'h' } }), 'RUN unrelated'));
  const redeclared = 'ARG GLOBAL=g\nFROM alpine\nARG GLOBAL\nRUN unrelated\n';
  assert.notEqual(keyOf(plan(redeclared), 'RUN unrelated'), keyOf(plan(redeclared, { buildArgs: { GLOBAL: 'h' } }), 'RUN unrelated'));
});

test('a base image that moved changes every key of the stage', () => {
  const text = 'FROM node:20\nRUN a\n';
  const moved = plan(text, { images: (r) => ({ id: `other-${r}`, env: [], workdir: '', user: '', shell: undefined }) });
  const p = plan(text);
  assert.notEqual(p.steps[0]?.key, moved.steps[0]?.key);
  assert.notEqual(p.steps[1]?.key, moved.steps[1]?.key);
});

test('identical operations on the same parent are one vertex, named after the first', () => {
  const p = plan('FROM alpine AS a\nWORKDIR /app\nRUN a\nFROM alpine AS b\nENV X=1\nWORKDIR /app\nCOPY --from=a /x /x\n');
  const wd = p.steps.filter((s) => s.instruction.keyword === 'WORKDIR');
  assert.equal(wd[1]?.dedupOf, wd[0]?.index);
  assert.equal(wd[1]?.vertex, '[a 2/3] WORKDIR /app');
});

test('ADD of a URL is unknown without --checksum, known with it', () => {
  const p = plan('FROM alpine\nADD https://example.com/x.tgz /x\nADD --checksum=sha256:abc https://example.com/y.tgz /y\n');
  assert.match(p.steps[1]?.unknownReason ?? '', /URL/);
  assert.ok(p.steps[2]?.key === undefined, 'after an unknown step the chain is unknown');
  const q = plan('FROM alpine\nADD --checksum=sha256:abc https://example.com/y.tgz /y\n');
  assert.ok(q.steps[1]?.key !== undefined);
});

test('COPY --link keeps its parent unless the worker has merge ops', () => {
  const text = (x: string): string => `FROM alpine\nRUN ${x}\nCOPY --link a /a\n`;
  assert.notEqual(keyOf(plan(text('one')), 'COPY'), keyOf(plan(text('two')), 'COPY'));
  assert.equal(keyOf(plan(text('one'), { mergeOps: true }), 'COPY'), keyOf(plan(text('two'), { mergeOps: true }), 'COPY'));
});

test('RUN sees WORKDIR as written (/src/app/ is not /src/app), the mkdir sees it cleaned', () => {
  const a = plan('FROM alpine\nWORKDIR /src/app\nRUN make\n');
  const b = plan('FROM alpine\nWORKDIR /src/app/\nRUN make\n');
  assert.equal(keyOf(a, 'WORKDIR'), keyOf(b, 'WORKDIR'));
  assert.notEqual(keyOf(a, 'RUN make'), keyOf(b, 'RUN make'));
});

test('two tags of one image are the same base', () => {
  const sameImage: PlanOptions['images'] = () => ({ id: 'sha256:one', env: [], workdir: '', user: '', shell: undefined });
  const a = plan('FROM node:20-alpine\nRUN x\n', { images: sameImage });
  const b = plan('FROM node:18-alpine\nRUN x\n', { images: sameImage });
  assert.equal(keyOf(a, 'RUN x'), keyOf(b, 'RUN x'));
  assert.notEqual(a.steps[0]?.vertex, b.steps[0]?.vertex, 'the names still show the tag');
});

test("a cache mount's id and sharing reach the key only as the default (exec.go checkShouldClearCacheOpts)", () => {
  const k = (m: string, args: Record<string, string> = {}): string | undefined => keyOf(plan(`FROM alpine\nWORKDIR /app\nRUN --mount=${m} npm ci\n`, { buildArgs: args }), 'npm ci');
  const dflt = k('type=cache,target=/root/.npm');
  // custom ids and sharing modes are all cleared: one key among them ...
  assert.equal(k('type=cache,id=npm,target=/root/.npm'), k('type=cache,id=npm2,target=/root/.npm'));
  assert.equal(k('type=cache,id=npm,target=/root/.npm'), k('type=cache,target=/root/.npm,sharing=locked'));
  assert.equal(k('type=cache,id=npm,target=/root/.npm,sharing=private'), k('type=cache,target=/root/.npm,sharing=locked'));
  // ... but not the default's: removing them (or setting them) changes the key
  assert.notEqual(dflt, k('type=cache,id=npm,target=/root/.npm'));
  assert.notEqual(dflt, k('type=cache,target=/root/.npm,sharing=locked'));
  // spelled-out defaults are the default
  assert.equal(dflt, k('type=cache,id=/root/.npm,target=/root/.npm'));
  assert.equal(dflt, k('type=cache,target=/root/.npm,sharing=shared'));
  // "root/.npm" makes the id "/root/.npm", equal to the target but not the default "//root/.npm"
  assert.notEqual(dflt, k('type=cache,id=root/.npm,target=/root/.npm'));
  assert.notEqual(dflt, k('type=cache,id=root/.npm,target=/root/.npm,sharing=locked'));
  // the namespace is part of a kept id
  assert.notEqual(dflt, k('type=cache,target=/root/.npm', { BUILDKIT_CACHE_MOUNT_NS: 'ns' }));
  // a relative target's default id is not the absolute target: cleared like a custom id
  assert.equal(k('type=cache,target=.cache'), k('type=cache,id=x,target=.cache'));
  assert.notEqual(dflt, k('type=cache,target=/root/.cache'));
});

test('COPY --chmod and --chown spellings that BuildKit resolves alike share a key', () => {
  const k = (flags: string): string | undefined => keyOf(plan(`FROM alpine\nCOPY ${flags} a /a\n`, { context: () => ({ checksum: 'c', files: [], missing: [] }) }), 'COPY');
  assert.equal(k('--chmod=755'), k('--chmod=0755'));
  assert.equal(k('--chmod=755'), k('--chmod=00755'));
  assert.notEqual(k('--chmod=755'), k('--chmod=775'));
  assert.notEqual(k('--chmod=755'), k(''));
  assert.equal(k('--chown=root'), k('--chown=0'));
  assert.equal(k('--chown=root:root'), k('--chown=0:0'));
  assert.equal(k('--chown=root:root'), k('--chown=00:root'));
  assert.notEqual(k('--chown=root'), k('--chown=root:root'), 'no group is not group 0');
  assert.notEqual(k('--chown=node'), k('--chown=1000'), 'names are resolved at build time');
  assert.notEqual(k('--chown=1000:1000'), k('--chown=1000'));
});

test('COPY --link with merge ops: its own vertex and a LINK vertex that what follows stands on', () => {
  const ctx = (sum: string): PlanOptions['context'] => () => ({ checksum: sum, files: [], missing: [] });
  const df = 'FROM alpine\nRUN a\nCOPY --link x /x\nRUN b\n';
  const p1 = plan(df, { mergeOps: true, context: ctx('1') });
  assert.deepEqual(p1.steps.map((s) => s.vertex), [
    '[1/4] FROM docker.io/library/alpine:latest', '[2/4] RUN a', '[3/4] COPY --link x /x', '[3/4] LINK COPY --link x /x', '[4/4] RUN b',
  ]);
  const p2 = plan(df.replace('RUN a', 'RUN a2'), { mergeOps: true, context: ctx('1') });
  const p3 = plan(df, { mergeOps: true, context: ctx('2') });
  assert.equal(keyOf(p1, '3/4] COPY'), keyOf(p2, '3/4] COPY'), 'the copy does not depend on the step below');
  assert.notEqual(keyOf(p1, 'LINK'), keyOf(p2, 'LINK'));
  assert.notEqual(keyOf(p1, 'RUN b'), keyOf(p3, 'RUN b'), 'a changed linked file changes what follows');
  assert.deepEqual(plan(df, { mergeOps: false, context: ctx('1') }).steps.map((s) => s.vertex).filter((v) => v.includes('LINK')), []);
});

test('the containerd store names a FROM with the digest the tag resolves to', () => {
  const img: PlanOptions['images'] = () => ({ id: 'sha256:abc', env: [], workdir: '', user: '', shell: undefined });
  assert.equal(plan('FROM alpine:3.19\n', { images: img, baseNamesPinned: true }).steps[0]?.vertex, '[1/1] FROM docker.io/library/alpine:3.19@sha256:abc');
  assert.equal(plan('FROM alpine:3.19\n', { images: img }).steps[0]?.vertex, '[1/1] FROM docker.io/library/alpine:3.19');
});

test('a RUN --mount reads a state of its own: a single stage then shows its stage word', () => {
  assert.deepEqual(names(plan('FROM alpine\nRUN --mount=type=cache,target=/c make\n')), [
    '[stage-0 1/2] FROM docker.io/library/alpine:latest',
    '[stage-0 2/2] RUN --mount=type=cache,target=/c make',
  ]);
});

test('a COPY --from a rebuilt stage: unknown where a record was made on its parent, a miss where none was', () => {
  const recordsOf = (p: BuildPlan, only: (vertex: string) => boolean): Map<string, StepRecord> => new Map(p.steps
    .filter((s) => s.key !== undefined && s.reachable && only(s.vertex))
    .map((s) => [s.key ?? '', {
      key: s.key ?? '', parentKey: s.parentKey, vertex: s.vertex, stage: s.stageName, line: 1, instruction: s.instruction.keyword.toUpperCase(),
      inputs: s.inputs, result: 'built' as const, durationMs: 10,
    }]));
  const text = 'FROM alpine AS build\nRUN echo v1 > /out\nFROM busybox\nWORKDIR /app\nCOPY --from=build /out ./out\nRUN cat out\n';
  const before = plan(text);
  const after = plan(text.replace('echo v1', 'echo v2'));
  const outcome = (known: Map<string, StepRecord>, vertex: string): [string, string] => {
    const r = predict(after, known, [...known.values()]).steps.find((s) => s.step.vertex.includes(vertex));
    return [r?.prediction ?? '?', r?.reason ?? '?'];
  };
  // The whole first build recorded: the rebuilt stage may produce the same /out.
  const all = recordsOf(before, () => true);
  assert.equal(outcome(all, 'COPY --from=build')[0], 'unknown');
  assert.equal(outcome(all, 'RUN cat out')[0], 'unknown');
  // Only the stages' first steps recorded (nothing was built on WORKDIR /app): BuildKit has no
  // record to match the copied files against, so the COPY runs, and what follows.
  const bases = recordsOf(before, (v) => !v.includes('COPY') && !v.includes('RUN cat'));
  assert.equal(outcome(bases, 'COPY --from=build')[0], 'miss');
  assert.deepEqual(outcome(bases, 'RUN cat out'), ['miss', 'previous step rebuilds']);
});
