/**
 * The rules on real-world Dockerfiles: docker/awesome-compose samples with their .dockerignore and
 * file lists (`../shared/corpus/awesome-compose` beside the repository; skipped when absent, except
 * under CI=true, where its absence fails the run).
 */
import { test, describe } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import ignore from '@balena/dockerignore';
import { parse, splitStages } from '../../server/src/parser';
import { RULES, applyFix, runRules } from '../../server/src/rules';
import type { RuleContext, RuleDiagnostic } from '../../server/src/rules/types';

const CORPUS = path.resolve(__dirname, '..', '..', '..', 'shared', 'corpus', 'awesome-compose');
const present = fs.existsSync(CORPUS);
const skip = present || process.env.CI === 'true' ? false : `awesome-compose corpus not present at ${CORPUS}`;

test('the awesome-compose corpus is present (required under CI=true)', { skip: present ? false : skip }, () => {
  assert.ok(fs.existsSync(path.join(CORPUS, 'vuejs', 'vuejs', 'Dockerfile')), `${CORPUS} is missing: CI checks out ../shared beside the repository`);
});

interface Sample { name: string; dir: string; text: string; files: string[]; ignore: string[] | undefined }

function sample(name: string): Sample {
  const dir = path.join(CORPUS, name);
  const listed = fs.readFileSync(path.join(dir, 'FILES.txt'), 'utf8').split('\n').filter((l) => l !== '').map((l) => l.slice(name.length + 1));
  const ignoreFile = path.join(dir, '.dockerignore');
  const patterns = fs.existsSync(ignoreFile) ? fs.readFileSync(ignoreFile, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#')) : undefined;
  return { name, dir, text: fs.readFileSync(path.join(dir, 'Dockerfile'), 'utf8'), files: listed, ignore: patterns };
}

/** The context as BuildKit would receive it: listed files plus their folders, minus what .dockerignore excludes. */
function ctxOf(s: Sample, extra: string[] = [], text = s.text): RuleContext {
  const all = new Set<string>();
  for (const f of [...s.files, ...extra]) {
    const parts = f.split('/');
    for (let i = 1; i <= parts.length; i++) all.add(parts.slice(0, i).join('/'));
  }
  const ig = ignore().add(s.ignore ?? []);
  const ast = parse(text);
  return {
    ast,
    stages: splitStages(ast),
    text,
    contextFiles: new Set([...all].filter((f) => !ig.ignores(f))),
    dockerignore: s.ignore === undefined ? undefined : { path: path.join(s.dir, '.dockerignore'), patterns: s.ignore },
    contextRoot: s.dir,
    history: [],
  };
}

const only = (ds: RuleDiagnostic[], rule: string): RuleDiagnostic[] => ds.filter((d) => d.rule === rule);

function samples(): string[] {
  if (!present) return [];
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name));
      else if (e.name === 'Dockerfile') out.push(path.relative(CORPUS, d));
    }
  };
  walk(CORPUS);
  return out.sort();
}

describe('awesome-compose', { skip }, () => {
  test('copy-all-before-install fires on exactly the three samples that copy everything before installing', () => {
    const firing = samples().filter((n) => only(runRules(ctxOf(sample(n))), 'cache/copy-all-before-install').length > 0);
    assert.deepEqual(firing, ['aspnet-mssql/app/aspnetapp', 'nginx-wsgi-flask/flask', 'vuejs/vuejs']);
  });

  test('vuejs: COPY . . before `yarn install` — the fix copies package.json and yarn.lock first, past `yarn global add`', () => {
    const s = sample('vuejs/vuejs');
    const [d] = only(runRules(ctxOf(s)), 'cache/copy-all-before-install');
    assert.ok(d !== undefined);
    assert.equal(d.range.start.line, 6);
    assert.match(d.message, /reruns `RUN yarn install` \(line 10\)/);
    const fix = d.fixes[0];
    assert.ok(fix !== undefined);
    const out = applyFix(s.text, fix);
    assert.equal(out, [
      '# syntax=docker/dockerfile:1.4',
      'FROM --platform=$BUILDPLATFORM node:14.4.0-alpine AS development',
      '',
      'RUN mkdir /project',
      'WORKDIR /project',
      '',
      'COPY package.json yarn.lock ./',
      '',
      'RUN yarn global add @vue/cli',
      'RUN yarn install',
      'COPY . .',
      'ENV HOST=0.0.0.0',
      'CMD ["yarn", "run", "serve"]',
      '',
      'FROM development as dev-envs',
      'RUN <<EOF',
      'apk update',
      'apk add git',
      'EOF',
      '',
      'RUN <<EOF',
      'addgroup -S docker',
      'adduser -S --shell /bin/bash --ingroup docker vscode',
      'EOF',
      '# install Docker tools (cli, buildx, compose)',
      'COPY --from=gloursdocker/docker / /',
      'CMD ["yarn", "run", "serve"]',
      '',
      '',
    ].join('\n'));
    assert.deepEqual(only(runRules(ctxOf(s, [], out)), 'cache/copy-all-before-install'), []);
  });

  test('nginx-wsgi-flask: COPY . . before `pip install -r`, but `python -m venv` in between — diagnostic without fix', () => {
    const [d] = only(runRules(ctxOf(sample('nginx-wsgi-flask/flask'))), 'cache/copy-all-before-install');
    assert.ok(d !== undefined);
    assert.equal(d.range.start.line, 17);
    assert.deepEqual(d.fixes, []);
    assert.match(d.message, /reruns `RUN pip install -r requirements\.txt` \(line 27\)/);
    assert.match(d.message, /no automatic fix: `RUN python -m venv \$VIRTUAL_ENV` \(line 24\) comes between/);
  });

  test('aspnet-mssql: COPY . /src before `dotnet build` (restores implicitly) — suggests `dotnet restore`, no fix', () => {
    const [d] = only(runRules(ctxOf(sample('aspnet-mssql/app/aspnetapp'))), 'cache/copy-all-before-install');
    assert.ok(d !== undefined);
    assert.deepEqual(d.fixes, []);
    assert.match(d.message, /copy the project files and run `dotnet restore` before copying the sources/);
  });

  test('samples that already copy the manifests first stay quiet (angular, django, fastapi, nginx-golang, spring-postgres, react-rust-postgres)', () => {
    for (const n of ['angular/angular', 'django/app', 'fastapi', 'nginx-golang/backend', 'spring-postgres/backend', 'react-rust-postgres/backend', 'react-express-mongodb/frontend', 'nginx-aspnet-mysql/backend']) {
      const ds = runRules(ctxOf(sample(n)));
      assert.deepEqual(only(ds, 'cache/copy-all-before-install'), [], n);
      assert.deepEqual(only(ds, 'cache/copy-before-system-install'), [], n);
    }
  });

  test('context-not-ignored: quiet with a .dockerignore that covers the context (react-nginx, angular); vuejs with a host node_modules gets it ignored, .git not (a stage installs git)', () => {
    assert.deepEqual(only(runRules(ctxOf(sample('react-nginx'))), 'cache/context-not-ignored'), []);
    assert.deepEqual(only(runRules(ctxOf(sample('angular/angular'), ['node_modules/@angular/core/package.json'])), 'cache/context-not-ignored'), []);
    const s = sample('vuejs/vuejs');
    const [d] = only(runRules(ctxOf(s, ['.git/HEAD', 'node_modules/vue/package.json'])), 'cache/context-not-ignored');
    assert.ok(d !== undefined);
    assert.match(d.message, /`\.git` is not offered for ignoring/);
    assert.deepEqual(d.fixes[0]?.edits, [{ file: path.join(s.dir, '.dockerignore'), newText: 'node_modules\n' }]);
  });

  test('package-cache-mount: nginx-nodejs-redis gets a mount on `npm ci`; nginx-golang already mounts; Maven\'s go-offline repository is kept, so no hint', () => {
    const s = sample('nginx-nodejs-redis/web');
    const [d] = only(runRules(ctxOf(s)), 'cache/package-cache-mount');
    assert.ok(d?.fixes[0] !== undefined);
    assert.equal(applyFix(s.text, d.fixes[0]), [
      'FROM node:14.17.3-alpine3.14',
      '',
      'WORKDIR /usr/src/app',
      '',
      'COPY package.json package-lock.json ./',
      'RUN --mount=type=cache,target=/root/.npm npm ci',
      'COPY ./server.js ./',
      '',
      'CMD ["npm","start"]',
      '',
    ].join('\n'));
    assert.deepEqual(only(runRules(ctxOf(sample('nginx-golang/backend'))), 'cache/package-cache-mount').filter((x) => x.range.start.line < 20), []);
    // Maven keeps its go-offline repository in the image for the build after it: no mount can be
    // offered, and a hint with nothing to offer is noise.
    const maven = only(runRules(ctxOf(sample('react-java-mysql/backend'))), 'cache/package-cache-mount').filter((x) => /Maven/.test(x.message));
    assert.deepEqual(maven, []);
  });

  test('the well-ordered samples (all but the three above) get no diagnostic but hints', () => {
    const noisy = samples()
      .filter((n) => !['aspnet-mssql/app/aspnetapp', 'nginx-wsgi-flask/flask', 'vuejs/vuejs'].includes(n))
      .flatMap((n) => runRules(ctxOf(sample(n))).filter((d) => d.severity !== 'hint').map((d) => `${n}:${d.range.start.line + 1}: ${d.rule}: ${d.message}`));
    assert.ok(samples().length >= 30);
    assert.deepEqual(noisy, []);
  });

  test('every fix on every sample applies cleanly and silences its diagnostic', () => {
    for (const n of samples()) {
      const s = sample(n);
      for (const d of runRules(ctxOf(s))) {
        for (const fix of d.fixes) {
          const out = applyFix(s.text, fix);
          if (fix.edits.every((e) => e.file !== undefined)) continue;
          const again = runRules(ctxOf(s, [], out)).filter((x) => x.rule === d.rule && x.message === d.message);
          assert.deepEqual(again, [], `${n}: ${d.rule} fires again after "${fix.title}"`);
        }
      }
    }
  });

  test('no rule throws on any sample', () => {
    for (const n of samples()) for (const r of RULES) assert.doesNotThrow(() => r.check(ctxOf(sample(n))), `${n}: ${r.id}`);
  });
});
