/**
 * The differential suite's scenarios: a build context, a Dockerfile and 1-3 edits each. The harness
 * (`test/helpers/differential.ts`) builds the scenario once, then for every edit asks the CLI for
 * its predictions, builds with a real BuildKit and compares vertex by vertex.
 *
 * Rules for scenarios:
 *  - no `# syntax=` lines (no registry), no network at build time;
 *  - tiny files; every build must succeed on the private engine (`scripts/engine.sh`), whose base
 *    images carry stand-in `npm`, `pip`, `go`, `cargo`, `mvn`, `apt-get`... (scripts/base-images/standin.sh);
 *  - an edit that moves a base-image tag must be undone in `cleanup` (other scenarios use the tag).
 * Trees modelled on /work/shared/corpus/awesome-compose/ have placeholder sources.
 */

import type { Prediction } from '../helpers/differential';

export const EDIT_KINDS = {
  'initial': 'first build of the scenario (cache shared with earlier scenarios)',
  'source-changed': 'source file changed',
  'manifest-changed': 'dependency manifest changed (package.json, requirements.txt, go.mod, ...)',
  'ignored-file-changed': '.dockerignore\'d file changed',
  'dockerignore-changed': '.dockerignore changed to include/exclude a file',
  'mode-changed': 'file mode changed (chmod +x)',
  'mtime-touched': 'mtime only touched',
  'file-added': 'file added',
  'file-removed': 'file removed',
  'file-renamed': 'file renamed',
  'symlink-changed': 'symlink retargeted',
  'empty-dir-added': 'empty directory added',
  'arg-value-changed': 'ARG value changed (--build-arg)',
  'arg-default-changed': 'ARG default changed in the Dockerfile',
  'undeclared-build-arg': 'build arg given that is never declared',
  'global-arg-in-from': 'global ARG used only in FROM',
  'env-changed': 'ENV changed',
  'label-changed': 'LABEL changed',
  'expose-cmd-changed': 'EXPOSE/CMD/ENTRYPOINT/HEALTHCHECK changed',
  'comment-changed': 'comment changed',
  'instruction-reordered': 'instructions reordered',
  'run-changed': 'RUN command changed',
  'workdir-changed': 'WORKDIR changed',
  'user-changed': 'USER changed',
  'shell-changed': 'SHELL changed',
  'stage-added': 'stage added',
  'stage-removed': 'stage removed',
  'target-changed': 'target changed',
  'unreached-stage-changed': 'a stage unreached by the target changed',
  'platform-changed': '--platform given explicitly',
  'revert': 'revert to an earlier state',
  'copy-from-identical-output': 'COPY --from / mount from a stage rerun with identical output',
  'copy-from-different-output': 'COPY --from a stage with different output',
  'heredoc-run-changed': 'heredoc RUN changed',
  'copy-heredoc-changed': 'COPY heredoc changed',
  'bind-mount-source-changed': 'RUN --mount=type=bind source changed',
  'cache-mount': 'RUN --mount=type=cache (contents never count)',
  'network-mode': 'RUN --network=host / none vs default',
  'copy-chown-changed': 'COPY --chown changed',
  'copy-link-after-miss': 'COPY --link after an earlier miss',
  'base-image-moved': 'base image tag moved',
  'add-url': 'ADD of a URL',
  'duplicate-steps': 'two stages with identical steps (dedup)',
  'parallel-stages': 'multi-stage parallel stages',
  'wildcard-copy': 'wildcard COPY with a new matching file',
  'cache-mount-options': 'RUN --mount=type=cache id=/sharing= set, changed, removed or set to the default',
  'copy-chmod-spelling': 'COPY/ADD --chmod spelled another way (same or other mode)',
  'copy-chown-spelling': 'COPY/ADD --chown spelled another way (root/0, names/ids)',
  'copy-exclude': 'COPY --exclude',
  'source-date-epoch': 'SOURCE_DATE_EPOCH build arg set, changed or removed',
  'no-cache-filter': '--no-cache-filter STAGE',
  'secret-mount': 'RUN --mount=type=secret (content, id, target)',
} as const;

export type EditKind = keyof typeof EDIT_KINDS;

/** The scenario's working copy, handed to each edit. Paths are relative to the context dir. */
export interface Workspace {
  /** Absolute path of the build context (a temp dir outside the repository). */
  readonly dir: string;
  /** The Dockerfile, relative to `dir`. */
  dockerfilePath: string;
  /** The Dockerfile's text (reading and assigning go to the file). */
  dockerfile: string;
  buildArgs: Record<string, string>;
  target: string | undefined;
  platform: string | undefined;
  write(rel: string, content: string): void;
  read(rel: string): string;
  /** Replaces the one occurrence of `from` (throws when it is missing or not unique). */
  replace(rel: string, from: string, to: string): void;
  /** `replace` on the Dockerfile. */
  editDockerfile(from: string, to: string): void;
  remove(rel: string): void;
  rename(from: string, to: string): void;
  chmod(rel: string, mode: number): void;
  /** Sets the mtime (and atime) to now + `seconds`, nothing else. */
  touch(rel: string, seconds?: number): void;
  mkdir(rel: string): void;
  /** Creates (or replaces) the symlink `rel` -> `target`. */
  symlink(target: string, rel: string): void;
  /** `scripts/engine.sh retag NAME [VARIANT|base]`. */
  retag(image: string, variant?: string): void;
}

export interface Edit {
  description: string;
  kinds: EditKind[];
  apply(ws: Workspace): void;
  /** Only `predict` after this edit (the build cannot succeed here), checked against `expect`; later edits still build. */
  predictOnly?: boolean;
  /** Predictions that must hold after this edit (vertex substring -> prediction). */
  expect?: Array<{ vertex: string; prediction: Prediction }>;
}

export interface ContextSpec {
  files: Record<string, string>;
  /** File modes (default 0o644). */
  modes?: Record<string, number>;
  /** Empty directories. */
  dirs?: string[];
  /** path -> link target. */
  symlinks?: Record<string, string>;
}

export interface Scenario {
  name: string;
  /** The edit kinds it covers (the union of its edits' kinds). */
  kinds: EditKind[];
  /** Where the tree comes from, when it is modelled on a real project. */
  modelledOn?: string;
  context: ContextSpec;
  dockerfile: string;
  /** Relative to the context (default `Dockerfile`). */
  dockerfilePath?: string;
  buildArgs?: Record<string, string>;
  target?: string;
  platform?: string;
  /** Extra `docker buildx build` arguments (after the CLI's `--`); a function gets the context dir. */
  dockerArgs?: string[] | ((dir: string) => string[]);
  /** Extra `predict` and `build` options of the CLI (before `--`), e.g. `--no-cache-filter`. */
  cliArgs?: string[];
  /** Only on these engine.sh profiles (a frontend feature the others lack); default: every engine. */
  engines?: string[];
  edits: Edit[];
  /** Always runs after the scenario (undo engine-wide changes such as a moved tag). */
  cleanup?(ws: Workspace): void;
}

/** Scenarios we wanted but the engine cannot run. */
export const DROPPED: Array<{ name: string; reason: string }> = [
  {
    name: 'COPY --parents',
    reason: 'no built-in frontend here accepts it: Docker 26.1 says "unknown flag: parents", Docker 28.5 "unknown flag: --parents"; '
      + 'it needs a newer frontend via `# syntax=`, which cannot be pulled here (no registry).',
  },
  {
    name: 'COPY --exclude on Docker 26.1',
    reason: 'its built-in frontend rejects it ("dockerfile parse error: unknown flag: exclude"); the COPY --exclude scenarios run on Docker 28.5 (both stores).',
  },
];

/** Engines whose built-in Dockerfile frontend accepts COPY --exclude (Docker 28.5 vendors a frontend where it is stable). */
const EXCLUDE_ENGINES = ['28', '28-containerd'];

/** Strips the common indentation and the first newline, so Dockerfiles can be written indented. */
function d(text: string): string {
  const lines = text.replace(/^\n/, '').replace(/\n[ \t]*$/, '\n').split('\n');
  const indents = lines.filter((l) => l.trim() !== '').map((l) => /^ */.exec(l)?.[0].length ?? 0);
  const cut = indents.length === 0 ? 0 : Math.min(...indents);
  return lines.map((l) => l.slice(cut)).join('\n');
}

function edit(description: string, kinds: EditKind[], apply: (ws: Workspace) => void): Edit {
  return { description, kinds, apply };
}

function scenario(s: Omit<Scenario, 'kinds'> & { kinds?: EditKind[] }): Scenario {
  const kinds = [...new Set(s.edits.flatMap((e) => e.kinds))];
  return { ...s, kinds: s.kinds ?? kinds };
}

// ------------------------------------------------------------------------------------------------
// Shared trees
// ------------------------------------------------------------------------------------------------

const NODE_PKG = '{\n  "name": "backend",\n  "version": "1.0.0",\n  "scripts": { "start": "node src/index.js", "build": "node build.js" },\n  "dependencies": { "express": "^4.18.2" }\n}\n';
const NODE_LOCK = '{\n  "name": "backend",\n  "lockfileVersion": 3,\n  "packages": { "node_modules/express": { "version": "4.18.2" } }\n}\n';
const NODE_INDEX = 'const express = require("express");\nconst app = express();\napp.get("/", (req, res) => res.send("hello"));\napp.listen(process.env.PORT || 80);\n';

const nodeTree = (): Record<string, string> => ({
  'package.json': NODE_PKG,
  'package-lock.json': NODE_LOCK,
  'src/index.js': NODE_INDEX,
  'src/config.js': 'module.exports = { db: "mysql" };\n',
  'healthcheck.js': 'process.exit(0);\n',
  'test/sample.js': 'console.log("test");\n',
  'README.md': '# backend\n',
  '.dockerignore': 'node_modules\nnpm-debug.log\nDockerfile\n.dockerignore\n*.md\n',
});

const NODE_SIMPLE = d(`
  FROM node:20-alpine
  WORKDIR /app
  COPY package.json package-lock.json ./
  RUN npm ci
  COPY . .
  RUN npm run build
  EXPOSE 3000
  CMD ["node", "dist/index.js"]
`);

const FLASK_DOCKERFILE = d(`
  FROM --platform=$BUILDPLATFORM python:3.12-slim AS builder
  WORKDIR /code
  COPY requirements.txt /code
  RUN --mount=type=cache,target=/root/.cache/pip \\
      pip3 install -r requirements.txt
  COPY . .
  ENV FLASK_APP hello.py
  ENV FLASK_RUN_PORT 8000
  EXPOSE 8000
  CMD ["flask", "run"]

  FROM builder AS dev-envs
  RUN <<EOF
  apt-get update
  apt-get install -y --no-install-recommends git
  EOF
  RUN <<EOF
  useradd -s /bin/bash -m vscode
  groupadd docker
  EOF
`);

const flaskTree = (): Record<string, string> => ({
  'requirements.txt': 'flask==3.0.0\nmysql-connector-python==8.2.0\n',
  'hello.py': 'from flask import Flask\napp = Flask(__name__)\n',
  'templates/index.html': '<h1>hi</h1>\n',
  '.dockerignore': '__pycache__\n*.pyc\n.venv\nlogs/\n',
});

const GO_DOCKERFILE = d(`
  FROM --platform=$BUILDPLATFORM golang:1.22 AS builder
  WORKDIR /code
  ENV CGO_ENABLED 0
  ENV GOPATH /go
  ENV GOCACHE /go-build
  COPY go.mod go.sum ./
  RUN --mount=type=cache,target=/go/pkg/mod/cache \\
      go mod download
  COPY . .
  RUN --mount=type=cache,target=/go/pkg/mod/cache \\
      --mount=type=cache,target=/go-build \\
      go build -o bin/backend main.go
  CMD ["/code/bin/backend"]

  FROM builder as dev-envs
  RUN <<EOF
  apk update
  apk add git
  EOF
  CMD ["go", "run", "main.go"]

  FROM scratch
  COPY --from=builder /code/bin/backend /usr/local/bin/backend
  CMD ["/usr/local/bin/backend"]
`);

const goTree = (): Record<string, string> => ({
  'go.mod': 'module github.com/example/backend\n\ngo 1.22\n\nrequire github.com/gorilla/mux v1.8.1\n',
  'go.sum': 'github.com/gorilla/mux v1.8.1 h1:TuBL49tXwgrFYWhqrNgrUNEY92u81SPhu7sTdzQEiWY=\n',
  'main.go': 'package main\n\nfunc main() { println("hello") }\n',
  'handlers/users.go': 'package handlers\n',
});

// ------------------------------------------------------------------------------------------------
// The scenarios
// ------------------------------------------------------------------------------------------------

export const SCENARIOS: Scenario[] = [
  // ---- context files ------------------------------------------------------------------------
  scenario({
    name: 'node-app: source file changed, then reverted',
    context: { files: nodeTree() },
    dockerfile: NODE_SIMPLE,
    edits: [
      edit('src/index.js changed', ['source-changed'], (ws) => { ws.replace('src/index.js', '"hello"', '"hello, world"'); }),
      edit('src/index.js changed back', ['revert'], (ws) => { ws.write('src/index.js', NODE_INDEX); }),
    ],
  }),
  scenario({
    name: 'node-app: package.json changed',
    context: { files: nodeTree() },
    dockerfile: NODE_SIMPLE,
    edits: [
      edit('dependency added to package.json', ['manifest-changed'], (ws) => { ws.replace('package.json', '"express": "^4.18.2"', '"express": "^4.18.2", "mysql2": "^3.6.0"'); }),
      edit('package-lock.json changed', ['manifest-changed'], (ws) => { ws.replace('package-lock.json', '4.18.2', '4.19.0'); }),
      edit('both manifests reverted', ['revert'], (ws) => { ws.write('package.json', NODE_PKG); ws.write('package-lock.json', NODE_LOCK); }),
    ],
  }),
  scenario({
    name: 'flask: requirements.txt and app changed',
    modelledOn: 'awesome-compose/nginx-flask-mysql/backend',
    context: { files: flaskTree() },
    dockerfile: FLASK_DOCKERFILE,
    target: 'builder',
    edits: [
      edit('hello.py changed', ['source-changed'], (ws) => { ws.replace('hello.py', 'Flask(__name__)', 'Flask(__name__, static_folder=None)'); }),
      edit('requirements.txt changed', ['manifest-changed'], (ws) => { ws.replace('requirements.txt', 'flask==3.0.0', 'flask==3.0.2'); }),
    ],
  }),
  scenario({
    name: 'go backend: go.mod changed, main.go changed',
    modelledOn: 'awesome-compose/nginx-golang/backend',
    context: { files: goTree() },
    dockerfile: GO_DOCKERFILE,
    edits: [
      edit('main.go changed', ['source-changed'], (ws) => { ws.replace('main.go', '"hello"', '"hello, gopher"'); }),
      edit('go.mod requires a new module', ['manifest-changed'], (ws) => { ws.replace('go.mod', 'v1.8.1\n', 'v1.8.1\nrequire github.com/lib/pq v1.10.9\n'); }),
    ],
  }),
  scenario({
    name: 'ignored files changed',
    context: {
      files: {
        ...flaskTree(),
        'logs/app.log': 'started\n',
        'debug.pyc': 'bytecode\n',
      },
    },
    dockerfile: FLASK_DOCKERFILE,
    target: 'builder',
    edits: [
      edit('logs/app.log (ignored by logs/) changed', ['ignored-file-changed'], (ws) => { ws.write('logs/app.log', 'started\nrequest\n'); }),
      edit('debug.pyc (ignored by *.pyc) changed and __pycache__/x.pyc added', ['ignored-file-changed'], (ws) => {
        ws.write('debug.pyc', 'bytecode 2\n');
        ws.write('__pycache__/hello.cpython-312.pyc', 'x\n');
      }),
    ],
  }),
  scenario({
    name: '.dockerignore excludes a file, then includes it again',
    context: {
      files: {
        'app.py': 'print("app")\n',
        'secret.env': 'TOKEN=abc\n',
        'notes.md': '# notes\n',
        '.dockerignore': '*.md\n',
      },
    },
    dockerfile: d(`
      FROM python:3.12-slim
      WORKDIR /srv
      COPY . .
      RUN python -m compileall .
    `),
    edits: [
      edit('.dockerignore now also excludes secret.env', ['dockerignore-changed'], (ws) => { ws.write('.dockerignore', '*.md\nsecret.env\n'); }),
      edit('.dockerignore back to the original', ['dockerignore-changed', 'revert'], (ws) => { ws.write('.dockerignore', '*.md\n'); }),
    ],
  }),
  scenario({
    name: '.dockerignore: an exception includes a file; a pattern that matches nothing',
    context: {
      files: {
        'app.rb': 'puts "hi"\n',
        'Gemfile': 'source "https://rubygems.org"\ngem "sinatra"\n',
        'Gemfile.lock': 'GEM\n  specs:\n    sinatra (3.1.0)\n',
        'README.md': '# app\n',
        'CHANGELOG.md': '# changes\n',
        '.dockerignore': '*.md\n.dockerignore\n',
      },
    },
    dockerfile: d(`
      FROM ruby:3.3
      WORKDIR /app
      COPY Gemfile Gemfile.lock ./
      RUN bundle install
      COPY . .
      CMD ["ruby", "app.rb"]
    `),
    edits: [
      edit('.dockerignore gains !README.md', ['dockerignore-changed'], (ws) => { ws.write('.dockerignore', '*.md\n!README.md\n.dockerignore\n'); }),
      edit('.dockerignore gains a pattern matching no file', ['dockerignore-changed'], (ws) => { ws.write('.dockerignore', '*.md\n!README.md\n.dockerignore\ntmp/\n'); }),
    ],
  }),
  scenario({
    name: 'Dockerfile-specific ignore file (-f docker/app.Dockerfile)',
    context: {
      files: {
        'docker/app.Dockerfile.dockerignore': 'docs\n',
        '.dockerignore': 'nothing-here\n',
        'docs/guide.md': '# guide\n',
        'src/app.sh': 'echo app\n',
      },
    },
    dockerfilePath: 'docker/app.Dockerfile',
    dockerfile: d(`
      FROM alpine
      COPY . /app
      RUN ls -R /app > /listing
    `),
    edits: [
      edit('docs/guide.md changed (ignored by the Dockerfile\'s own ignore file)', ['ignored-file-changed'], (ws) => { ws.write('docs/guide.md', '# guide v2\n'); }),
      edit('docker/app.Dockerfile.dockerignore no longer ignores docs', ['dockerignore-changed'], (ws) => { ws.write('docker/app.Dockerfile.dockerignore', 'nothing\n'); }),
    ],
  }),
  scenario({
    name: 'chmod +x on a copied script, then back',
    context: {
      files: { 'entrypoint.sh': '#!/bin/sh\nexec "$@"\n', 'app.conf': 'port=80\n' },
    },
    dockerfile: d(`
      FROM debian:bookworm-slim
      COPY entrypoint.sh /usr/local/bin/entrypoint.sh
      COPY app.conf /etc/app.conf
      RUN cat /etc/app.conf
      ENTRYPOINT ["/usr/local/bin/entrypoint.sh"]
    `),
    edits: [
      edit('chmod +x entrypoint.sh', ['mode-changed'], (ws) => { ws.chmod('entrypoint.sh', 0o755); }),
      edit('chmod 644 entrypoint.sh again', ['mode-changed', 'revert'], (ws) => { ws.chmod('entrypoint.sh', 0o644); }),
    ],
  }),
  scenario({
    name: 'chmod of a file copied with COPY --chmod',
    context: { files: { 'run.sh': '#!/bin/sh\necho run\n', 'data.txt': 'data\n' }, modes: { 'run.sh': 0o644 } },
    dockerfile: d(`
      FROM busybox
      COPY --chmod=755 run.sh /run.sh
      COPY data.txt /data.txt
      RUN /run.sh
    `),
    edits: [
      edit('chmod +x run.sh (COPY --chmod=755 sets the mode anyway)', ['mode-changed'], (ws) => { ws.chmod('run.sh', 0o755); }),
    ],
  }),
  scenario({
    name: 'mtime touched only',
    context: { files: { ...nodeTree() } },
    dockerfile: NODE_SIMPLE,
    edits: [
      edit('touch src/index.js and package.json', ['mtime-touched'], (ws) => { ws.touch('src/index.js', 3600); ws.touch('package.json', 3600); }),
      edit('rewrite src/config.js with identical content, touch src/', ['mtime-touched'], (ws) => {
        ws.write('src/config.js', ws.read('src/config.js'));
        ws.touch('src', 7200);
      }),
    ],
  }),
  scenario({
    name: 'file added (COPY . . and COPY src/)',
    context: {
      files: { 'src/main.py': 'print(1)\n', 'src/util.py': 'X = 1\n', 'setup.cfg': '[metadata]\nname = app\n' },
    },
    dockerfile: d(`
      FROM python:3.12-slim AS deps
      WORKDIR /app
      COPY src/ ./src/
      RUN python -m compileall src

      FROM deps
      COPY . .
      RUN ls -R > files.txt
    `),
    edits: [
      edit('scripts/migrate.py added (outside src/)', ['file-added'], (ws) => { ws.write('scripts/migrate.py', 'print("migrate")\n'); }),
      edit('src/models.py added', ['file-added'], (ws) => { ws.write('src/models.py', 'class User: pass\n'); }),
    ],
  }),
  scenario({
    name: 'file removed',
    context: { files: { 'src/a.go': 'package src\n', 'src/b.go': 'package src\n', 'go.mod': 'module example.com/rm\n\ngo 1.22\n', 'main.go': 'package main\nfunc main() {}\n' } },
    dockerfile: d(`
      FROM golang:1.22
      WORKDIR /src
      COPY go.mod ./
      RUN go mod download
      COPY . .
      RUN go build -o /out/app .
    `),
    edits: [
      edit('src/b.go removed', ['file-removed'], (ws) => { ws.remove('src/b.go'); }),
      edit('src/b.go restored', ['file-added', 'revert'], (ws) => { ws.write('src/b.go', 'package src\n'); }),
    ],
  }),
  scenario({
    name: 'file renamed',
    context: { files: { 'lib/helpers.sh': 'helper() { :; }\n', 'bin/start.sh': 'echo start\n', 'notes.txt': 'n\n' } },
    dockerfile: d(`
      FROM alpine:3.19
      COPY lib /opt/app/lib
      COPY bin /opt/app/bin
      RUN ls /opt/app/lib /opt/app/bin
    `),
    edits: [
      edit('lib/helpers.sh renamed to lib/util.sh', ['file-renamed'], (ws) => { ws.rename('lib/helpers.sh', 'lib/util.sh'); }),
      edit('notes.txt (never copied) renamed to NOTES.txt', ['file-renamed'], (ws) => { ws.rename('notes.txt', 'NOTES.txt'); }),
    ],
  }),
  scenario({
    name: 'symlink in the context retargeted',
    context: {
      files: { 'config/prod.json': '{"env":"prod"}\n', 'config/dev.json': '{"env":"dev"}\n' },
      symlinks: { 'config/current.json': 'prod.json' },
    },
    dockerfile: d(`
      FROM node:20-alpine
      WORKDIR /cfg
      COPY config/ ./
      RUN ls -l
    `),
    edits: [
      edit('config/current.json -> dev.json', ['symlink-changed'], (ws) => { ws.symlink('dev.json', 'config/current.json'); }),
    ],
  }),
  scenario({
    name: 'empty directory added',
    context: { files: { 'public/index.html': '<html></html>\n', 'server.js': 'require("http")\n' }, dirs: ['var'] },
    dockerfile: d(`
      FROM node:20
      WORKDIR /srv
      COPY public ./public
      COPY . .
      RUN ls -la
    `),
    edits: [
      edit('empty dir uploads/ added at the top (COPY . .)', ['empty-dir-added'], (ws) => { ws.mkdir('uploads'); }),
      edit('empty dir public/img/ added (COPY public)', ['empty-dir-added'], (ws) => { ws.mkdir('public/img'); }),
    ],
  }),

  // ---- build arguments ----------------------------------------------------------------------
  scenario({
    name: 'ARG value changed with --build-arg',
    modelledOn: 'awesome-compose/react-express-mysql/backend',
    context: { files: nodeTree() },
    dockerfile: d(`
      FROM node:20-alpine AS development
      ARG NODE_ENV=production
      ENV NODE_ENV $NODE_ENV
      WORKDIR /code
      ARG PORT=80
      ENV PORT $PORT
      EXPOSE $PORT 9229 9230
      COPY package.json /code/package.json
      COPY package-lock.json /code/package-lock.json
      RUN npm ci
      HEALTHCHECK --interval=30s \\
        CMD node healthcheck.js
      COPY . /code
      CMD [ "node", "src/index.js" ]

      FROM development as dev-envs
      RUN <<EOF
      apt-get update
      apt-get install -y --no-install-recommends git
      EOF
    `),
    target: 'development',
    edits: [
      edit('--build-arg NODE_ENV=development', ['arg-value-changed'], (ws) => { ws.buildArgs.NODE_ENV = 'development'; }),
      edit('--build-arg PORT=8080 as well', ['arg-value-changed'], (ws) => { ws.buildArgs.PORT = '8080'; }),
      edit('--build-arg NODE_ENV=production PORT=80 (the defaults, given explicitly)', ['arg-value-changed', 'revert'], (ws) => { ws.buildArgs = { NODE_ENV: 'production', PORT: '80' }; }),
    ],
  }),
  scenario({
    name: 'ARG default changed in the Dockerfile',
    context: { files: { 'app.txt': 'app\n' } },
    dockerfile: d(`
      FROM alpine
      ARG VERSION=1.0
      COPY app.txt /app.txt
      RUN echo "building $VERSION" > /version
      RUN echo done
    `),
    edits: [
      edit('ARG VERSION=1.0 -> 1.1', ['arg-default-changed'], (ws) => { ws.editDockerfile('ARG VERSION=1.0', 'ARG VERSION=1.1'); }),
      edit('--build-arg VERSION=1.0 (old value, new default)', ['arg-value-changed', 'revert'], (ws) => { ws.buildArgs.VERSION = '1.0'; }),
    ],
  }),
  scenario({
    name: 'ARG declared but unused by the RUN text',
    context: { files: { 'x.txt': 'x\n' } },
    dockerfile: d(`
      FROM busybox
      ARG BUILD_DATE
      COPY x.txt /x.txt
      RUN echo static
    `),
    edits: [
      edit('--build-arg BUILD_DATE=2024-05-01 (declared, not referenced)', ['arg-value-changed'], (ws) => { ws.buildArgs.BUILD_DATE = '2024-05-01'; }),
    ],
  }),
  scenario({
    name: 'build args that are never declared',
    context: { files: { 'requirements.txt': 'requests==2.31.0\n', 'main.py': 'print(2)\n' } },
    dockerfile: d(`
      FROM python:3.12-slim
      WORKDIR /app
      COPY requirements.txt .
      RUN pip install -r requirements.txt
      COPY main.py .
      RUN python main.py
    `),
    edits: [
      edit('--build-arg UNUSED=1', ['undeclared-build-arg'], (ws) => { ws.buildArgs.UNUSED = '1'; }),
      edit('--build-arg HTTP_PROXY=http://proxy.invalid:3128 (predefined, not declared)', ['undeclared-build-arg'], (ws) => { ws.buildArgs.HTTP_PROXY = 'http://proxy.invalid:3128'; }),
    ],
  }),
  scenario({
    name: 'global ARG used only in FROM',
    context: { files: { 'hello.sh': 'echo hello\n' } },
    dockerfile: d(`
      ARG NODE_VERSION=20
      ARG DISTRO=alpine
      FROM node:\${NODE_VERSION}-\${DISTRO} AS base
      COPY hello.sh /hello.sh
      RUN sh /hello.sh > /out.txt
      RUN echo "version: $NODE_VERSION" > /v.txt
    `),
    edits: [
      edit('--build-arg NODE_VERSION=18 (node:18-alpine: another tag, same image here)', ['global-arg-in-from', 'arg-value-changed'], (ws) => { ws.buildArgs.NODE_VERSION = '18'; }),
      edit('global ARG DISTRO default unchanged, NODE_VERSION default 20 -> 18, build arg dropped', ['global-arg-in-from', 'arg-default-changed'], (ws) => {
        ws.buildArgs = {};
        ws.editDockerfile('ARG NODE_VERSION=20', 'ARG NODE_VERSION=18');
      }),
    ],
  }),
  scenario({
    name: 'global ARG in FROM selects a different base image',
    context: { files: { 'a.txt': 'a\n' } },
    dockerfile: d(`
      ARG BASE=alpine:3.19
      FROM \${BASE}
      ARG BASE
      COPY a.txt /a.txt
      RUN echo "$BASE" > /base.txt
    `),
    edits: [
      edit('--build-arg BASE=busybox (same stand-in image, redeclared ARG used by RUN)', ['global-arg-in-from', 'arg-value-changed'], (ws) => { ws.buildArgs.BASE = 'busybox'; }),
    ],
  }),

  // ---- metadata-only instructions -------------------------------------------------------------
  scenario({
    name: 'ENV changed',
    context: { files: { 'app.js': 'console.log(1)\n', 'lib.js': 'module.exports = 1\n' } },
    dockerfile: d(`
      FROM node:20-alpine
      ENV APP_ENV=production
      ENV APP_HOME=/srv/app
      COPY app.js $APP_HOME/
      COPY lib.js /lib/
      RUN echo "$APP_ENV" > /env.txt
    `),
    edits: [
      edit('ENV APP_ENV=production -> staging', ['env-changed'], (ws) => { ws.editDockerfile('APP_ENV=production', 'APP_ENV=staging'); }),
      edit('ENV APP_HOME=/srv/app -> /opt/app (used as COPY destination)', ['env-changed'], (ws) => { ws.editDockerfile('APP_HOME=/srv/app', 'APP_HOME=/opt/app'); }),
    ],
  }),
  scenario({
    name: 'LABEL changed',
    context: { files: { 'index.html': '<p>hi</p>\n' } },
    dockerfile: d(`
      FROM nginx:alpine
      LABEL org.opencontainers.image.version="1.0.0"
      COPY index.html /usr/share/nginx/html/index.html
      RUN ls /usr/share/nginx/html
    `),
    edits: [
      edit('LABEL version 1.0.0 -> 1.0.1', ['label-changed'], (ws) => { ws.editDockerfile('"1.0.0"', '"1.0.1"'); }),
      edit('LABEL added after RUN', ['label-changed'], (ws) => { ws.dockerfile = ws.dockerfile + 'LABEL maintainer="ops@example.com"\n'; }),
    ],
  }),
  scenario({
    name: 'EXPOSE, CMD, ENTRYPOINT, HEALTHCHECK changed',
    context: { files: { 'server.py': 'print("serve")\n' } },
    dockerfile: d(`
      FROM python:3.12-slim
      WORKDIR /app
      COPY server.py .
      RUN python -m compileall .
      EXPOSE 8000
      HEALTHCHECK CMD python -c "print(1)"
      CMD ["python", "server.py"]
    `),
    edits: [
      edit('EXPOSE 8000 -> 8080 and CMD changed', ['expose-cmd-changed'], (ws) => {
        ws.editDockerfile('EXPOSE 8000', 'EXPOSE 8080');
        ws.editDockerfile('CMD ["python", "server.py"]', 'CMD ["python", "server.py", "--port", "8080"]');
      }),
      edit('ENTRYPOINT added, HEALTHCHECK changed', ['expose-cmd-changed'], (ws) => {
        ws.editDockerfile('HEALTHCHECK CMD python -c "print(1)"', 'HEALTHCHECK --interval=10s CMD python -c "print(2)"\nENTRYPOINT ["/usr/bin/env"]');
      }),
    ],
  }),
  scenario({
    name: 'comments and blank lines changed (Dockerfile ignored)',
    context: { files: { ...nodeTree() } },
    dockerfile: '# build the backend\n' + NODE_SIMPLE,
    edits: [
      edit('comment text changed', ['comment-changed'], (ws) => { ws.editDockerfile('# build the backend', '# build the backend service'); }),
      edit('comment lines and blank lines inserted between steps', ['comment-changed'], (ws) => { ws.editDockerfile('RUN npm ci\n', '# install dependencies\n\nRUN npm ci\n\n# copy the rest\n'); }),
    ],
  }),
  scenario({
    name: 'comment changed with the Dockerfile inside the copied context',
    context: { files: { 'app.sh': 'echo app\n' } },
    dockerfile: d(`
      # version 1
      FROM alpine
      WORKDIR /app
      RUN echo prepare
      COPY . .
      RUN sh app.sh
    `),
    edits: [
      edit('comment "# version 1" -> "# version 2"', ['comment-changed'], (ws) => { ws.editDockerfile('# version 1', '# version 2'); }),
    ],
  }),

  // ---- instructions --------------------------------------------------------------------------
  scenario({
    name: 'instructions reordered',
    context: { files: { 'a.txt': 'a\n' } },
    dockerfile: d(`
      FROM debian:bookworm-slim
      RUN apt-get update && apt-get install -y curl
      RUN mkdir -p /opt/tools
      ENV TOOL_HOME=/opt/tools
      LABEL stage=tools
      COPY a.txt /opt/a.txt
    `),
    edits: [
      edit('the two RUNs swapped', ['instruction-reordered'], (ws) => {
        ws.editDockerfile('RUN apt-get update && apt-get install -y curl\nRUN mkdir -p /opt/tools\n', 'RUN mkdir -p /opt/tools\nRUN apt-get update && apt-get install -y curl\n');
      }),
      edit('RUNs swapped back, ENV and LABEL swapped', ['instruction-reordered', 'revert'], (ws) => {
        ws.editDockerfile('RUN mkdir -p /opt/tools\nRUN apt-get update && apt-get install -y curl\n', 'RUN apt-get update && apt-get install -y curl\nRUN mkdir -p /opt/tools\n');
        ws.editDockerfile('ENV TOOL_HOME=/opt/tools\nLABEL stage=tools\n', 'LABEL stage=tools\nENV TOOL_HOME=/opt/tools\n');
      }),
    ],
  }),
  scenario({
    name: 'RUN command changed',
    context: { files: { 'Cargo.toml': '[package]\nname = "svc"\nversion = "0.1.0"\n', 'src/main.rs': 'fn main() {}\n' } },
    dockerfile: d(`
      FROM rust:1.77
      RUN apt-get update && apt-get install -y pkg-config
      WORKDIR /code
      COPY . .
      RUN cargo build --release
    `),
    edits: [
      edit('apt-get installs one more package', ['run-changed'], (ws) => { ws.editDockerfile('install -y pkg-config', 'install -y pkg-config libssl-dev'); }),
      edit('same RUN split over two lines with a backslash', ['run-changed'], (ws) => { ws.editDockerfile('apt-get update && apt-get install', 'apt-get update && \\\n    apt-get install'); }),
      edit('exec form: RUN ["cargo", "build", "--release"]', ['run-changed'], (ws) => { ws.editDockerfile('RUN cargo build --release', 'RUN ["cargo", "build", "--release"]'); }),
    ],
  }),
  scenario({
    name: 'WORKDIR changed',
    context: { files: { 'main.go': 'package main\nfunc main() {}\n', 'go.mod': 'module example.com/wd\n\ngo 1.22\n' } },
    dockerfile: d(`
      FROM golang:1.22
      WORKDIR /app
      COPY go.mod .
      RUN go mod download
      COPY . .
      RUN go build -o server .
    `),
    edits: [
      edit('WORKDIR /app -> /src/app', ['workdir-changed'], (ws) => { ws.editDockerfile('WORKDIR /app', 'WORKDIR /src/app'); }),
      edit('WORKDIR /src/app -> /src/app/ (trailing slash)', ['workdir-changed'], (ws) => { ws.editDockerfile('WORKDIR /src/app', 'WORKDIR /src/app/'); }),
    ],
  }),
  scenario({
    name: 'USER changed',
    context: { files: { 'app.js': 'console.log("u")\n' } },
    dockerfile: d(`
      FROM node:20-alpine
      WORKDIR /home/node/app
      COPY app.js .
      USER node
      RUN id -u > /tmp/uid
      RUN echo ok
    `),
    edits: [
      edit('USER node -> nobody', ['user-changed'], (ws) => { ws.editDockerfile('USER node', 'USER nobody'); }),
      edit('USER nobody -> 1000 (node\'s uid, spelled as a number)', ['user-changed'], (ws) => { ws.editDockerfile('USER nobody', 'USER 1000'); }),
    ],
  }),
  scenario({
    name: 'SHELL changed',
    context: { files: { 'x': 'x\n' } },
    dockerfile: d(`
      FROM debian:bookworm-slim
      SHELL ["/bin/sh", "-c"]
      RUN echo shell-form
      RUN ["echo", "exec-form"]
      COPY x /x
    `),
    edits: [
      edit('SHELL ["/bin/sh", "-c"] -> ["/bin/bash", "-c"]', ['shell-changed'], (ws) => { ws.editDockerfile('SHELL ["/bin/sh", "-c"]', 'SHELL ["/bin/bash", "-c"]'); }),
      edit('SHELL -> ["/bin/bash", "-eu", "-c"]', ['shell-changed'], (ws) => { ws.editDockerfile('SHELL ["/bin/bash", "-c"]', 'SHELL ["/bin/bash", "-eu", "-c"]'); }),
    ],
  }),

  // ---- stages and targets -----------------------------------------------------------------------
  scenario({
    name: 'stage added (unnamed stages renumbered)',
    context: { files: { 'a.txt': 'a\n' } },
    dockerfile: d(`
      FROM alpine
      RUN echo one > /one

      FROM alpine
      COPY --from=0 /one /one
      COPY a.txt /a.txt
      RUN cat /one /a.txt
    `),
    edits: [
      edit('an unnamed stage inserted first; COPY --from=0 -> --from=1', ['stage-added'], (ws) => {
        ws.dockerfile = 'FROM busybox\nRUN echo zero > /zero\n\n' + ws.dockerfile.replace('--from=0', '--from=1');
      }),
      edit('a named stage "assets" added and copied from', ['stage-added'], (ws) => {
        ws.dockerfile = 'FROM busybox AS assets\nRUN echo logo > /logo.svg\n\n' + ws.dockerfile.replace('--from=1', '--from=2') + 'COPY --from=assets /logo.svg /logo.svg\n';
      }),
    ],
  }),
  scenario({
    name: 'stage removed',
    context: { files: { 'main.c': 'int main(){return 0;}\n' } },
    dockerfile: d(`
      FROM alpine AS tools
      RUN echo tools > /tools.txt

      FROM alpine
      RUN echo lint > /lint.txt

      FROM busybox
      COPY --from=tools /tools.txt /tools.txt
      COPY main.c /src/main.c
      RUN cat /tools.txt
    `),
    edits: [
      edit('the unnamed middle stage removed (final stage becomes stage-1)', ['stage-removed'], (ws) => { ws.editDockerfile('FROM alpine\nRUN echo lint > /lint.txt\n\n', ''); }),
      edit('stage "tools" removed and the COPY --from with it', ['stage-removed'], (ws) => {
        ws.editDockerfile('FROM alpine AS tools\nRUN echo tools > /tools.txt\n\n', '');
        ws.editDockerfile('COPY --from=tools /tools.txt /tools.txt\n', '');
        ws.editDockerfile('RUN cat /tools.txt', 'RUN cat /src/main.c');
      }),
    ],
  }),
  scenario({
    name: 'target changed (rust multi-stage)',
    modelledOn: 'awesome-compose/react-rust-postgres/backend',
    context: {
      files: {
        'Cargo.toml': '[package]\nname = "react-rust-postgres"\nversion = "0.1.0"\n',
        'src/main.rs': 'fn main() {}\n',
        'src/user.rs': 'pub struct User;\n',
        'migrations/0001_up.sql': 'create table users();\n',
        '.dockerignore': 'target\nCargo.lock\n',
      },
    },
    dockerfile: d(`
      FROM rust:1.77 AS base
      ENV USER=root
      ENV ROCKET_ADDRESS=0.0.0.0
      WORKDIR /code
      RUN cargo init
      COPY Cargo.toml /code/Cargo.toml
      RUN cargo fetch
      COPY . /code

      FROM base AS development
      EXPOSE 8000
      CMD [ "cargo", "run", "--offline" ]

      FROM base AS builder
      RUN cargo build --release --offline

      FROM debian:bookworm-slim
      ENV ROCKET_ENV=production
      EXPOSE 8000
      COPY --from=builder /code/target/release/react-rust-postgres /react-rust-postgres
      CMD [ "/react-rust-postgres" ]
    `),
    target: 'development',
    edits: [
      edit('--target development -> builder', ['target-changed'], (ws) => { ws.target = 'builder'; }),
      edit('no --target (the last stage)', ['target-changed'], (ws) => { ws.target = undefined; }),
      edit('src/main.rs changed, --target development', ['target-changed', 'source-changed'], (ws) => {
        ws.target = 'development';
        ws.write('src/main.rs', 'fn main() { println!("hi"); }\n');
      }),
    ],
  }),
  scenario({
    name: 'a stage the target does not reach changed',
    context: { files: { 'app.py': 'print("prod")\n', 'tests/test_app.py': 'def test(): pass\n' } },
    dockerfile: d(`
      FROM python:3.12-slim AS base
      WORKDIR /app
      COPY app.py .

      FROM base AS test
      COPY tests ./tests
      RUN python -m pytest

      FROM base AS prod
      RUN python -m compileall .
      CMD ["python", "app.py"]
    `),
    target: 'prod',
    edits: [
      edit('RUN in stage "test" changed', ['unreached-stage-changed'], (ws) => { ws.editDockerfile('RUN python -m pytest', 'RUN python -m pytest -q'); }),
      edit('tests/test_app.py changed and an ADD of a URL added to stage "test"', ['unreached-stage-changed', 'add-url'], (ws) => {
        ws.write('tests/test_app.py', 'def test(): assert True\n');
        ws.editDockerfile('RUN python -m pytest -q', 'ADD http://127.0.0.1:9/fixtures.json /fixtures.json\nRUN python -m pytest -q');
      }),
    ],
  }),
  scenario({
    name: 'explicit --platform equal to the builder\'s',
    context: { files: flaskTree() },
    dockerfile: FLASK_DOCKERFILE,
    target: 'builder',
    edits: [
      edit('--platform linux/amd64', ['platform-changed'], (ws) => { ws.platform = 'linux/amd64'; }),
    ],
  }),

  // ---- stages that feed others --------------------------------------------------------------
  scenario({
    name: 'COPY --from a stage that reruns with identical output',
    context: { files: { 'page.html': '<h1>x</h1>\n' } },
    dockerfile: d(`
      FROM alpine AS builder
      RUN mkdir -p /out && echo "hello" > /out/greeting.txt # v1

      FROM nginx:alpine
      COPY page.html /usr/share/nginx/html/index.html
      COPY --from=builder /out /usr/share/nginx/html/out
      RUN ls /usr/share/nginx/html/out
    `),
    edits: [
      edit('builder RUN: shell comment "# v1" -> "# v2" (same files)', ['copy-from-identical-output'], (ws) => { ws.editDockerfile('# v1', '# v2'); }),
      edit('builder gets ENV BUILD_ID=7 before its RUN (same files)', ['copy-from-identical-output', 'env-changed'], (ws) => { ws.editDockerfile('FROM alpine AS builder\n', 'FROM alpine AS builder\nENV BUILD_ID=7\n'); }),
    ],
  }),
  scenario({
    name: 'COPY --from a stage with different output',
    modelledOn: 'awesome-compose/react-nginx',
    context: {
      files: {
        'package.json': '{\n  "name": "react-nginx",\n  "dependencies": { "react": "^18.2.0", "react-scripts": "5.0.1" },\n  "scripts": { "build": "react-scripts build" }\n}\n',
        'package-lock.json': '{ "lockfileVersion": 3 }\n',
        'src/App.js': 'export default function App() { return "hi"; }\n',
        'public/index.html': '<div id="root"></div>\n',
        '.nginx/nginx.conf': 'server { listen 80; }\n',
        '.dockerignore': 'node_modules\nbuild\n',
      },
    },
    dockerfile: d(`
      FROM node:20 AS development
      WORKDIR /app
      COPY package.json /app/package.json
      COPY package-lock.json /app/package-lock.json
      RUN npm ci
      COPY . /app
      ENV CI=true
      CMD [ "npm", "start" ]

      FROM development AS build
      RUN npm run build

      FROM nginx:alpine
      COPY --from=build /app/.nginx/nginx.conf /etc/nginx/conf.d/default.conf
      WORKDIR /usr/share/nginx/html
      RUN rm -rf ./*
      COPY --from=build /app/build .
      ENTRYPOINT ["nginx", "-g", "daemon off;"]
    `),
    edits: [
      edit('src/App.js changed (build output differs, nginx.conf does not)', ['copy-from-different-output', 'source-changed'], (ws) => { ws.replace('src/App.js', '"hi"', '"hello"'); }),
      edit('.nginx/nginx.conf changed', ['copy-from-different-output', 'source-changed'], (ws) => { ws.replace('.nginx/nginx.conf', 'listen 80;', 'listen 8080;'); }),
    ],
  }),
  scenario({
    name: 'RUN --mount=type=bind,from=stage: stage reruns with identical output',
    context: { files: { 'version.txt': '1.2.3\n' } },
    dockerfile: d(`
      FROM alpine AS meta
      COPY version.txt /meta/version.txt
      RUN echo "build" > /meta/kind

      FROM busybox
      RUN --mount=type=bind,from=meta,source=/meta,target=/meta \\
          cat /meta/version.txt /meta/kind > /info.txt
    `),
    edits: [
      edit('version.txt touched (mtime only) and stage "meta" RUN gets a no-op ";:"', ['copy-from-identical-output', 'mtime-touched'], (ws) => {
        ws.touch('version.txt', 600);
        ws.editDockerfile('echo "build" > /meta/kind', 'echo "build" > /meta/kind; :');
      }),
      edit('version.txt changed (the mounted stage output differs)', ['copy-from-different-output', 'source-changed'], (ws) => { ws.write('version.txt', '1.2.4\n'); }),
    ],
  }),

  // ---- heredocs ---------------------------------------------------------------------------------
  scenario({
    name: 'heredoc RUN changed',
    modelledOn: 'awesome-compose/fastapi',
    context: { files: { 'requirements.txt': 'fastapi==0.110.0\nuvicorn==0.29.0\n', 'app/main.py': 'app = None\n', 'app/__init__.py': '' } },
    dockerfile: d(`
      FROM python:3.12-slim AS builder
      WORKDIR /app
      COPY requirements.txt ./
      RUN --mount=type=cache,target=/root/.cache/pip \\
          pip install -r requirements.txt
      COPY ./app ./app

      FROM builder as dev-envs
      RUN <<EOF
      apt-get update
      apt-get install -y --no-install-recommends git
      EOF
      RUN <<EOF
      useradd -s /bin/bash -m vscode
      groupadd docker
      EOF
    `),
    edits: [
      edit('first heredoc installs one more package', ['heredoc-run-changed'], (ws) => { ws.editDockerfile('--no-install-recommends git\n', '--no-install-recommends git curl\n'); }),
      edit('second heredoc gains a line', ['heredoc-run-changed'], (ws) => { ws.editDockerfile('groupadd docker\n', 'groupadd docker\naddgroup vscode docker\n'); }),
    ],
  }),
  scenario({
    name: 'heredoc RUN with a here-document for another command',
    context: { files: { 'x': 'x\n' } },
    dockerfile: d(`
      FROM alpine
      RUN <<EOF cat > /etc/motd
      welcome
      EOF
      RUN cat /etc/motd
      COPY x /x
    `),
    edits: [
      edit('the heredoc body changed', ['heredoc-run-changed'], (ws) => { ws.editDockerfile('welcome\n', 'welcome back\n'); }),
    ],
  }),
  scenario({
    name: 'COPY heredoc changed',
    context: { files: { 'app.conf': 'a=1\n' } },
    dockerfile: d(`
      FROM alpine
      ARG LOG_LEVEL=info
      COPY <<EOF /etc/app/settings.ini
      [server]
      port=8080
      EOF
      COPY <<EOF /etc/app/logging.ini
      level=$LOG_LEVEL
      EOF
      COPY app.conf /etc/app/app.conf
      RUN cat /etc/app/settings.ini /etc/app/logging.ini
    `),
    edits: [
      edit('settings.ini heredoc: port 8080 -> 9090', ['copy-heredoc-changed'], (ws) => { ws.editDockerfile('port=8080', 'port=9090'); }),
      edit('--build-arg LOG_LEVEL=debug (expanded inside a COPY heredoc)', ['copy-heredoc-changed', 'arg-value-changed'], (ws) => { ws.buildArgs.LOG_LEVEL = 'debug'; }),
    ],
  }),

  // ---- RUN --mount and --network ------------------------------------------------------------
  scenario({
    name: 'RUN --mount=type=bind source changed',
    context: { files: { 'requirements.txt': 'django==5.0\n', 'manage.py': 'print("manage")\n', 'other.txt': 'o\n' } },
    dockerfile: d(`
      FROM python:3.12-slim
      WORKDIR /app
      RUN --mount=type=bind,source=requirements.txt,target=/tmp/requirements.txt \\
          pip install -r /tmp/requirements.txt
      COPY manage.py .
      RUN python manage.py check
    `),
    edits: [
      edit('other.txt (not mounted) changed', ['source-changed'], (ws) => { ws.write('other.txt', 'o2\n'); }),
      edit('requirements.txt (bind-mounted) changed', ['bind-mount-source-changed'], (ws) => { ws.write('requirements.txt', 'django==5.0.1\n'); }),
    ],
  }),
  scenario({
    name: 'RUN --mount=type=bind of the whole context',
    context: { files: { ...goTree(), '.dockerignore': 'docs/\n*.md\n', 'docs/api.md': '# api\n', 'README.md': '# r\n' } },
    dockerfile: d(`
      FROM golang:1.22 AS build
      WORKDIR /src
      RUN --mount=type=bind,target=. \\
          go build -o /out/server .

      FROM alpine
      COPY --from=build /out/server /usr/local/bin/server
    `),
    edits: [
      edit('docs/api.md (ignored) changed', ['ignored-file-changed'], (ws) => { ws.write('docs/api.md', '# api v2\n'); }),
      edit('handlers/users.go changed', ['bind-mount-source-changed'], (ws) => { ws.write('handlers/users.go', 'package handlers\n\nfunc Users() {}\n'); }),
    ],
  }),
  scenario({
    name: 'RUN --mount=type=cache: contents never count',
    context: { files: { 'package.json': NODE_PKG, 'package-lock.json': NODE_LOCK, 'src/index.js': NODE_INDEX } },
    dockerfile: d(`
      FROM node:20-alpine AS warm
      RUN --mount=type=cache,id=npm,target=/root/.npm \\
          echo warm-v1 > /root/.npm/warm.txt

      FROM node:20-alpine
      WORKDIR /app
      COPY package.json package-lock.json ./
      RUN --mount=type=cache,id=npm,target=/root/.npm \\
          npm ci
      COPY src ./src
    `),
    edits: [
      edit('stage "warm" writes different cache contents (unreached by the target)', ['cache-mount', 'unreached-stage-changed'], (ws) => { ws.editDockerfile('warm-v1', 'warm-v2'); }),
      edit('target "warm" built: cache contents change', ['cache-mount', 'target-changed'], (ws) => { ws.target = 'warm'; }),
      edit('back to the last stage; cache mount id npm -> npm2', ['cache-mount', 'target-changed'], (ws) => {
        ws.target = undefined;
        ws.editDockerfile('RUN --mount=type=cache,id=npm,target=/root/.npm \\\n    npm ci', 'RUN --mount=type=cache,id=npm2,target=/root/.npm \\\n    npm ci');
      }),
    ],
  }),
  scenario({
    name: 'RUN --network=host vs default vs none',
    context: { files: { 'a': 'a\n' } },
    dockerfile: d(`
      FROM alpine
      RUN --network=host echo fetch > /fetched
      COPY a /a
      RUN echo after
    `),
    dockerArgs: ['--allow', 'network.host'],
    edits: [
      edit('--network=host removed (default network)', ['network-mode'], (ws) => { ws.editDockerfile('RUN --network=host echo fetch', 'RUN echo fetch'); }),
      edit('--network=none', ['network-mode'], (ws) => { ws.editDockerfile('RUN echo fetch', 'RUN --network=none echo fetch'); }),
      edit('--network=default (explicit)', ['network-mode'], (ws) => { ws.editDockerfile('RUN --network=none echo fetch', 'RUN --network=default echo fetch'); }),
    ],
  }),

  // ---- COPY flags ---------------------------------------------------------------------------
  scenario({
    name: 'COPY --chown changed',
    context: { files: { 'app.js': 'console.log("c")\n', 'package.json': NODE_PKG } },
    dockerfile: d(`
      FROM node:20-alpine
      WORKDIR /home/node/app
      COPY --chown=node:node package.json ./
      COPY --chown=node:node app.js ./
      RUN ls -ln
    `),
    edits: [
      edit('app.js: --chown=node:node -> --chown=nobody', ['copy-chown-changed'], (ws) => { ws.editDockerfile('COPY --chown=node:node app.js', 'COPY --chown=nobody app.js'); }),
      edit('app.js: --chown=nobody -> --chown=1000:1000 (node by number)', ['copy-chown-changed'], (ws) => { ws.editDockerfile('--chown=nobody app.js', '--chown=1000:1000 app.js'); }),
    ],
  }),
  scenario({
    name: 'COPY --link after an earlier miss (no merge ops)',
    context: { files: { 'app.jar': 'jar v1\n', 'config.yml': 'a: 1\n' } },
    dockerfile: d(`
      FROM eclipse-temurin:17-jre
      RUN mkdir -p /opt/app && echo base > /opt/app/base
      COPY --link app.jar /opt/app/app.jar
      COPY --link config.yml /opt/app/config.yml
      ENTRYPOINT ["java", "-jar", "/opt/app/app.jar"]
    `),
    edits: [
      edit('the RUN before the COPY --link steps changed', ['copy-link-after-miss', 'run-changed'], (ws) => { ws.editDockerfile('echo base', 'echo base2'); }),
      edit('app.jar changed (config.yml COPY --link after it)', ['copy-link-after-miss', 'source-changed'], (ws) => { ws.write('app.jar', 'jar v2\n'); }),
    ],
  }),
  scenario({
    name: 'wildcard COPY gets a new matching file',
    context: { files: { 'package.json': NODE_PKG, 'package-lock.json': NODE_LOCK, 'index.ts': 'export {}\n', 'notes.txt': 'x\n' } },
    dockerfile: d(`
      FROM node:20-alpine
      WORKDIR /app
      COPY *.json ./
      RUN npm ci
      COPY *.ts ./
    `),
    edits: [
      edit('tsconfig.json added (matches *.json)', ['wildcard-copy', 'file-added'], (ws) => { ws.write('tsconfig.json', '{ "compilerOptions": {} }\n'); }),
      edit('todo.txt added (matches nothing)', ['wildcard-copy', 'file-added'], (ws) => { ws.write('todo.txt', 'todo\n'); }),
    ],
  }),
  scenario({
    name: 'ADD of a local file changed',
    context: { files: { 'config.json': '{"a":1}\n', 'app.php': '<?php echo 1;\n' } },
    dockerfile: d(`
      FROM php:8.2-apache
      ADD config.json /etc/app/config.json
      COPY app.php /var/www/html/index.php
      RUN php -l /var/www/html/index.php
    `),
    edits: [
      edit('config.json changed', ['source-changed'], (ws) => { ws.write('config.json', '{"a":2}\n'); }),
    ],
  }),

  // ---- base images ----------------------------------------------------------------------------
  scenario({
    name: 'base image tag moved, then moved back',
    context: { files: { 'requirements.txt': 'numpy==1.26.4\n', 'job.py': 'print("job")\n' } },
    dockerfile: d(`
      FROM python:3.11-slim
      WORKDIR /job
      COPY requirements.txt .
      RUN pip install -r requirements.txt
      COPY job.py .
    `),
    edits: [
      edit('python:3.11-slim now points to another image', ['base-image-moved'], (ws) => { ws.retag('python:3.11-slim'); }),
      edit('python:3.11-slim moved back', ['base-image-moved', 'revert'], (ws) => { ws.retag('python:3.11-slim', 'base'); }),
    ],
    cleanup: (ws) => { ws.retag('python:3.11-slim', 'base'); },
  }),
  scenario({
    name: 'ADD of a URL (predicted only)',
    context: { files: { 'a.txt': 'a\n' } },
    dockerfile: d(`
      FROM alpine
      COPY a.txt /a.txt
      RUN ls -la /
    `),
    edits: [
      {
        ...edit('ADD http://127.0.0.1:9/archive.tar.gz inserted after the COPY (cannot be built: no network)', ['add-url'], (ws) => {
          ws.editDockerfile('COPY a.txt /a.txt\n', 'COPY a.txt /a.txt\nADD http://127.0.0.1:9/archive.tar.gz /opt/archive.tar.gz\n');
        }),
        predictOnly: true,
        expect: [
          { vertex: '] COPY a.txt /a.txt', prediction: 'hit' },
          { vertex: '] ADD http://127.0.0.1:9/archive.tar.gz', prediction: 'unknown' },
          { vertex: '] RUN ls -la /', prediction: 'unknown' },
        ],
      },
    ],
  }),

  // ---- multi-stage graphs -------------------------------------------------------------------
  scenario({
    name: 'two stages with identical steps (dedup)',
    context: { files: { 'x.txt': 'x\n' } },
    dockerfile: d(`
      FROM alpine AS a
      RUN echo shared > /s
      RUN echo only-a > /a

      FROM alpine AS b
      RUN echo shared > /s
      RUN echo only-b > /b

      FROM busybox
      COPY --from=b /b /b
      COPY --from=a /a /a
      COPY x.txt /x.txt
    `),
    edits: [
      edit('x.txt changed', ['duplicate-steps', 'source-changed'], (ws) => { ws.write('x.txt', 'y\n'); }),
      edit('the shared RUN changed in stage b only', ['duplicate-steps', 'run-changed'], (ws) => { ws.editDockerfile('RUN echo shared > /s\nRUN echo only-b', 'RUN echo shared2 > /s\nRUN echo only-b'); }),
    ],
  }),
  scenario({
    name: 'parallel stages: frontend, backend and proxy',
    modelledOn: 'awesome-compose/react-express-mongodb + nginx-golang',
    context: {
      files: {
        'frontend/package.json': '{\n  "name": "frontend",\n  "scripts": { "build": "react-scripts build" },\n  "dependencies": { "react-scripts": "5.0.1" }\n}\n',
        'frontend/package-lock.json': '{ "lockfileVersion": 3 }\n',
        'frontend/src/App.js': 'export default () => "app";\n',
        'backend/go.mod': 'module example.com/api\n\ngo 1.22\n',
        'backend/go.sum': '',
        'backend/main.go': 'package main\nfunc main() {}\n',
        // Not the same bytes as the react-nginx scenario's nginx.conf: see "Known limits" in docs/accuracy.md.
        'proxy/nginx.conf': 'server { listen 81; server_name proxy; }\n',
        '.dockerignore': '**/node_modules\n**/build\n',
      },
    },
    dockerfile: d(`
      FROM node:20-alpine AS frontend
      WORKDIR /web
      COPY frontend/package.json frontend/package-lock.json ./
      RUN npm ci
      COPY frontend/ ./
      RUN npm run build

      FROM golang:1.22 AS backend
      WORKDIR /api
      COPY backend/go.mod backend/go.sum ./
      RUN go mod download
      COPY backend/ ./
      RUN go build -o /out/api .

      FROM nginx:alpine
      COPY proxy/nginx.conf /etc/nginx/conf.d/default.conf
      COPY --from=frontend /web/build /usr/share/nginx/html
      COPY --from=backend /out/api /usr/local/bin/api
    `),
    edits: [
      edit('backend/main.go changed', ['parallel-stages', 'source-changed'], (ws) => { ws.write('backend/main.go', 'package main\nfunc main() { println(1) }\n'); }),
      edit('frontend/src/App.js and proxy/nginx.conf changed', ['parallel-stages', 'source-changed'], (ws) => {
        ws.write('frontend/src/App.js', 'export default () => "app v2";\n');
        ws.write('proxy/nginx.conf', 'server { listen 8081; server_name proxy; }\n');
      }),
    ],
  }),
  scenario({
    name: 'spring boot: pom.xml and sources',
    modelledOn: 'awesome-compose/spring-postgres/backend',
    context: {
      files: {
        'pom.xml': '<project><artifactId>app</artifactId><version>1.0</version></project>\n',
        'src/main/java/com/company/project/Application.java': 'class Application {}\n',
        'src/main/resources/application.properties': 'server.port=8080\n',
      },
    },
    dockerfile: d(`
      FROM --platform=$BUILDPLATFORM maven:3-eclipse-temurin-17 AS builder
      WORKDIR /workdir/server
      COPY pom.xml /workdir/server/pom.xml
      RUN mvn dependency:go-offline
      COPY src /workdir/server/src
      RUN mvn install

      FROM builder AS prepare-production
      RUN mkdir -p target/dependency
      WORKDIR /workdir/server/target/dependency
      RUN mkdir -p BOOT-INF/lib BOOT-INF/classes META-INF && cp ../app.jar BOOT-INF/lib/

      FROM eclipse-temurin:17-jre
      EXPOSE 8080
      VOLUME /tmp
      ARG DEPENDENCY=/workdir/server/target/dependency
      COPY --from=prepare-production \${DEPENDENCY}/BOOT-INF/lib /app/lib
      COPY --from=prepare-production \${DEPENDENCY}/META-INF /app/META-INF
      COPY --from=prepare-production \${DEPENDENCY}/BOOT-INF/classes /app
      ENTRYPOINT ["java","-cp","app:app/lib/*","com.company.project.Application"]
    `),
    edits: [
      edit('application.properties changed', ['source-changed', 'copy-from-different-output'], (ws) => { ws.write('src/main/resources/application.properties', 'server.port=9090\n'); }),
      edit('pom.xml changed', ['manifest-changed'], (ws) => { ws.replace('pom.xml', '<version>1.0</version>', '<version>1.1</version>'); }),
    ],
  }),
  scenario({
    name: 'dotnet: csproj restore then publish',
    modelledOn: 'awesome-compose/nginx-aspnet-mysql/backend',
    context: {
      files: {
        'aspnetapp.csproj': '<Project Sdk="Microsoft.NET.Sdk.Web"><PropertyGroup><TargetFramework>net8.0</TargetFramework></PropertyGroup></Project>\n',
        'Program.cs': 'var app = WebApplication.Create();\n',
        'appsettings.json': '{ "Logging": {} }\n',
      },
    },
    dockerfile: d(`
      FROM --platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/sdk:8.0 AS base
      WORKDIR /src
      COPY aspnetapp.csproj ./
      RUN ["dotnet", "restore"]

      FROM base as builder
      COPY . .
      RUN dotnet publish -c Release -o /app

      FROM mcr.microsoft.com/dotnet/aspnet:8.0
      WORKDIR /app
      COPY --from=builder /app .
      ENTRYPOINT ["dotnet", "aspnetapp.dll"]
    `),
    edits: [
      edit('Program.cs changed', ['source-changed'], (ws) => { ws.write('Program.cs', 'var app = WebApplication.Create(args);\n'); }),
      edit('aspnetapp.csproj changed', ['manifest-changed'], (ws) => { ws.replace('aspnetapp.csproj', 'net8.0', 'net8.0;net7.0'); }),
    ],
  }),
  scenario({
    name: 'php + composer stage',
    context: {
      files: {
        'composer.json': '{ "require": { "monolog/monolog": "^3.0" } }\n',
        'composer.lock': '{ "packages": [] }\n',
        'public/index.php': '<?php echo "hi";\n',
      },
    },
    dockerfile: d(`
      FROM composer:2 AS vendor
      WORKDIR /app
      COPY composer.json composer.lock ./
      RUN composer install --no-dev --no-scripts

      FROM php:8.2-apache
      COPY --from=vendor /app/vendor /var/www/vendor
      COPY public/ /var/www/html/
    `),
    edits: [
      edit('public/index.php changed', ['source-changed'], (ws) => { ws.write('public/index.php', '<?php echo "hello";\n'); }),
      edit('composer.lock changed', ['manifest-changed', 'copy-from-different-output'], (ws) => { ws.write('composer.lock', '{ "packages": [ { "name": "monolog/monolog" } ] }\n'); }),
    ],
  }),
  // ---- what users do on new engines (issue 12) --------------------------------------------------
  // cache mounts edited in every way: exec.go keeps id/sharing in the key only as the default
  scenario({
    name: 'cache mount: id set, changed, removed',
    context: { files: { 'req.txt': 'x12-cm-a\n' } },
    dockerfile: d(`
      FROM python:3.12-slim
      COPY req.txt /req.txt
      RUN --mount=type=cache,target=/root/.cache/x12a pip install -r /req.txt
      RUN echo after-x12a
    `),
    edits: [
      edit('id=one set', ['cache-mount-options'], (ws) => { ws.editDockerfile('type=cache,target=/root/.cache/x12a', 'type=cache,id=one,target=/root/.cache/x12a'); }),
      edit('id one -> two', ['cache-mount-options'], (ws) => { ws.editDockerfile('id=one,', 'id=two,'); }),
      edit('id removed', ['cache-mount-options', 'revert'], (ws) => { ws.editDockerfile('id=two,', ''); }),
    ],
  }),
  scenario({
    name: 'cache mount: sharing set, changed, set to its default',
    context: { files: { 'req.txt': 'x12-cm-b\n' } },
    dockerfile: d(`
      FROM python:3.12-slim
      COPY req.txt /req.txt
      RUN --mount=type=cache,target=/root/.cache/x12b pip install -r /req.txt
      RUN echo after-x12b
    `),
    edits: [
      edit('sharing=locked', ['cache-mount-options'], (ws) => { ws.editDockerfile('target=/root/.cache/x12b pip', 'target=/root/.cache/x12b,sharing=locked pip'); }),
      edit('sharing locked -> private', ['cache-mount-options'], (ws) => { ws.editDockerfile('sharing=locked', 'sharing=private'); }),
      edit('sharing=shared (the default)', ['cache-mount-options', 'revert'], (ws) => { ws.editDockerfile('sharing=private', 'sharing=shared'); }),
    ],
  }),
  scenario({
    name: 'cache mount: a custom id, then the id set to the target (its default), then removed',
    context: { files: { 'req.txt': 'x12-cm-c\n' } },
    dockerfile: d(`
      FROM python:3.12-slim
      COPY req.txt /req.txt
      RUN --mount=type=cache,id=pipc,target=/root/.cache/x12c pip install -r /req.txt
    `),
    edits: [
      edit('id=/root/.cache/x12c (the default)', ['cache-mount-options'], (ws) => { ws.editDockerfile('id=pipc', 'id=/root/.cache/x12c'); }),
      edit('id removed (same as the default)', ['cache-mount-options'], (ws) => { ws.editDockerfile('id=/root/.cache/x12c,', ''); }),
      edit('id=root/.cache/x12c (no leading slash: not the default)', ['cache-mount-options'], (ws) => { ws.editDockerfile('type=cache,target', 'type=cache,id=root/.cache/x12c,target'); }),
    ],
  }),
  scenario({
    name: 'cache mount: custom id and sharing together, then both removed',
    context: { files: { 'go.mod': 'module x12d\n\ngo 1.22\n', 'main.go': 'package main\n\nfunc main() {}\n' } },
    dockerfile: d(`
      FROM golang:1.22
      WORKDIR /src
      COPY go.mod ./
      RUN --mount=type=cache,id=gomod,sharing=locked,target=/go/pkg/mod go mod download
      COPY main.go ./
      RUN go build -o /app .
    `),
    edits: [
      edit('id gomod -> gomod2, sharing locked -> private', ['cache-mount-options'], (ws) => { ws.editDockerfile('id=gomod,sharing=locked', 'id=gomod2,sharing=private'); }),
      edit('id and sharing removed', ['cache-mount-options', 'revert'], (ws) => { ws.editDockerfile('id=gomod2,sharing=private,', ''); }),
      edit('main.go changed', ['source-changed'], (ws) => { ws.write('main.go', 'package main\n\nfunc main() { println(1) }\n'); }),
    ],
  }),
  scenario({
    name: 'cache mount: relative target (its default id is not the target)',
    context: { files: { 'package.json': '{ "name": "x12e" }\n' } },
    dockerfile: d(`
      FROM node:20
      WORKDIR /app
      COPY package.json ./
      RUN --mount=type=cache,target=.npm-x12e npm install
    `),
    edits: [
      edit('id=npm-x12e set', ['cache-mount-options'], (ws) => { ws.editDockerfile('type=cache,target', 'type=cache,id=npm-x12e,target'); }),
      edit('id removed again', ['cache-mount-options', 'revert'], (ws) => { ws.editDockerfile('id=npm-x12e,', ''); }),
      edit('target .npm-x12e -> .npm-x12f', ['cache-mount'], (ws) => { ws.editDockerfile('target=.npm-x12e', 'target=.npm-x12f'); }),
    ],
  }),
  scenario({
    name: 'cache mount: BUILDKIT_CACHE_MOUNT_NS given, changed',
    context: { files: { 'req.txt': 'x12-cm-g\n' } },
    dockerfile: d(`
      FROM python:3.11-slim
      COPY req.txt /req.txt
      RUN --mount=type=cache,target=/root/.cache/x12g pip install -r /req.txt
      RUN --mount=type=cache,id=custom-x12g,target=/root/.cache/x12h pip install -r /req.txt
    `),
    edits: [
      edit('BUILDKIT_CACHE_MOUNT_NS=team-a', ['cache-mount-options', 'undeclared-build-arg'], (ws) => { ws.buildArgs.BUILDKIT_CACHE_MOUNT_NS = 'team-a'; }),
      edit('BUILDKIT_CACHE_MOUNT_NS=team-b', ['cache-mount-options', 'undeclared-build-arg'], (ws) => { ws.buildArgs.BUILDKIT_CACHE_MOUNT_NS = 'team-b'; }),
      edit('BUILDKIT_CACHE_MOUNT_NS removed', ['cache-mount-options', 'revert'], (ws) => { delete ws.buildArgs.BUILDKIT_CACHE_MOUNT_NS; }),
    ],
  }),

  // --chmod / --chown spellings: one op, another step name
  scenario({
    name: 'COPY --chmod: octal spellings of one mode',
    context: { files: { 'run.sh': 'echo x12-chmod-a\n' } },
    dockerfile: d(`
      FROM alpine
      COPY --chmod=755 run.sh /usr/local/bin/run.sh
      RUN /usr/local/bin/run.sh > /out
    `),
    edits: [
      edit('--chmod=0755', ['copy-chmod-spelling'], (ws) => { ws.editDockerfile('--chmod=755', '--chmod=0755'); }),
      edit('--chmod=00755', ['copy-chmod-spelling'], (ws) => { ws.editDockerfile('--chmod=0755', '--chmod=00755'); }),
      edit('--chmod=0775 (another mode)', ['copy-chmod-spelling'], (ws) => { ws.editDockerfile('--chmod=00755', '--chmod=0775'); }),
    ],
  }),
  scenario({
    name: 'COPY --chmod: another mode, then the first one spelled differently',
    context: { files: { 'conf.ini': 'x12-chmod-b\n' } },
    dockerfile: d(`
      FROM debian:bookworm-slim
      COPY --chmod=0644 conf.ini /etc/app.ini
      RUN cat /etc/app.ini > /seen
    `),
    edits: [
      edit('--chmod=0600', ['copy-chmod-spelling'], (ws) => { ws.editDockerfile('--chmod=0644', '--chmod=0600'); }),
      edit('--chmod=644 (the first mode)', ['copy-chmod-spelling', 'revert'], (ws) => { ws.editDockerfile('--chmod=0600', '--chmod=644'); }),
    ],
  }),
  scenario({
    name: 'COPY --chown: root and 0, then root:root',
    context: { files: { 'data.txt': 'x12-chown-a\n' } },
    dockerfile: d(`
      FROM alpine
      COPY --chown=root data.txt /data.txt
      RUN ls -ln /data.txt > /owner
    `),
    edits: [
      edit('--chown=0', ['copy-chown-spelling'], (ws) => { ws.editDockerfile('--chown=root', '--chown=0'); }),
      edit('--chown=00', ['copy-chown-spelling'], (ws) => { ws.editDockerfile('--chown=0 ', '--chown=00 '); }),
      edit('--chown=root:root (a group too)', ['copy-chown-spelling'], (ws) => { ws.editDockerfile('--chown=00', '--chown=root:root'); }),
    ],
  }),
  scenario({
    name: 'COPY --chown: root:root, 0:0, 0:root',
    context: { files: { 'data2.txt': 'x12-chown-b\n' } },
    dockerfile: d(`
      FROM alpine
      COPY --chown=root:root data2.txt /data2.txt
      RUN ls -ln /data2.txt > /owner2
    `),
    edits: [
      edit('--chown=0:0', ['copy-chown-spelling'], (ws) => { ws.editDockerfile('--chown=root:root', '--chown=0:0'); }),
      edit('--chown=0:root', ['copy-chown-spelling'], (ws) => { ws.editDockerfile('--chown=0:0', '--chown=0:root'); }),
    ],
  }),
  scenario({
    name: 'COPY --chown: a name and its id are different ops',
    context: { files: { 'app.js': 'console.log("x12-chown-c");\n' } },
    dockerfile: d(`
      FROM node:20
      COPY --chown=node:node app.js /home/node/app.js
      RUN ls -ln /home/node/app.js > /owner3
    `),
    edits: [
      edit('--chown=1000:1000 (the same user by id)', ['copy-chown-spelling'], (ws) => { ws.editDockerfile('--chown=node:node', '--chown=1000:1000'); }),
      edit('--chown=1000 (no group)', ['copy-chown-spelling'], (ws) => { ws.editDockerfile('--chown=1000:1000', '--chown=1000'); }),
      edit('--chown=node:node again', ['copy-chown-spelling', 'revert'], (ws) => { ws.editDockerfile('--chown=1000', '--chown=node:node'); }),
    ],
  }),
  scenario({
    name: 'ADD --chmod and --chown spellings',
    context: { files: { 'cert.pem': 'x12-add-chmod\n' } },
    dockerfile: d(`
      FROM debian:bookworm-slim
      ADD --chown=0:0 --chmod=600 cert.pem /etc/cert.pem
      RUN wc -c /etc/cert.pem > /certlen
    `),
    edits: [
      edit('--chown=root:root --chmod=0600', ['copy-chmod-spelling', 'copy-chown-spelling'], (ws) => { ws.editDockerfile('--chown=0:0 --chmod=600', '--chown=root:root --chmod=0600'); }),
      edit('--chmod=0640', ['copy-chmod-spelling'], (ws) => { ws.editDockerfile('--chmod=0600', '--chmod=0640'); }),
    ],
  }),
  scenario({
    name: 'COPY --from with --chmod spelled two ways',
    context: { files: { 'x.txt': 'x12-from-chmod\n' } },
    dockerfile: d(`
      FROM alpine AS gen
      RUN echo x12-gen > /gen.txt

      FROM alpine
      COPY --from=gen --chmod=444 /gen.txt /gen.txt
      COPY x.txt /x.txt
    `),
    edits: [
      edit('--chmod=0444', ['copy-chmod-spelling'], (ws) => { ws.editDockerfile('--chmod=444', '--chmod=0444'); }),
      edit('x.txt changed', ['source-changed'], (ws) => { ws.write('x.txt', 'x12-from-chmod 2\n'); }),
    ],
  }),

  // --platform, moved tags, COPY --link (merge ops on the containerd store)
  scenario({
    name: '--platform given, then not (the cache is per platform)',
    context: { files: { 'p.txt': 'x12-platform\n' } },
    dockerfile: d(`
      FROM alpine
      COPY p.txt /p.txt
      RUN cat /p.txt > /q
    `),
    platform: 'linux/amd64',
    edits: [
      edit('no --platform', ['platform-changed'], (ws) => { ws.platform = undefined; }),
      edit('p.txt changed, --platform linux/amd64 again', ['platform-changed', 'source-changed'], (ws) => { ws.platform = 'linux/amd64'; ws.write('p.txt', 'x12-platform 2\n'); }),
    ],
  }),
  scenario({
    name: 'FROM --platform=$BUILDPLATFORM with and without --platform',
    context: { files: { 'b.txt': 'x12-buildplatform\n' } },
    dockerfile: d(`
      FROM --platform=$BUILDPLATFORM alpine AS tool
      RUN echo x12-tool > /tool

      FROM alpine
      COPY --from=tool /tool /tool
      COPY b.txt /b.txt
    `),
    edits: [
      edit('--platform linux/amd64', ['platform-changed'], (ws) => { ws.platform = 'linux/amd64'; }),
      edit('b.txt changed', ['source-changed'], (ws) => { ws.write('b.txt', 'x12-buildplatform 2\n'); }),
    ],
  }),
  scenario({
    name: 'a build stage\'s base tag moved (retag), then moved back',
    context: { files: { 'go.mod': 'module x12r\n\ngo 1.22\n', 'main.go': 'package main\n\nfunc main() { println("x12r") }\n' } },
    dockerfile: d(`
      FROM golang:1.21-alpine AS build
      WORKDIR /src
      COPY go.mod main.go ./
      RUN go build -o /bin/app .

      FROM alpine:3.19
      COPY --from=build /bin/app /usr/local/bin/app
      RUN echo x12r-final
    `),
    edits: [
      edit('golang:1.21-alpine now points to another image', ['base-image-moved'], (ws) => { ws.retag('golang:1.21-alpine', 'v3'); }),
      edit('golang:1.21-alpine moved back', ['base-image-moved', 'revert'], (ws) => { ws.retag('golang:1.21-alpine', 'base'); }),
    ],
    cleanup: (ws) => { ws.retag('golang:1.21-alpine', 'base'); },
  }),
  scenario({
    name: 'COPY --link: the linked file changes, then a step below it',
    context: { files: { 'link.conf': 'x12-link-a\n' } },
    dockerfile: d(`
      FROM alpine
      RUN echo x12-link-base > /base
      COPY --link link.conf /etc/link.conf
      RUN cat /etc/link.conf > /seen-link
    `),
    edits: [
      edit('link.conf changed', ['source-changed', 'copy-link-after-miss'], (ws) => { ws.write('link.conf', 'x12-link-a 2\n'); }),
      edit('the RUN below COPY --link changed', ['run-changed', 'copy-link-after-miss'], (ws) => { ws.editDockerfile('x12-link-base', 'x12-link-base2'); }),
      edit('reverted both', ['revert'], (ws) => { ws.editDockerfile('x12-link-base2', 'x12-link-base'); ws.write('link.conf', 'x12-link-a\n'); }),
    ],
  }),
  scenario({
    name: 'COPY --link --chmod (no merge op) and COPY --link --from',
    context: { files: { 'tool.sh': 'echo x12-link-b\n' } },
    dockerfile: d(`
      FROM alpine AS gen
      RUN echo x12-link-gen > /gen

      FROM alpine
      RUN echo x12-link-b-base > /base
      COPY --link --chmod=755 tool.sh /usr/local/bin/tool.sh
      COPY --link --from=gen /gen /gen
      RUN ls /usr/local/bin/tool.sh /gen > /listing
    `),
    edits: [
      edit('the RUN below both COPY --link changed', ['run-changed', 'copy-link-after-miss'], (ws) => { ws.editDockerfile('x12-link-b-base', 'x12-link-b-base2'); }),
      edit('stage gen changed', ['copy-from-different-output'], (ws) => { ws.editDockerfile('x12-link-gen', 'x12-link-gen2'); }),
    ],
  }),
  scenario({
    name: 'two stages with the same steps and a COPY --link each',
    context: { files: { 'shared.txt': 'x12-dedup\n' } },
    dockerfile: d(`
      FROM alpine AS one
      RUN echo x12-dedup-run > /r
      COPY --link shared.txt /shared.txt

      FROM alpine AS two
      RUN echo x12-dedup-run > /r
      COPY --link shared.txt /shared.txt

      FROM alpine
      COPY --from=one /shared.txt /one.txt
      COPY --from=two /r /two-r
    `),
    edits: [
      edit('shared.txt changed', ['source-changed', 'duplicate-steps'], (ws) => { ws.write('shared.txt', 'x12-dedup 2\n'); }),
    ],
  }),

  // COPY --exclude (Docker 28.5's built-in frontend), SOURCE_DATE_EPOCH, --no-cache-filter, secrets
  scenario({
    name: 'COPY --exclude: an excluded file changes, then a copied one',
    engines: EXCLUDE_ENGINES,
    context: { files: { 'src/app.js': 'console.log("x12-exclude");\n', 'src/README.md': '# x12\n', 'src/notes.md': 'n\n' } },
    dockerfile: d(`
      FROM node:20
      WORKDIR /app
      COPY --exclude=*.md src/ ./src/
      RUN ls -R src > /listing
    `),
    edits: [
      edit('src/README.md (excluded) changed', ['ignored-file-changed', 'copy-exclude'], (ws) => { ws.write('src/README.md', '# x12 v2\n'); }),
      edit('src/app.js changed', ['source-changed', 'copy-exclude'], (ws) => { ws.write('src/app.js', 'console.log("x12-exclude 2");\n'); }),
      edit('a second --exclude=*.txt added', ['copy-exclude'], (ws) => { ws.editDockerfile('--exclude=*.md', '--exclude=*.md --exclude=*.txt'); }),
    ],
  }),
  scenario({
    name: 'COPY --exclude: a new file matching the pattern',
    engines: EXCLUDE_ENGINES,
    context: { files: { 'web/index.html': '<p>x12</p>\n', 'web/debug.log': 'x\n' } },
    dockerfile: d(`
      FROM nginx:alpine
      COPY --exclude=*.log web/ /usr/share/nginx/html/
    `),
    edits: [
      edit('web/trace.log added (excluded)', ['file-added', 'copy-exclude'], (ws) => { ws.write('web/trace.log', 't\n'); }),
      edit('web/about.html added', ['file-added', 'copy-exclude'], (ws) => { ws.write('web/about.html', '<p>about</p>\n'); }),
    ],
  }),
  scenario({
    name: 'SOURCE_DATE_EPOCH set, changed, removed (WORKDIR respects it in newer frontends)',
    context: { files: { 'e.txt': 'x12-epoch\n' } },
    dockerfile: d(`
      FROM alpine
      WORKDIR /x12-epoch
      COPY e.txt ./
      RUN cat e.txt > /e-out
    `),
    edits: [
      edit('SOURCE_DATE_EPOCH=1700000000', ['source-date-epoch'], (ws) => { ws.buildArgs.SOURCE_DATE_EPOCH = '1700000000'; }),
      edit('SOURCE_DATE_EPOCH=1700000001', ['source-date-epoch'], (ws) => { ws.buildArgs.SOURCE_DATE_EPOCH = '1700000001'; }),
      edit('SOURCE_DATE_EPOCH removed', ['source-date-epoch', 'revert'], (ws) => { delete ws.buildArgs.SOURCE_DATE_EPOCH; }),
    ],
  }),
  scenario({
    name: '--no-cache-filter deps: that stage always rebuilds',
    context: { files: { 'package.json': '{ "name": "x12-ncf" }\n', 'src/index.js': 'console.log("x12-ncf");\n' } },
    dockerfile: d(`
      FROM node:20 AS deps
      WORKDIR /app
      COPY package.json ./
      RUN npm install

      FROM node:20
      WORKDIR /srv
      COPY src ./src
      COPY --from=deps /app/node_modules ./node_modules
    `),
    cliArgs: ['--no-cache-filter', 'deps'],
    edits: [
      edit('src/index.js changed', ['source-changed', 'no-cache-filter'], (ws) => { ws.write('src/index.js', 'console.log("x12-ncf 2");\n'); }),
      edit('nothing changed', ['no-cache-filter'], () => { /* an unchanged rebuild */ }),
    ],
  }),
  scenario({
    name: 'RUN --mount=type=secret: its content is not in the key, its id and target are',
    context: { files: { '.dockerignore': 'secret.txt\n', 'secret.txt': 'x12-secret-1\n', 'app.txt': 'x12-app\n' } },
    dockerfile: d(`
      FROM alpine
      COPY app.txt /app.txt
      RUN --mount=type=secret,id=tok,target=/run/secrets/tok wc -c /run/secrets/tok > /toklen
      RUN echo after-secret
    `),
    dockerArgs: (dir) => ['--secret', `id=tok,src=${dir}/secret.txt`, '--secret', `id=tok2,src=${dir}/secret.txt`],
    edits: [
      edit('the secret\'s content changed', ['secret-mount', 'ignored-file-changed'], (ws) => { ws.write('secret.txt', 'x12-secret-2 longer\n'); }),
      edit('secret target changed', ['secret-mount'], (ws) => { ws.editDockerfile('target=/run/secrets/tok wc -c /run/secrets/tok', 'target=/run/secrets/tok-b wc -c /run/secrets/tok-b'); }),
      edit('secret id tok -> tok2', ['secret-mount'], (ws) => { ws.editDockerfile('id=tok,', 'id=tok2,'); }),
    ],
  }),
];
