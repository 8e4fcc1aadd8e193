/**
 * The cache-order rules: each fires where it should and not where it should not, and each fix,
 * applied, gives exactly the hand-written text and silences the rule there.
 */
import { test, describe } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { parse, splitStages } from '../../server/src/parser';
import { RULES, applyFix, fixToApply, runRules } from '../../server/src/rules';
import type { RuleContext, RuleDiagnostic, RuleFix } from '../../server/src/rules/types';
import type { StepRecord } from '../../server/src/cache/types';

interface Opts {
  /** Context files (parent folders are added); undefined: the context was not read. */
  files?: string[] | undefined;
  dockerignore?: string[];
  history?: Array<StepRecord & { time?: string }>;
}

function withDirs(files: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const f of files) {
    const parts = f.split('/');
    for (let i = 1; i <= parts.length; i++) out.add(parts.slice(0, i).join('/'));
  }
  return out;
}

function ctxOf(text: string, o: Opts = {}): RuleContext {
  const ast = parse(text);
  return {
    ast,
    stages: splitStages(ast),
    text,
    contextFiles: o.files === undefined ? undefined : withDirs(o.files),
    dockerignore: o.dockerignore === undefined ? undefined : { path: '/ctx/.dockerignore', patterns: o.dockerignore },
    contextRoot: '/ctx',
    history: o.history ?? [],
  };
}

const lines = (...l: string[]): string => `${l.join('\n')}\n`;
const diags = (rule: string, text: string, o: Opts = {}): RuleDiagnostic[] => runRules(ctxOf(text, o)).filter((d) => d.rule === rule);

function onlyFix(rule: string, text: string, o: Opts = {}): { diag: RuleDiagnostic; fix: RuleFix } {
  const ds = diags(rule, text, o);
  assert.equal(ds.length, 1, `one ${rule} diagnostic expected, got ${ds.map((d) => d.message).join(' / ')}`);
  const diag = ds[0];
  assert.ok(diag !== undefined);
  assert.equal(diag.fixes.length, 1, `a fix expected: ${diag.message}`);
  const fix = diag.fixes[0];
  assert.ok(fix !== undefined);
  return { diag, fix };
}

/** Applies the only fix and checks the result, and that the rule no longer fires. */
function assertFix(rule: string, text: string, expected: string, o: Opts = {}): RuleFix {
  const { fix } = onlyFix(rule, text, o);
  const out = applyFix(text, fix);
  assert.equal(out, expected);
  assert.deepEqual(diags(rule, out, o).map((d) => d.message), [], 'the rule fires again after its fix');
  return fix;
}

const NODE_FILES = ['package.json', 'package-lock.json', 'server.js', 'src/app.js', 'src/lib/util.js', 'README.md', 'Dockerfile'];

// ---------------------------------------------------------------------------------------------
describe('cache/copy-all-before-install', () => {
  const R = 'cache/copy-all-before-install';

  test('.NET solution with several projects: the project files copied to their folders, one COPY per folder', () => {
    const files = ['App.sln', 'Directory.Build.props', 'src/Web/Web.csproj', 'src/Web/Program.cs', 'src/Lib/Lib.csproj', 'src/Lib/L.cs', 'tests/Web.Tests/Web.Tests.csproj'];
    const text = lines('FROM mcr.microsoft.com/dotnet/sdk:8.0', 'WORKDIR /src', 'COPY . .', 'RUN dotnet restore', 'RUN dotnet publish src/Web -c Release -o /out --no-restore');
    assertFix(R, text, lines(
      'FROM mcr.microsoft.com/dotnet/sdk:8.0', 'WORKDIR /src',
      'COPY App.sln Directory.Build.props ./',
      'COPY src/Lib/Lib.csproj ./src/Lib/',
      'COPY src/Web/Web.csproj ./src/Web/',
      'COPY tests/Web.Tests/Web.Tests.csproj ./tests/Web.Tests/',
      'RUN dotnet restore', 'COPY . .', 'RUN dotnet publish src/Web -c Release -o /out --no-restore',
    ), { files });
    // Already listed: quiet.
    const listed = lines('FROM mcr.microsoft.com/dotnet/sdk:8.0', 'WORKDIR /src', 'COPY App.sln .', 'COPY src/Web/Web.csproj src/Web/', 'COPY src/Lib/Lib.csproj src/Lib/', 'RUN dotnet restore', 'COPY . .', 'RUN dotnet publish src/Web -o /out --no-restore');
    assert.deepEqual(diags(R, listed, { files }), []);
  });

  test('cargo fetch after `cargo init` made placeholder targets: the manifests suffice, fixable', () => {
    const files = ['Cargo.toml', 'Cargo.lock', 'src/main.rs'];
    const text = lines('FROM rust:1.77', 'WORKDIR /code', 'RUN cargo init --name app', 'COPY . /code', 'RUN cargo fetch', 'RUN cargo build --release');
    assertFix(R, text, lines('FROM rust:1.77', 'WORKDIR /code', 'RUN cargo init --name app', 'COPY Cargo.toml Cargo.lock /code/', 'RUN cargo fetch', 'COPY . /code', 'RUN cargo build --release'), { files });
    // `cargo init` elsewhere: the fetch still reads the real targets.
    const [d] = diags(R, lines('FROM rust:1.77', 'WORKDIR /code', 'RUN cargo init /tmp/x', 'COPY . /code', 'RUN cargo fetch'), { files });
    assert.ok(d !== undefined);
    assert.deepEqual(d.fixes, []);
  });

  test('Maven: a source folder copied before the dependency step is moved after it', () => {
    const files = ['pom.xml', 'src/main/java/App.java', '.mvn/wrapper/maven-wrapper.properties'];
    const text = lines('FROM maven:3-eclipse-temurin-17', 'WORKDIR /app', 'COPY src ./src', 'COPY pom.xml .', 'RUN mvn dependency:go-offline', 'RUN mvn package');
    const { diag } = onlyFix(R, text, { files });
    assert.equal(diag.range.start.line, 2);
    assert.match(diag.message, /reruns it and every step after it/);
    assertFix(R, text, lines('FROM maven:3-eclipse-temurin-17', 'WORKDIR /app', 'COPY pom.xml .', 'RUN mvn dependency:go-offline', 'COPY src ./src', 'RUN mvn package'), { files });
    // `.mvn` is read by the install; a module folder has its own pom.xml; npm may run scripts that read anything: quiet.
    assert.deepEqual(diags(R, lines('FROM maven:3', 'WORKDIR /app', 'COPY .mvn .mvn', 'COPY pom.xml .', 'RUN mvn dependency:go-offline'), { files }), []);
    assert.deepEqual(diags(R, lines('FROM maven:3', 'WORKDIR /app', 'COPY core ./core', 'COPY pom.xml .', 'RUN mvn dependency:go-offline'), { files: ['pom.xml', 'core/pom.xml', 'core/src/A.java'] }), []);
    assert.deepEqual(diags(R, lines('FROM node:20', 'WORKDIR /app', 'COPY scripts ./scripts', 'COPY package.json package-lock.json ./', 'RUN npm ci'), { files: [...NODE_FILES, 'scripts/postinstall.js'] }), []);
  });

  test('well-ordered workspaces and earlier dependency steps: quiet (pnpm fetch, Cargo placeholders, npm/yarn/Go workspaces)', () => {
    const cases: Array<[string[], string[]]> = [
      [['FROM node:20', 'WORKDIR /app', 'COPY pnpm-lock.yaml pnpm-workspace.yaml ./', 'RUN pnpm fetch', 'COPY . .', 'RUN pnpm install --offline --frozen-lockfile', 'RUN pnpm -r build'],
        ['package.json', 'pnpm-lock.yaml', 'pnpm-workspace.yaml', 'packages/a/package.json', 'packages/a/index.js']],
      [['FROM node:20', 'WORKDIR /app', 'COPY package.json yarn.lock ./', 'COPY packages/a/package.json packages/a/', 'RUN yarn install --frozen-lockfile', 'COPY . .', 'RUN yarn workspace a build'],
        ['package.json', 'yarn.lock', 'packages/a/package.json', 'packages/a/index.js']],
      [['FROM rust:1.77', 'WORKDIR /app', 'COPY Cargo.toml Cargo.lock ./', 'COPY crates/core/Cargo.toml crates/core/', 'RUN mkdir -p crates/core/src && touch crates/core/src/lib.rs && cargo fetch', 'COPY . .', 'RUN cargo build --release'],
        ['Cargo.toml', 'Cargo.lock', 'crates/core/Cargo.toml', 'crates/core/src/lib.rs']],
      [['FROM rust:1.77', 'WORKDIR /app', 'COPY Cargo.toml Cargo.lock ./', 'RUN mkdir src && echo "fn main() {}" > src/main.rs && cargo build --release && rm -rf src', 'COPY . .', 'RUN cargo build --release'],
        ['Cargo.toml', 'Cargo.lock', 'src/main.rs']],
      [['FROM golang:1.22', 'WORKDIR /src', 'COPY go.work go.work.sum ./', 'COPY api/go.mod api/go.sum api/', 'COPY lib/go.mod lib/', 'RUN go mod download', 'COPY . .', 'RUN go build -o /app ./api'],
        ['go.work', 'go.work.sum', 'api/go.mod', 'api/go.sum', 'api/main.go', 'lib/go.mod', 'lib/lib.go']],
    ];
    for (const [text, files] of cases) {
      assert.deepEqual(diags(R, lines(...text), { files }).map((d) => d.message), [], text.join('\n'));
    }
  });

  test('COPY . before npm ci: diagnostic on the COPY, fix copies the existing manifests first (flags and comments kept)', () => {
    const text = lines(
      'FROM node:20',
      'WORKDIR /app',
      '# all the sources',
      'COPY --chown=node:node . .',
      'RUN npm ci',
      'CMD ["node", "server.js"]',
    );
    const { diag } = onlyFix(R, text, { files: [...NODE_FILES, '.npmrc'] });
    assert.deepEqual(diag.range, { start: { line: 3, character: 0 }, end: { line: 3, character: 26 } });
    assert.equal(diag.severity, 'warning');
    assert.match(diag.message, /every change to any file in the build context reruns `RUN npm ci` \(line 5\)/i);
    const fix = assertFix(R, text, lines(
      'FROM node:20',
      'WORKDIR /app',
      'COPY --chown=node:node package.json package-lock.json .npmrc ./',
      'RUN npm ci',
      '# all the sources',
      'COPY --chown=node:node . .',
      'CMD ["node", "server.js"]',
    ), { files: [...NODE_FILES, '.npmrc'] });
    assert.equal(fix.title, 'Copy the dependency manifests first');
    assert.equal(fix.isPreferred, true);
  });

  test('manifests already copied first: silent', () => {
    const text = lines('FROM node:20', 'WORKDIR /app', 'COPY package.json package-lock.json ./', 'RUN npm ci', 'COPY . .', 'RUN npm run build');
    assert.deepEqual(diags(R, text, { files: NODE_FILES }), []);
  });

  test('no install after the COPY, or only a global one: silent', () => {
    assert.deepEqual(diags(R, lines('FROM node:20', 'WORKDIR /app', 'COPY . .', 'RUN npm install -g serve', 'CMD ["serve"]'), { files: NODE_FILES }), []);
    assert.deepEqual(diags(R, lines('FROM python:3.12', 'COPY . .', 'RUN pip install --upgrade pip'), { files: ['requirements.txt'] }), []);
  });

  test('an install in another stage: silent', () => {
    const text = lines('FROM node:20 AS src', 'WORKDIR /app', 'COPY . .', 'FROM node:20', 'WORKDIR /app', 'COPY --from=src /app .', 'RUN npm ci');
    assert.deepEqual(diags(R, text, { files: NODE_FILES }), []);
  });

  test('the install also builds (reads sources): diagnostic, no fix', () => {
    const text = lines('FROM node:20', 'WORKDIR /app', 'COPY . .', 'RUN npm ci && npm run build');
    const [d] = diags(R, text, { files: NODE_FILES });
    assert.ok(d !== undefined);
    assert.deepEqual(d.fixes, []);
    assert.match(d.message, /no automatic fix: the RUN also runs `npm run build`/);
  });

  test('context not read: diagnostic without fix (lock files unknown)', () => {
    const [d] = diags(R, lines('FROM node:20', 'WORKDIR /app', 'COPY . .', 'RUN npm ci'));
    assert.ok(d !== undefined);
    assert.deepEqual(d.fixes, []);
    assert.match(d.message, /has not been read/);
  });

  test('a source folder holding the manifests: COPY app/ /app/ -> COPY app/package.json app/package-lock.json /app/', () => {
    const text = lines('FROM node:20', 'WORKDIR /app', 'COPY app/ /app/', 'RUN npm ci', 'EXPOSE 3000');
    const files = ['app/package.json', 'app/package-lock.json', 'app/index.js', 'docs/readme.md'];
    const [d] = diags(R, text, { files });
    assert.ok(d !== undefined);
    assert.match(d.message, /any file in `app\/`/);
    assertFix(R, text, lines('FROM node:20', 'WORKDIR /app', 'COPY app/package.json app/package-lock.json /app/', 'RUN npm ci', 'COPY app/ /app/', 'EXPOSE 3000'), { files });
  });

  test('a folder without the manifests is not reported', () => {
    const text = lines('FROM node:20', 'WORKDIR /app', 'COPY package.json package-lock.json ./', 'COPY src/ ./src/', 'RUN npm ci');
    assert.deepEqual(diags(R, text, { files: NODE_FILES }), []);
  });

  test('pip -r with a cache mount and continuation lines: the RUN stays as written, sibling requirement files go along', () => {
    const text = lines(
      'FROM python:3.12-slim',
      'WORKDIR /srv',
      'COPY . /srv',
      'RUN --mount=type=cache,target=/root/.cache/pip \\',
      '    pip install -r requirements.txt',
      'CMD ["python", "app.py"]',
    );
    const files = ['requirements.txt', 'requirements-dev.txt', 'app.py', 'pkg/__init__.py'];
    assertFix(R, text, lines(
      'FROM python:3.12-slim',
      'WORKDIR /srv',
      'COPY requirements.txt requirements-dev.txt /srv/',
      'RUN --mount=type=cache,target=/root/.cache/pip \\',
      '    pip install -r requirements.txt',
      'COPY . /srv',
      'CMD ["python", "app.py"]',
    ), { files });
  });

  test('pip install -e . needs the sources: no fix', () => {
    const [d] = diags(R, lines('FROM python:3.12', 'WORKDIR /srv', 'COPY . .', 'RUN pip install -r requirements.txt -e .'), { files: ['requirements.txt', 'setup.py'] });
    assert.ok(d !== undefined);
    assert.deepEqual(d.fixes, []);
  });

  test('poetry install (installs the project) vs poetry install --no-root', () => {
    const files = ['pyproject.toml', 'poetry.lock', 'app/main.py'];
    const [d] = diags(R, lines('FROM python:3.12', 'WORKDIR /srv', 'COPY . .', 'RUN poetry install'), { files });
    assert.ok(d !== undefined);
    assert.deepEqual(d.fixes, []);
    assert.match(d.message, /--no-root/);
    assertFix(R, lines('FROM python:3.12', 'WORKDIR /srv', 'COPY . .', 'RUN poetry install --no-root'),
      lines('FROM python:3.12', 'WORKDIR /srv', 'COPY pyproject.toml poetry.lock ./', 'RUN poetry install --no-root', 'COPY . .'), { files });
  });

  test('go build when go.mod exists: diagnostic suggesting go mod download, no fix; silent after a go mod download step', () => {
    const files = ['go.mod', 'go.sum', 'main.go'];
    const [d] = diags(R, lines('FROM golang:1.22', 'WORKDIR /src', 'COPY . .', 'RUN go build -o /app .'), { files });
    assert.ok(d !== undefined);
    assert.deepEqual(d.fixes, []);
    assert.match(d.message, /go mod download/);
    assert.deepEqual(diags(R, lines('FROM golang:1.22', 'WORKDIR /src', 'COPY . .', 'RUN go build -o /app .'), { files: ['main.go'] }), []);
    assert.deepEqual(diags(R, lines('FROM golang:1.22', 'WORKDIR /src', 'COPY go.mod go.sum ./', 'RUN go mod download', 'COPY . .', 'RUN go build -o /app .'), { files }), []);
  });

  test('go build in a build stage whose binary alone is copied out: split, `go mod download` first; the image\'s own stage or a copy of /go: no fix', () => {
    const files = ['go.mod', 'go.sum', 'main.go'];
    const text = lines('FROM golang:1.22 AS build', 'WORKDIR /src', '# sources', 'COPY . .', 'RUN CGO_ENABLED=0 go build -o /out/app .', 'FROM scratch', 'COPY --from=build /out/app /app');
    const { diag } = onlyFix(R, text, { files });
    assert.match(diag.message, /It needs the sources/);
    assertFix(R, text, lines('FROM golang:1.22 AS build', 'WORKDIR /src', 'COPY go.mod go.sum ./', 'RUN go mod download', '# sources', 'COPY . .', 'RUN CGO_ENABLED=0 go build -o /out/app .', 'FROM scratch', 'COPY --from=build /out/app /app'), { files });
    const [own] = diags(R, lines('FROM golang:1.22 AS build', 'WORKDIR /src', 'COPY . .', 'RUN go build -o /out/app .', 'FROM build AS test', 'RUN go test ./...'), { files });
    assert.deepEqual(own?.fixes, []);
    assert.match(own?.message ?? '', /the stage is the image/);
    const [cache] = diags(R, lines('FROM golang:1.22 AS build', 'WORKDIR /src', 'COPY . .', 'RUN go build -o /out/app .', 'FROM alpine', 'COPY --from=build /go /go'), { files });
    assert.deepEqual(cache?.fixes, []);
    // Maven: not proven safe (go-offline fills ~/.m2 differently from the build): by hand.
    const [mvn] = diags(R, lines('FROM maven:3 AS build', 'WORKDIR /w', 'COPY . .', 'RUN mvn -B package', 'FROM eclipse-temurin:21', 'COPY --from=build /w/target/app.jar /app.jar'), { files: ['pom.xml', 'src/A.java'] });
    assert.deepEqual(mvn?.fixes, []);
    assert.match(mvn?.message ?? '', /run `mvn dependency:go-offline` before copying the sources \(no automatic fix: not proven safe/);
  });

  test('go mod download after COPY . is fixable', () => {
    assertFix(R, lines('FROM golang:1.22', 'WORKDIR /src', 'COPY . .', 'RUN go mod download', 'RUN go build -o /app .'),
      lines('FROM golang:1.22', 'WORKDIR /src', 'COPY go.mod go.sum ./', 'RUN go mod download', 'COPY . .', 'RUN go build -o /app .'),
      { files: ['go.mod', 'go.sum', 'main.go'] });
  });

  test('cargo fetch / cargo build: diagnostic without fix (cargo reads the targets)', () => {
    for (const cmd of ['cargo fetch', 'cargo build --release']) {
      const [d] = diags(R, lines('FROM rust:1.80', 'WORKDIR /src', 'COPY . .', `RUN ${cmd}`), { files: ['Cargo.toml', 'Cargo.lock', 'src/main.rs'] });
      assert.ok(d !== undefined, cmd);
      assert.deepEqual(d.fixes, [], cmd);
    }
  });

  test('maven: go-offline fixable (pom.xml, .mvn/ and the wrapper), package not', () => {
    const files = ['pom.xml', 'mvnw', '.mvn/wrapper/maven-wrapper.properties', 'src/main/java/App.java'];
    assertFix(R, lines('FROM eclipse-temurin:21', 'WORKDIR /w', 'COPY . .', 'RUN ./mvnw dependency:go-offline', 'RUN ./mvnw package'),
      lines('FROM eclipse-temurin:21', 'WORKDIR /w', 'COPY pom.xml mvnw ./', 'COPY .mvn ./.mvn/', 'RUN ./mvnw dependency:go-offline', 'COPY . .', 'RUN ./mvnw package'), { files });
    const [d] = diags(R, lines('FROM maven:3', 'WORKDIR /w', 'COPY . .', 'RUN mvn -B package'), { files });
    assert.ok(d !== undefined);
    assert.deepEqual(d.fixes, []);
  });

  test('gradle dependencies with the wrapper: build files, gradlew and gradle/ first', () => {
    const files = ['build.gradle', 'settings.gradle', 'gradlew', 'gradle/wrapper/gradle-wrapper.jar', 'src/main/java/A.java'];
    assertFix(R, lines('FROM eclipse-temurin:21', 'WORKDIR /w', 'COPY . .', 'RUN ./gradlew dependencies --no-daemon'),
      lines('FROM eclipse-temurin:21', 'WORKDIR /w', 'COPY build.gradle settings.gradle gradlew ./', 'COPY gradle ./gradle/', 'RUN ./gradlew dependencies --no-daemon', 'COPY . .'), { files });
  });

  test('dotnet restore: the project files that exist', () => {
    assertFix(R, lines('FROM mcr.microsoft.com/dotnet/sdk:8.0', 'WORKDIR /src', 'COPY . .', 'RUN dotnet restore', 'RUN dotnet publish --no-restore -o /out'),
      lines('FROM mcr.microsoft.com/dotnet/sdk:8.0', 'WORKDIR /src', 'COPY app.csproj NuGet.Config ./', 'RUN dotnet restore', 'COPY . .', 'RUN dotnet publish --no-restore -o /out'),
      { files: ['app.csproj', 'NuGet.Config', 'Program.cs'] });
  });

  test('bundler, composer, uv, pipenv, yarn, pnpm', () => {
    const cases: Array<[string, string[], string]> = [
      ['bundle install', ['Gemfile', 'Gemfile.lock', 'app.rb'], 'COPY Gemfile Gemfile.lock ./'],
      ['composer install --no-scripts --no-autoloader', ['composer.json', 'composer.lock', 'src/A.php'], 'COPY composer.json composer.lock ./'],
      ['uv sync --frozen --no-install-project', ['pyproject.toml', 'uv.lock', '.python-version', 'app.py'], 'COPY pyproject.toml uv.lock .python-version ./'],
      ['pipenv install --deploy --system', ['Pipfile', 'Pipfile.lock', 'app.py'], 'COPY Pipfile Pipfile.lock ./'],
      ['yarn install --frozen-lockfile', ['package.json', 'yarn.lock', 'index.js'], 'COPY package.json yarn.lock ./'],
      ['pnpm install --frozen-lockfile', ['package.json', 'pnpm-lock.yaml', 'index.js'], 'COPY package.json pnpm-lock.yaml ./'],
    ];
    for (const [cmd, files, copy] of cases) {
      assertFix(R, lines('FROM base', 'WORKDIR /app', 'COPY . .', `RUN ${cmd}`), lines('FROM base', 'WORKDIR /app', copy, `RUN ${cmd}`, 'COPY . .'), { files });
    }
  });

  test('composer install without --no-scripts --no-autoloader: no fix', () => {
    const [d] = diags(R, lines('FROM composer:2', 'WORKDIR /app', 'COPY . .', 'RUN composer install'), { files: ['composer.json', 'composer.lock'] });
    assert.ok(d !== undefined);
    assert.deepEqual(d.fixes, []);
  });

  test('npm install (may rewrite the lock file): fix offered, not preferred', () => {
    const { fix } = onlyFix(R, lines('FROM node:20', 'WORKDIR /app', 'COPY . .', 'RUN npm install'), { files: NODE_FILES });
    assert.equal(fix.isPreferred, false);
  });

  test('unsafe splits are not offered: node_modules in the context, a workspace, Yarn PnP, a gemspec', () => {
    const cases: Array<[string, string[], RegExp]> = [
      ['npm ci', [...NODE_FILES, 'node_modules/x/index.js'], /node_modules/],
      ['npm ci', [...NODE_FILES, 'packages/a/package.json'], /workspace member/],
      ['yarn install', ['package.json', 'yarn.lock', '.yarnrc.yml', '.yarn/releases/yarn-4.cjs', '.pnp.cjs'], /\.pnp\.cjs|\.yarn/],
      ['bundle install', ['Gemfile', 'Gemfile.lock', 'mygem.gemspec', 'lib/mygem.rb'], /gemspec/],
    ];
    for (const [cmd, files, why] of cases) {
      const [d] = diags(R, lines('FROM base', 'WORKDIR /app', 'COPY . .', `RUN ${cmd}`), { files });
      assert.ok(d !== undefined, cmd);
      assert.deepEqual(d.fixes, [], cmd);
      assert.match(d.message, why);
    }
  });

  test('instructions between: a system install passes, WORKDIR / COPY / an unknown RUN stop the fix', () => {
    const text = lines(
      'FROM node:20',
      'WORKDIR /app',
      'COPY . .',
      'ENV NODE_ENV=production',
      'RUN apt-get update && apt-get install -y --no-install-recommends git \\',
      '    && rm -rf /var/lib/apt/lists/*',
      'RUN npm ci',
      'CMD ["node", "server.js"]',
    );
    assertFix(R, text, lines(
      'FROM node:20',
      'WORKDIR /app',
      'COPY package.json package-lock.json ./',
      'ENV NODE_ENV=production',
      'RUN apt-get update && apt-get install -y --no-install-recommends git \\',
      '    && rm -rf /var/lib/apt/lists/*',
      'RUN npm ci',
      'COPY . .',
      'CMD ["node", "server.js"]',
    ), { files: NODE_FILES });
    for (const between of ['WORKDIR /app', 'COPY config.json /etc/app.json', 'RUN node scripts/prepare.js', 'USER node']) {
      const [d] = diags(R, lines('FROM node:20', 'WORKDIR /app', 'COPY . .', between, 'RUN npm ci'), { files: NODE_FILES });
      assert.ok(d !== undefined, between);
      assert.deepEqual(d.fixes, [], between);
    }
  });

  test('COPY into another folder than the working directory: diagnostic, no fix', () => {
    const [d] = diags(R, lines('FROM node:20', 'COPY . /app', 'RUN cd /app && npm ci'), { files: NODE_FILES });
    assert.ok(d !== undefined);
    assert.deepEqual(d.fixes, []);
    // With the folder made the working directory first, `cd` into it is harmless.
    assertFix(R, lines('FROM node:20', 'WORKDIR /app', 'COPY . /app', 'RUN cd /app && npm ci'),
      lines('FROM node:20', 'WORKDIR /app', 'COPY package.json package-lock.json /app/', 'RUN cd /app && npm ci', 'COPY . /app'), { files: NODE_FILES });
  });

  test('exec-form COPY stays exec form; lowercase keywords stay lowercase', () => {
    assertFix(R, lines('from node:20', 'workdir /app', 'copy [".", "."]', 'run npm ci'),
      lines('from node:20', 'workdir /app', 'copy ["package.json", "package-lock.json", "./"]', 'run npm ci', 'copy [".", "."]'), { files: NODE_FILES });
  });

  test('CRLF file stays CRLF; install RUN on the last line without a line break', () => {
    const text = 'FROM node:20\r\nWORKDIR /app\r\n  COPY . .\r\nRUN npm ci';
    const { fix } = onlyFix(R, text, { files: NODE_FILES });
    const out = applyFix(text, fix);
    assert.equal(out, 'FROM node:20\r\nWORKDIR /app\r\n  COPY package.json package-lock.json ./\r\nRUN npm ci\r\n  COPY . .');
    assert.deepEqual(diags(R, out, { files: NODE_FILES }), []);
  });

  test('ADD . . : the manifests are copied with COPY, the ADD moves', () => {
    assertFix(R, lines('FROM node:20', 'WORKDIR /app', 'ADD . .', 'RUN npm ci'), lines('FROM node:20', 'WORKDIR /app', 'COPY package.json package-lock.json ./', 'RUN npm ci', 'ADD . .'), { files: NODE_FILES });
  });

  test('two ecosystems: fixed one after the other', () => {
    const files = [...NODE_FILES, 'requirements.txt'];
    const text = lines('FROM base', 'WORKDIR /app', 'COPY . .', 'RUN npm ci', 'RUN pip install -r requirements.txt');
    const first = applyFix(text, onlyFix(R, text, { files }).fix);
    assert.equal(first, lines('FROM base', 'WORKDIR /app', 'COPY package.json package-lock.json ./', 'RUN npm ci', 'COPY . .', 'RUN pip install -r requirements.txt'));
    assertFix(R, first, lines('FROM base', 'WORKDIR /app', 'COPY package.json package-lock.json ./', 'RUN npm ci', 'COPY requirements.txt ./', 'RUN pip install -r requirements.txt', 'COPY . .'), { files });
  });
});

// ---------------------------------------------------------------------------------------------
describe('cache/copy-before-system-install', () => {
  const R = 'cache/copy-before-system-install';

  test('an install that reads a file the broad COPY brings (a package list, a local .deb): flagged at the COPY, the file copied on its own first', () => {
    const text = lines('FROM alpine:3.19', 'WORKDIR /app', 'COPY . .', 'RUN apk add --no-cache $(cat packages.txt)', 'RUN ./build.sh');
    const { diag } = onlyFix(R, text, { files: ['packages.txt', 'build.sh'] });
    assert.equal(diag.range.start.line, 2);
    assert.match(diag.message, /read only `packages\.txt` of it/);
    assertFix(R, text, lines('FROM alpine:3.19', 'WORKDIR /app', 'COPY packages.txt /app/packages.txt', 'RUN apk add --no-cache $(cat packages.txt)', 'COPY . .', 'RUN ./build.sh'), { files: ['packages.txt', 'build.sh'] });
    const xargs = lines('FROM debian:12', 'WORKDIR /app', 'COPY --chown=1000 . .', 'RUN apt-get update && xargs -a apt.txt apt-get install -y && rm -rf /var/lib/apt/lists/*', 'CMD ["make"]');
    assertFix(R, xargs, lines('FROM debian:12', 'WORKDIR /app', 'COPY --chown=1000 apt.txt /app/apt.txt', 'RUN apt-get update && xargs -a apt.txt apt-get install -y && rm -rf /var/lib/apt/lists/*', 'COPY --chown=1000 . .', 'CMD ["make"]'), { files: ['apt.txt'] });
    const deb = lines('FROM debian', 'WORKDIR /app', 'COPY . .', 'RUN apt-get install -y ./pkgs/tool.deb');
    assertFix(R, deb, lines('FROM debian', 'WORKDIR /app', 'COPY pkgs/tool.deb /app/pkgs/tool.deb', 'RUN apt-get install -y ./pkgs/tool.deb', 'COPY . .'), { files: ['pkgs/tool.deb'] });
    // A file the context does not have, or one the RUN removes: no fix (it would come back with the COPY).
    assert.deepEqual(diags(R, lines('FROM alpine', 'WORKDIR /app', 'COPY . .', 'RUN apk add $(cat packages.txt)'), { files: ['a'] }), []);
    const [gone] = diags(R, lines('FROM alpine', 'WORKDIR /app', 'COPY . .', 'RUN apk add $(cat packages.txt) && rm /app/packages.txt'), { files: ['packages.txt'] });
    assert.ok(gone !== undefined);
    assert.deepEqual(gone.fixes, []);
  });

  test('apt-get install after COPY .: moved above it with its comments, past a harmless ENV', () => {
    const text = lines(
      'FROM python:3.12-slim',
      'WORKDIR /app',
      '# the sources',
      'COPY . .',
      'ENV APP_MODE=prod',
      '',
      '# runtime libraries',
      'RUN apt-get update \\',
      '    && apt-get install -y --no-install-recommends libpq5 \\',
      '    && rm -rf /var/lib/apt/lists/*',
      'CMD ["python", "app.py"]',
    );
    const { diag } = onlyFix(R, text, { files: ['app.py'] });
    // At the COPY: the line that busts the cache.
    assert.equal(diag.range.start.line, 3);
    assert.match(diag.message, /`COPY \. \.` \(line 4\) comes before `RUN apt-get update/);
    assertFix(R, text, lines(
      'FROM python:3.12-slim',
      'WORKDIR /app',
      '# runtime libraries',
      'RUN apt-get update \\',
      '    && apt-get install -y --no-install-recommends libpq5 \\',
      '    && rm -rf /var/lib/apt/lists/*',
      '# the sources',
      'COPY . .',
      'ENV APP_MODE=prod',
      '',
      'CMD ["python", "app.py"]',
    ), { files: ['app.py'] });
  });

  test('apk add and dnf install too; silent when the install comes first or reads a local package', () => {
    assert.equal(diags(R, lines('FROM alpine', 'WORKDIR /app', 'COPY . .', 'RUN apk add --no-cache curl'), { files: ['a'] }).length, 1);
    assert.equal(diags(R, lines('FROM fedora', 'WORKDIR /app', 'COPY . .', 'RUN dnf install -y gcc && dnf clean all'), { files: ['a'] }).length, 1);
    assert.deepEqual(diags(R, lines('FROM alpine', 'WORKDIR /app', 'RUN apk add --no-cache curl', 'COPY . .'), { files: ['a'] }), []);
    assert.deepEqual(diags(R, lines('FROM debian', 'WORKDIR /app', 'COPY . .', 'RUN apt-get install -y $PKGS'), { files: ['pkg.deb'] }), []);
    assert.deepEqual(diags(R, lines('FROM debian', 'WORKDIR /app', 'COPY . .', 'RUN apt-get install -y curl && ./setup.sh'), { files: ['setup.sh'] }), []);
    assert.deepEqual(diags(R, lines('FROM debian', 'WORKDIR /app', 'COPY app.conf /etc/', 'RUN apt-get install -y curl'), { files: ['app.conf'] }), []);
  });

  test('no fix when something in between affects the install', () => {
    const cases = [
      'ENV DEBIAN_FRONTEND=noninteractive',
      'ARG http_proxy',
      'USER app',
      'RUN npm ci',
      'COPY sources.list /etc/apt/sources.list',
    ];
    {
      const [d] = diags(R, lines('FROM debian', 'WORKDIR /home/app', 'COPY . .', 'RUN apt-get install -y curl && useradd -m app'), { files: ['a'] });
      assert.ok(d !== undefined);
      assert.deepEqual(d.fixes, []);
      assert.match(d.message, /which the RUN changes/);
    }
    for (const between of cases) {
      const [d] = diags(R, lines('FROM debian', 'WORKDIR /app', 'COPY . .', between, 'RUN apt-get update && apt-get install -y curl'), { files: ['a', 'sources.list'] });
      assert.ok(d !== undefined, between);
      assert.deepEqual(d.fixes, [], between);
    }
  });

  test('the install on the last line without a line break; CRLF kept', () => {
    const text = 'FROM debian:12\r\nWORKDIR /app\r\nCOPY . .\r\nRUN apt-get install -y curl';
    const { fix } = onlyFix(R, text, { files: ['a'] });
    const out = applyFix(text, fix);
    assert.equal(out, 'FROM debian:12\r\nWORKDIR /app\r\nRUN apt-get install -y curl\r\nCOPY . .');
    assert.deepEqual(diags(R, out, { files: ['a'] }), []);
  });

  test('no WORKDIR: COPY . . may land in / — no fix', () => {
    const [d] = diags(R, lines('FROM debian', 'COPY . .', 'RUN apt-get update && apt-get install -y curl'), { files: ['a'] });
    assert.ok(d !== undefined);
    assert.deepEqual(d.fixes, []);
  });
});

// ---------------------------------------------------------------------------------------------
describe('cache/arg-declared-early', () => {
  const R = 'cache/arg-declared-early';

  test('each early ARG is flagged, BUILD_DATE too (only BuildKit\'s BUILDPLATFORM-style names are implicit)', () => {
    const text = lines('FROM golang:1.22', 'ARG VERSION', 'ARG BUILD_DATE', 'WORKDIR /src', 'COPY go.mod ./', 'RUN go mod download', 'COPY . .', 'RUN go build -ldflags "-X main.v=$VERSION -X main.d=$BUILD_DATE" -o /app .');
    assert.deepEqual(diags(R, text, { files: ['go.mod', 'main.go'] }).map((d) => d.range.start.line), [1, 2]);
    assert.deepEqual(diags(R, lines('FROM golang:1.22', 'ARG TARGETARCH', 'RUN go mod download', 'RUN GOARCH=$TARGETARCH go build .')), []);
  });

  test('ARG far above its first use: moved just before it, with its comment', () => {
    const text = lines(
      'FROM alpine:3.20',
      '# version to download',
      'ARG VERSION=1.2.3',
      'RUN apk add --no-cache curl',
      'RUN adduser -D app',
      '',
      '# fetch the release',
      'RUN curl -fsSLo /tmp/app.tgz "https://example.com/app-${VERSION}.tgz"',
    );
    const { diag } = onlyFix(R, text);
    assert.equal(diag.severity, 'info');
    assert.equal(diag.range.start.line, 2);
    assert.match(diag.message, /`VERSION` is in the environment of 2 RUN steps \(lines 4, 5\)/);
    assertFix(R, text, lines(
      'FROM alpine:3.20',
      'RUN apk add --no-cache curl',
      'RUN adduser -D app',
      '',
      '# version to download',
      'ARG VERSION=1.2.3',
      '# fetch the release',
      'RUN curl -fsSLo /tmp/app.tgz "https://example.com/app-${VERSION}.tgz"',
    ));
  });

  test('first use in ENV, WORKDIR or COPY counts; $NAME without braces too', () => {
    assertFix(R, lines('FROM alpine', 'ARG DIR', 'RUN echo hi', 'WORKDIR $DIR'), lines('FROM alpine', 'RUN echo hi', 'ARG DIR', 'WORKDIR $DIR'));
    assertFix(R, lines('FROM alpine', 'ARG V', 'RUN echo hi', 'ENV APP_V=${V:-0}'), lines('FROM alpine', 'RUN echo hi', 'ARG V', 'ENV APP_V=${V:-0}'));
  });

  test('silent: used right away, no RUN between, never used, or a name tools read implicitly', () => {
    assert.deepEqual(diags(R, lines('FROM alpine', 'ARG V', 'RUN echo $V', 'RUN echo hi')), []);
    assert.deepEqual(diags(R, lines('FROM alpine', 'ARG V', 'COPY a /a', 'RUN echo $V')), []);
    assert.deepEqual(diags(R, lines('FROM alpine', 'ARG V', 'RUN echo hi')), []);
    assert.deepEqual(diags(R, lines('FROM node', 'ARG NODE_ENV', 'RUN npm ci', 'ENV NODE_ENV=$NODE_ENV')), []);
    assert.deepEqual(diags(R, lines('FROM alpine', 'ARG VERSIONS', 'RUN echo hi', 'RUN echo $VERSION')), []);
  });

  test('no fix when an ENV in between sets the same name', () => {
    const [d] = diags(R, lines('FROM alpine', 'ARG V', 'RUN echo hi', 'ENV V=2', 'RUN echo $V'));
    assert.ok(d !== undefined);
    assert.deepEqual(d.fixes, []);
  });

  test('CRLF: the moved lines keep their line breaks', () => {
    const text = 'FROM alpine\r\n# v\r\nARG V\r\nRUN echo hi\r\nRUN echo $V\r\n';
    assertFix(R, text, 'FROM alpine\r\nRUN echo hi\r\n# v\r\nARG V\r\nRUN echo $V\r\n');
  });

  test('in a later stage, only that stage counts', () => {
    const text = lines('FROM alpine AS a', 'ARG V', 'RUN echo $V', 'FROM alpine', 'ARG V', 'RUN echo one', 'RUN echo $V');
    assertFix(R, text, lines('FROM alpine AS a', 'ARG V', 'RUN echo $V', 'FROM alpine', 'RUN echo one', 'ARG V', 'RUN echo $V'));
  });
});

// ---------------------------------------------------------------------------------------------
describe('cache/add-url-without-checksum', () => {
  const R = 'cache/add-url-without-checksum';

  test('ADD https without --checksum: warning on the ADD, says how to pin, no fix', () => {
    const [d] = diags(R, lines('FROM alpine', 'ADD https://example.com/tool.tgz /opt/'));
    assert.ok(d !== undefined);
    assert.equal(d.severity, 'warning');
    assert.deepEqual(d.fixes, []);
    assert.match(d.message, /ADD --checksum=sha256:<digest> https:\/\/example\.com\/tool\.tgz/);
    assert.deepEqual(d.range, { start: { line: 1, character: 0 }, end: { line: 1, character: 38 } });
  });

  test('silent with --checksum, for COPY, and for local files', () => {
    assert.deepEqual(diags(R, lines('FROM alpine', 'ADD --checksum=sha256:0123 https://example.com/tool.tgz /opt/')), []);
    assert.deepEqual(diags(R, lines('FROM alpine', 'ADD tool.tgz /opt/', 'COPY https.txt /x')), []);
  });

  test('git sources: a branch or nothing is reported, a full commit is not', () => {
    assert.match(diags(R, lines('FROM alpine', 'ADD https://github.com/moby/buildkit.git#v0.13 /src'))[0]?.message ?? '', /follows `v0\.13`/);
    assert.match(diags(R, lines('FROM alpine', 'ADD git@github.com:moby/buildkit.git /src'))[0]?.message ?? '', /default branch/);
    assert.deepEqual(diags(R, lines('FROM alpine', 'ADD https://github.com/moby/buildkit.git#73ed6825d1f0a3a5c2a3c3f6e4b2a1c0d9e8f7a6 /src')), []);
  });
});

// ---------------------------------------------------------------------------------------------
describe('cache/add-instead-of-copy', () => {
  const R = 'cache/add-instead-of-copy';

  test('ADD of a folder or a plain file: fix says COPY in the same case', () => {
    assertFix(R, lines('FROM alpine', 'ADD config/ /etc/app/'), lines('FROM alpine', 'COPY config/ /etc/app/'), { files: ['config/app.yml'] });
    assertFix(R, lines('FROM alpine', 'add --chown=1000 app.py /srv/'), lines('FROM alpine', 'copy --chown=1000 app.py /srv/'));
    assertFix(R, lines('FROM alpine', 'Add . /srv'), lines('FROM alpine', 'Copy . /srv'));
  });

  test('silent for archives, URLs, wildcards, extension-less files and ADD-only flags', () => {
    for (const add of ['ADD rootfs.tar.gz /', 'ADD app.tgz /opt', 'ADD https://example.com/a.txt /a', 'ADD *.txt /x/', 'ADD rootfs /', 'ADD --checksum=sha256:00 a.txt /a', 'ADD --unpack=false a.json /a']) {
      assert.deepEqual(diags(R, lines('FROM alpine', add)), [], add);
    }
  });
});

// ---------------------------------------------------------------------------------------------
describe('cache/context-not-ignored', () => {
  const R = 'cache/context-not-ignored';
  const npmDockerfile = lines('FROM node:20', 'WORKDIR /app', 'COPY package.json package-lock.json ./', 'RUN npm ci', 'COPY . .', 'RUN npm run build');

  test('.git, node_modules and dist in the context, no .dockerignore: fix creates it with the entries that exist', () => {
    const files = [...NODE_FILES, '.git/HEAD', 'node_modules/x/index.js', 'dist/main.js'];
    const { diag, fix } = onlyFix(R, npmDockerfile, { files });
    assert.equal(diag.range.start.line, 4);
    assert.match(diag.message, /`\.git` \(every commit/);
    assert.match(diag.message, /there is no \.dockerignore/);
    assert.deepEqual(fix.edits, [{ file: path.join('/ctx', '.dockerignore'), newText: '.git\nnode_modules\ndist\n' }]);
    // It changes the image's files: labelled so, never preferred, applied by lint --fix only when asked.
    assert.equal(fix.title, 'Create .dockerignore with .git, node_modules, dist (changes the image: .git, node_modules, dist no longer copied into the image)');
    assert.notEqual(fix.isPreferred, true);
    assert.match(fix.onRequest ?? '', /changes the image/);
    // The Dockerfile itself is not edited.
    assert.equal(applyFix(npmDockerfile, fix), npmDockerfile);
    // With the file created, the context no longer holds them: silent.
    assert.deepEqual(diags(R, npmDockerfile, { files: NODE_FILES, dockerignore: ['.git', 'node_modules', 'dist'] }), []);
  });

  test('existing .dockerignore: the fix appends to it', () => {
    const { fix } = onlyFix(R, npmDockerfile, { files: [...NODE_FILES, 'node_modules/x/index.js'], dockerignore: ['*.log'] });
    assert.deepEqual(fix.edits, [{ file: '/ctx/.dockerignore', newText: 'node_modules\n' }]);
    assert.equal(fix.title, 'Add node_modules to .dockerignore (changes the image: node_modules no longer copied into the image)');
  });

  test('only entries the image provably does not need are offered', () => {
    // A RUN uses git: .git stays; nothing installs node_modules: it stays too.
    const text = lines('FROM node:20', 'WORKDIR /app', 'COPY . .', 'RUN git rev-parse HEAD > /version', 'CMD ["node", "server.js"]');
    const [d] = diags(R, text, { files: [...NODE_FILES, '.git/HEAD', 'node_modules/x/index.js'] });
    assert.ok(d !== undefined);
    assert.deepEqual(d.fixes, []);
    assert.match(d.message, /`\.git`, `node_modules` are not offered for ignoring/);
  });

  test('no .dockerignore and nothing to add: diagnostic without fix; silent once a .dockerignore exists, or when the context is unread', () => {
    const text = lines('FROM python:3.12', 'WORKDIR /app', 'COPY . .');
    const [d] = diags(R, text, { files: ['app.py'] });
    assert.ok(d !== undefined);
    assert.deepEqual(d.fixes, []);
    assert.match(d.message, /There is no \.dockerignore/);
    assert.deepEqual(diags(R, text, { files: ['app.py'], dockerignore: ['*.pyc'] }), []);
    assert.deepEqual(diags(R, text), []);
  });

  test('only a COPY of the whole context counts', () => {
    assert.deepEqual(diags(R, lines('FROM node:20', 'WORKDIR /app', 'COPY src/ ./src/'), { files: [...NODE_FILES, '.git/HEAD'] }), []);
  });

  test('__pycache__ anywhere and .venv with a Python install', () => {
    const { fix } = onlyFix(R, lines('FROM python:3.12', 'WORKDIR /app', 'COPY . .', 'RUN pip install -r requirements.txt'), { files: ['requirements.txt', 'pkg/__pycache__/a.pyc', '.venv/bin/python'] });
    assert.deepEqual(fix.edits.map((e) => e.newText), ['**/__pycache__\n.venv\n']);
  });
});

// ---------------------------------------------------------------------------------------------
describe('cache/volatile-step-early', () => {
  const R = 'cache/volatile-step-early';
  const text = lines('FROM debian:12', 'WORKDIR /app', 'COPY config/ /etc/app/', 'RUN apt-get update && apt-get install -y imagemagick', 'RUN echo done', 'COPY . .');
  const rec = (time: string, line: number, instruction: string, textOf: string, result: 'built' | 'cached', files?: Record<string, string>): StepRecord & { time: string } => ({
    key: `${time}-${line}`, parentKey: undefined, vertex: `[${line}] ${textOf}`, stage: 'stage-0', line, instruction,
    inputs: { text: textOf, ...(files === undefined ? {} : { files }) }, result, durationMs: 1000, time,
  });
  /** Newest first: build n changed the config to version `v[n]`. */
  const history = (versions: string[]): Array<StepRecord & { time: string }> => versions.flatMap((v, i) => {
    const time = `2026-01-0${9 - i}T00:00:00Z`;
    return [
      rec(time, 3, 'COPY', 'COPY config/ /etc/app/', 'built', { 'config/app.yml': v }),
      rec(time, 4, 'RUN', 'RUN apt-get update && apt-get install -y imagemagick', 'built'),
      rec(time, 5, 'RUN', 'RUN echo done', 'built'),
    ];
  });

  test('a COPY that changed in 4 of the last 5 builds before an independent RUN', () => {
    const [d] = diags(R, text, { history: history(['e', 'd', 'c', 'c', 'b', 'a']) });
    assert.ok(d !== undefined);
    assert.equal(d.severity, 'info');
    assert.equal(d.range.start.line, 2);
    assert.deepEqual(d.fixes, []);
    assert.match(d.message, /changed in 4 of the last 5 builds and reruns the 3 steps after it, among them `RUN apt-get update && apt-get install -y imagemagick` \(line 4\)/);
  });

  test('silent: changed in only 2 builds, no history, or only RUNs that read the sources after it', () => {
    assert.deepEqual(diags(R, text, { history: history(['b', 'b', 'b', 'a', 'a']) }), []);
    assert.deepEqual(diags(R, text), []);
    const build = lines('FROM debian:12', 'WORKDIR /app', 'COPY config/ /etc/app/', 'RUN make', 'COPY . .');
    const h = history(['e', 'd', 'c', 'b', 'a']).map((r) => (r.line === 4 ? { ...r, inputs: { text: 'RUN make' } } : r));
    assert.deepEqual(diags(R, build, { history: h }), []);
  });

  test('records without a time are grouped into builds by repeated progress names', () => {
    const h = history(['e', 'd', 'c', 'b', 'a']).map(({ time: _t, ...r }) => r);
    assert.equal(diags(R, text, { history: h }).length, 1);
  });
});

// ---------------------------------------------------------------------------------------------
describe('cache/apt-update-separate', () => {
  const R = 'cache/apt-update-separate';

  test('each lonely update is flagged, the second one too, and an update followed only by an upgrade', () => {
    const text = lines('FROM debian:12', 'RUN apt-get update', 'RUN apt-get install -y curl', 'RUN apt-get update', 'RUN apt-get install -y git');
    assert.deepEqual(diags(R, text).map((d) => d.range.start.line), [1, 3]);
    const upgrade = lines('FROM debian:12', 'RUN apt-get update && apt-get upgrade -y', 'RUN apt-get install -y curl');
    assert.deepEqual(diags(R, upgrade).map((d) => d.range.start.line), [1]);
  });

  test('update on its own: merged into the install RUN, its continuation lines untouched', () => {
    const text = lines(
      'FROM debian:12',
      '# packages',
      'RUN apt-get update',
      'RUN apt-get install -y --no-install-recommends \\',
      '      curl \\',
      '      git',
    );
    const { diag } = onlyFix(R, text);
    assert.equal(diag.range.start.line, 2);
    assert.match(diag.message, /when `RUN apt-get install -y --no-install-recommends curl git` \(line 4\) changes/);
    assertFix(R, text, lines(
      'FROM debian:12',
      '# packages',
      'RUN apt-get update && apt-get install -y --no-install-recommends \\',
      '      curl \\',
      '      git',
    ));
  });

  test('flags of the install stay in front; harmless steps in between are passed', () => {
    assertFix(R, lines('FROM debian:12', 'RUN apt-get -qq update', 'WORKDIR /app', 'RUN --mount=type=cache,target=/var/cache/apt apt-get install -y curl'),
      lines('FROM debian:12', 'WORKDIR /app', 'RUN --mount=type=cache,target=/var/cache/apt apt-get -qq update && apt-get install -y curl'));
  });

  test('CRLF and lowercase keywords', () => {
    assertFix(R, 'from debian\r\nrun apt update\r\nrun apt install -y curl\r\n', 'from debian\r\nrun apt update && apt install -y curl\r\n');
  });

  test('silent when the install updates itself, or there is no install', () => {
    assert.deepEqual(diags(R, lines('FROM debian', 'RUN apt-get update', 'RUN apt-get update && apt-get install -y curl')), []);
    assert.deepEqual(diags(R, lines('FROM debian', 'RUN apt-get update && apt-get install -y curl')), []);
    assert.deepEqual(diags(R, lines('FROM debian', 'RUN apt-get update')), []);
  });

  test('no fix when a step in between touches apt', () => {
    for (const between of ['RUN curl -fsSL https://x/key.gpg | gpg --dearmor -o /etc/apt/keyrings/x.gpg', 'COPY x.list /etc/apt/sources.list.d/', 'ENV http_proxy=http://proxy:3128']) {
      const [d] = diags(R, lines('FROM debian', 'RUN apt-get update', between, 'RUN apt-get install -y x'), { files: ['x.list'] });
      assert.ok(d !== undefined, between);
      assert.deepEqual(d.fixes, [], between);
    }
  });
});

// ---------------------------------------------------------------------------------------------
describe('cache/package-cache-mount', () => {
  const R = 'cache/package-cache-mount';

  test('npm ci: a cache mount on /root/.npm, right after RUN', () => {
    const { diag } = onlyFix(R, lines('FROM node:20', 'RUN npm ci'));
    assert.equal(diag.severity, 'hint');
    assertFix(R, lines('FROM node:20', 'RUN npm ci'), lines('FROM node:20', 'RUN --mount=type=cache,target=/root/.npm npm ci'));
    assertFix(R, lines('FROM node:20', 'RUN --network=host npm ci'), lines('FROM node:20', 'RUN --mount=type=cache,target=/root/.npm --network=host npm ci'));
  });

  test('exec form: the mount goes before the JSON array', () => {
    assertFix(R, lines('FROM node:20', 'RUN ["npm", "ci"]'), lines('FROM node:20', 'RUN --mount=type=cache,target=/root/.npm ["npm", "ci"]'));
  });

  test('pip honours PIP_CACHE_DIR; --no-cache-dir and PIP_NO_CACHE_DIR keep it quiet', () => {
    assertFix(R, lines('FROM python:3.12', 'ENV PIP_CACHE_DIR=/cache/pip', 'RUN pip install -r requirements.txt'),
      lines('FROM python:3.12', 'ENV PIP_CACHE_DIR=/cache/pip', 'RUN --mount=type=cache,target=/cache/pip pip install -r requirements.txt'));
    assert.deepEqual(diags(R, lines('FROM python:3.12', 'RUN pip install --no-cache-dir -r requirements.txt')), []);
    assert.deepEqual(diags(R, lines('FROM python:3.12', 'ENV PIP_NO_CACHE_DIR=1', 'RUN pip install -r requirements.txt')), []);
  });

  test('apt: both folders, locked, when the RUN updates; only /var/cache/apt otherwise; heredocs too', () => {
    assertFix(R, lines('FROM debian', 'RUN <<EOF', 'apt-get update', 'apt-get install -y git', 'EOF'),
      lines('FROM debian', 'RUN --mount=type=cache,target=/var/cache/apt,sharing=locked --mount=type=cache,target=/var/lib/apt,sharing=locked <<EOF', 'apt-get update', 'apt-get install -y git', 'EOF'));
    assertFix(R, lines('FROM debian', 'RUN apt-get update', 'RUN apt-get install -y git'),
      lines('FROM debian', 'RUN apt-get update', 'RUN --mount=type=cache,target=/var/cache/apt,sharing=locked apt-get install -y git'));
  });

  test('apt lists used by a later apt step are not mounted away', () => {
    const { fix } = onlyFixAt(R, lines('FROM debian', 'RUN apt-get update && apt-get install -y curl', 'RUN apt-get install -y git'), 1);
    assert.deepEqual(fix.edits.map((e) => e.newText), ['--mount=type=cache,target=/var/cache/apt,sharing=locked ']);
  });

  test('a step with a cache mount already, or a non-root user: no hint (nothing to offer)', () => {
    assert.deepEqual(diags(R, lines('FROM node', 'RUN --mount=type=cache,target=/root/.npm npm ci')), []);
    assert.deepEqual(diags(R, lines('FROM node', 'USER node', 'RUN npm ci')), []);
  });

  test('the mount is a suggestion: never preferred, applied by lint --fix only when asked by rule id', () => {
    const { fix } = onlyFix(R, lines('FROM node:20', 'RUN npm ci'));
    assert.notEqual(fix.isPreferred, true);
    assert.match(fix.onRequest ?? '', /suggestion/);
    const [d] = runRules(ctxOf(lines('FROM node:20', 'RUN npm ci')));
    assert.ok(d !== undefined);
    assert.equal(fixToApply(d, undefined), undefined);
    assert.deepEqual(fixToApply(d, new Set([R])), fix);
    assert.equal(fixToApply(d, new Set(['cache/other'])), undefined);
  });

  test('product folders: Go modules only when nothing later uses Go; the build cache always', () => {
    const text = lines('FROM golang:1.22 AS build', 'WORKDIR /src', 'COPY go.mod go.sum ./', 'RUN go mod download', 'COPY . .', 'RUN go build -o /app .', 'FROM scratch', 'COPY --from=build /app /app');
    const ds = diags(R, text);
    // `go mod download` keeps its modules in the image for the build: nothing to offer there.
    assert.equal(ds.length, 1);
    assert.equal(ds[0]?.range.start.line, 5);
    // The modules `go mod download` left in /go/pkg/mod would be hidden by a mount on the build step.
    assert.deepEqual(ds[0]?.fixes[0]?.edits.map((e) => e.newText), ['--mount=type=cache,target=/root/.cache/go-build ']);
    assert.match(ds[0]?.message ?? '', /\/go\/pkg\/mod \(an earlier step with the same tool left files there/);
  });

  test('maven: no mount on a step after one that filled ~/.m2 (it would hide the downloads)', () => {
    const text = lines('FROM maven:3 AS build', 'WORKDIR /w', 'COPY pom.xml .', 'RUN mvn dependency:go-offline', 'COPY . .', 'RUN mvn install', 'FROM eclipse-temurin:21', 'COPY --from=build /w/target/app.jar /app.jar');
    const ds = diags(R, text);
    for (const d of ds) assert.deepEqual(d.fixes, [], d.message);
  });

  test('maven: ~/.m2 mounted when the stage is only copied from', () => {
    const text = lines('FROM maven:3 AS build', 'WORKDIR /w', 'COPY . .', 'RUN mvn -B package', 'FROM eclipse-temurin:21', 'COPY --from=build /w/target/app.jar /app.jar');
    const fix = onlyFixAt(R, text, 3).fix;
    assert.equal(applyFix(text, fix), lines('FROM maven:3 AS build', 'WORKDIR /w', 'COPY . .', 'RUN --mount=type=cache,target=/root/.m2 mvn -B package', 'FROM eclipse-temurin:21', 'COPY --from=build /w/target/app.jar /app.jar'));
    const dev = lines('FROM maven:3 AS build', 'WORKDIR /w', 'COPY . .', 'RUN mvn -B package', 'CMD ["mvn", "spring-boot:run"]');
    assert.deepEqual(diags(R, dev), []);
  });

  test('commands that install nothing: silent', () => {
    assert.deepEqual(diags(R, lines('FROM node', 'RUN npm run build', 'RUN echo hi', 'RUN apk add --no-cache curl')), []);
  });
});

function onlyFixAt(rule: string, text: string, line: number): { diag: RuleDiagnostic; fix: RuleFix } {
  const d = diags(rule, text).find((x) => x.range.start.line === line);
  assert.ok(d !== undefined, `no ${rule} at line ${line + 1}`);
  const fix = d.fixes[0];
  assert.ok(fix !== undefined, d.message);
  return { diag: d, fix };
}

// ---------------------------------------------------------------------------------------------
describe('API', () => {
  test('RULES: unique ids, default severities, one file and one doc page each (with the required sections)', () => {
    const ids = RULES.map((r) => r.id);
    assert.equal(new Set(ids).size, ids.length);
    assert.ok(ids.length >= 9);
    for (const r of RULES) {
      assert.match(r.id, /^cache\/[a-z-]+$/);
      const name = r.id.replace(/^cache\//, '');
      const camel = name.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
      assert.ok(fs.existsSync(path.join(__dirname, '..', '..', 'server', 'src', 'rules', `${camel}.ts`)), camel);
      const doc = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'rules', `${name}.md`), 'utf8');
      assert.ok(doc.startsWith(`# ${r.id}\n`), name);
      assert.ok(doc.includes('## What it detects'), name);
      assert.ok(doc.includes(`"dockerfileCacheLens.rules": { "${r.id}": "off" }`), name);
      assert.ok(doc.includes('```dockerfile') || doc.includes('Before'), name);
    }
  });

  test('runRules: "off" drops a rule, a setting overrides its severity, diagnostics come sorted', () => {
    const text = lines('FROM node:20', 'ADD https://example.com/x /x', 'RUN npm ci');
    const all = runRules(ctxOf(text));
    assert.deepEqual(all.map((d) => [d.rule, d.severity]), [['cache/add-url-without-checksum', 'warning'], ['cache/package-cache-mount', 'hint']]);
    assert.deepEqual(runRules(ctxOf(text), { 'cache/add-url-without-checksum': 'off', 'cache/package-cache-mount': 'error' }).map((d) => [d.rule, d.severity]), [['cache/package-cache-mount', 'error']]);
  });

  test('applyFix: edits of other files are ignored; inserts at one place keep their order; overlaps are refused', () => {
    const text = 'a\nb\n';
    assert.equal(applyFix(text, { title: 't', edits: [{ file: '/x/.dockerignore', newText: 'x' }] }), text);
    const at = { line: 1, character: 0 };
    assert.equal(applyFix(text, { title: 't', edits: [{ range: { start: at, end: at }, newText: '1\n' }, { range: { start: at, end: at }, newText: '2\n' }] }), 'a\n1\n2\nb\n');
    assert.throws(() => applyFix(text, { title: 't', edits: [
      { range: { start: { line: 0, character: 0 }, end: { line: 1, character: 1 } }, newText: '' },
      { range: { start: { line: 1, character: 0 }, end: { line: 1, character: 1 } }, newText: '' },
    ] }), /overlapping/);
    assert.equal(applyFix('a\r\nb\r\n', { title: 't', edits: [{ range: { start: at, end: at }, newText: 'x\n' }] }), 'a\r\nx\r\nb\r\n');
  });

  test('random Dockerfile-like text: no rule throws, every fix applies and its result parses', () => {
    const word = fc.constantFrom('FROM node AS b', 'WORKDIR /app', 'COPY . .', 'COPY package.json ./', 'RUN npm ci', 'RUN apt-get update', 'RUN apt-get install -y curl',
      'ARG V=1', 'RUN echo $V', 'ENV A=1', 'ADD x.txt /x', 'ADD https://e.com/f /f', '# note', '', 'RUN pip install -r requirements.txt', 'COPY --from=b /a /a',
      'RUN <<EOF\napt-get install -y git\nEOF', 'RUN go build \\\n  -o x .', 'USER app', 'FROM scratch', '  COPY app/ /app/', 'RUN npm ci && npm run build', 'run "unterminated');
    const files = ['package.json', 'package-lock.json', 'requirements.txt', 'app/package.json', 'x.txt', '.git/HEAD', 'node_modules/a'];
    fc.assert(fc.property(fc.array(word, { maxLength: 14 }), fc.boolean(), fc.boolean(), (parts, crlf, trailing) => {
      const eol = crlf ? '\r\n' : '\n';
      const text = parts.join(eol).replace(/\n/g, eol).replace(/\r\r/g, '\r') + (trailing ? eol : '');
      const ctx = ctxOf(text, { files });
      for (const rule of RULES) {
        for (const d of rule.check(ctx)) {
          for (const fix of d.fixes) {
            const out = applyFix(text, fix);
            parse(out);
            if (crlf) assert.ok(!/[^\r]\n/.test(out), `${rule.id}: a lone \\n in a CRLF file`);
          }
        }
      }
    }), { numRuns: 300 });
  });
});
