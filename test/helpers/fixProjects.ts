/**
 * Sample projects for the fix-safety suite (test/engine/fixes.test.ts): small recreations of real
 * projects in docker/awesome-compose (their Dockerfile, .dockerignore and dependency manifests as
 * published, the rest of their tree as placeholder sources; see /work/shared/corpus/awesome-compose)
 * and projects of our own for the ecosystems awesome-compose lacks, each with a Dockerfile that is
 * badly ordered for the cache. Base images are the engine's stand-ins (scripts/engine.sh), so tags
 * the engine lacks are replaced by the nearest one it has, `# syntax=` lines are dropped (no
 * registry) and `dev-envs` stages that pull `gloursdocker/docker` are left out.
 */

export type Ecosystem =
  | 'npm' | 'yarn' | 'pnpm' | 'pip' | 'poetry' | 'uv' | 'go' | 'cargo' | 'maven' | 'gradle' | 'bundler' | 'composer' | 'dotnet';

/** A change a developer makes between two builds. */
export type ProjectEdit =
  | { kind: 'file'; path: string; content: string; description: string }
  | { kind: 'build-arg'; name: string; value: string; description: string };

export interface FixProject {
  name: string;
  ecosystem: Ecosystem;
  /** The awesome-compose sample it recreates (`<sample>/<dir>`), or undefined for our own. */
  modelledOn: string | undefined;
  /** How the Dockerfile differs from the published one (or what it is, for our own). */
  variant: string;
  /** Relative path -> content; `Dockerfile` is the one the fixes are computed for. */
  files: Record<string, string>;
  /** Files to make executable. */
  executables?: string[];
  buildArgs?: Record<string, string>;
  /** A typical change to an application source file. */
  sourceEdit: ProjectEdit;
  /**
   * Rules (by name, without the `cache/` prefix) whose benefit shows with another change than a
   * source edit (a build arg's value for `arg-declared-early`, a commit for
   * `context-not-ignored`): that change is measured instead.
   */
  ruleEdits?: Record<string, ProjectEdit>;
}

const lines = (...ls: string[]): string => ls.join('\n') + '\n';

// ------------------------------------------------------------------------------------------------
// Manifests copied from awesome-compose (18f59bdb)
// ------------------------------------------------------------------------------------------------

const REACT_EXPRESS_MYSQL_PACKAGE_JSON = `{
  "name": "node-docker-good-defaults",
  "private": true,
  "version": "2.0.1",
  "description": "Node.js Hello world app using docker features for easy docker compose local dev and solid production defaults",
  "author": "Bret Fisher <bret@bretfisher.com>",
  "main": "src/index.js",
  "scripts": {
    "start": "node src/index.js",
    "start-watch": "nodemon src/index.js --inspect=0.0.0.0:9229",
    "start-wait-debuger": "nodemon src/index.js --inspect-brk=0.0.0.0:9229",
    "test": "cross-env NODE_ENV=test PORT=8081 mocha --timeout 10000 --exit --inspect=0.0.0.0:9230",
    "test-watch": "nodemon --exec \\"npm test\\"",
    "test-wait-debuger": "cross-env NODE_ENV=test PORT=8081 mocha --no-timeouts --exit --inspect-brk=0.0.0.0:9230"
  },
  "dependencies": {
    "express": "^4.17.1",
    "knex": "^0.95.11",
    "morgan": "^1.10.0",
    "mysql2": "^2.1.0"
  },
  "devDependencies": {
    "chai": "^4.2.0",
    "chai-http": "^4.3.0",
    "cross-env": "^7.0.2",
    "mocha": "^9.2.2",
    "nodemon": "^2.0.4"
  }
}
`;

const NODEJS_REDIS_PACKAGE_JSON = `{
  "name": "web",
  "version": "1.0.0",
  "description": "Running Node.js and Express.js on Docker",
  "main": "server.js",
  "scripts": {
    "start": "node server.js"
  },
  "dependencies": {
    "express": "^4.17.2",
    "redis": "3.1.2"
  },
  "author": "",
  "license": "MIT"
}
`;

const VUEJS_PACKAGE_JSON = `{
  "name": "vuejs",
  "version": "0.1.0",
  "private": true,
  "scripts": {
    "serve": "vue-cli-service serve",
    "build": "vue-cli-service build",
    "lint": "vue-cli-service lint"
  },
  "dependencies": {
    "ci": "^2.2.0",
    "core-js": "^3.14.0",
    "vue": "^2.6.14"
  },
  "devDependencies": {
    "@babel/eslint-parser": "^7.15.8",
    "@vue/cli-plugin-babel": "^5.0.1",
    "@vue/cli-plugin-eslint": "^5.0.1",
    "@vue/cli-service": "^5.0.1",
    "eslint": "^7.32.0",
    "eslint-plugin-vue": "^7.19.1",
    "vue-template-compiler": "^2.6.14"
  },
  "resolutions": {
    "glob-parent": "5.1.2",
    "set-value": "4.0.1",
    "nth-check": "2.0.1",
    "ansi-regex": "5.0.1"
  },
  "browserslist": [
    "> 1%",
    "last 2 versions"
  ]
}
`;

const NGINX_GOLANG_GO_MOD = lines(
  'module github.com/docker/awesome-compose/nginx-golang/backend',
  '',
  'go 1.18',
  '',
  'require github.com/go-chi/chi/v5 v5.0.7',
);

const NGINX_GOLANG_GO_SUM = lines(
  'github.com/go-chi/chi/v5 v5.0.7 h1:rDTPXLDHGATaeHvVlLcR4Qe0zftYethFucbjVQ1PxU8=',
  'github.com/go-chi/chi/v5 v5.0.7/go.mod h1:DslCQbL2OYiznFReuXYUmQ2hGd1aDpCnlMNITLSKoi8=',
);

const RUST_CARGO_TOML = lines(
  '[package]',
  'name = "react-rust-postgres"',
  'version = "0.1.0"',
  'authors = ["Jérémie Drouet <jeremie.drouet@gmail.com>"]',
  'edition = "2018"',
  '',
  '# See more keys and their definitions at https://doc.rust-lang.org/cargo/reference/manifest.html',
  '',
  '[dependencies]',
  'actix-web = "4.0.0-beta.8"',
  'deadpool-postgres = "0.9.0"',
  'env_logger = "^0.8"',
  'log = "^0.4"',
  'serde = "1.0"',
  'serde_json = "1.0"',
  'tokio-postgres = "^0.7"',
  'tokio-postgres-migration = "^0.1"',
);

/** The spring-postgres sample's build step and its production stage, simplified (the stand-in has no `jar` tool). */
const SPRING_BUILD_AND_RUNTIME = [
  'RUN mvn install',
  '',
  'FROM eclipse-temurin:17-jre',
  '',
  'EXPOSE 8080',
  'VOLUME /tmp',
  'COPY --from=builder /workdir/server/target/app.jar /app/app.jar',
  'ENTRYPOINT ["java","-jar","/app/app.jar"]',
];

const SPRING_POM_XML = `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
         xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 http://maven.apache.org/xsd/maven-4.0.0.xsd">
    <modelVersion>4.0.0</modelVersion>

    <groupId>com.company</groupId>
    <artifactId>project</artifactId>
    <version>0.0.1-SNAPSHOT</version>
    <packaging>jar</packaging>

    <name>New App</name>
    <description>My new SpringBoot app</description>

    <parent>
        <groupId>org.springframework.boot</groupId>
        <artifactId>spring-boot-starter-parent</artifactId>
        <version>2.2.5.RELEASE</version>
        <relativePath/>
    </parent>

    <properties>
        <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
        <project.reporting.outputEncoding>UTF-8</project.reporting.outputEncoding>
        <java.version>11</java.version>
    </properties>

    <dependencies>
        <dependency>
            <groupId>org.springframework.boot</groupId>
            <artifactId>spring-boot-starter-web</artifactId>
        </dependency>
        <dependency>
            <groupId>org.springframework.boot</groupId>
            <artifactId>spring-boot-starter-freemarker</artifactId>
        </dependency>
        <dependency>
            <groupId>org.springframework.boot</groupId>
            <artifactId>spring-boot-starter-data-jpa</artifactId>
        </dependency>
        <dependency>
            <groupId>org.postgresql</groupId>
            <artifactId>postgresql</artifactId>
            <scope>runtime</scope>
        </dependency>
    </dependencies>

    <build>
        <plugins>
            <plugin>
                <groupId>org.springframework.boot</groupId>
                <artifactId>spring-boot-maven-plugin</artifactId>
            </plugin>
        </plugins>
    </build>
</project>
`;

const ASPNET_CSPROJ = `<Project Sdk="Microsoft.NET.Sdk.Web">
  <PropertyGroup>
    <TargetFramework>net5.0</TargetFramework>
  </PropertyGroup>
</Project>`;

// ------------------------------------------------------------------------------------------------
// Placeholders
// ------------------------------------------------------------------------------------------------

/** A small package-lock.json (the real ones are 15-100 kB); content only has to be stable. */
function packageLock(name: string, deps: Record<string, string>): string {
  const packages: Record<string, unknown> = { '': { name, dependencies: deps } };
  for (const [dep, range] of Object.entries(deps)) {
    const version = range.replace(/^[\^~]/, '');
    packages[`node_modules/${dep}`] = { version, resolved: `https://registry.npmjs.org/${dep}/-/${dep.replace(/^@[^/]+\//, '')}-${version}.tgz`, integrity: 'sha512-placeholder' };
  }
  return JSON.stringify({ name, lockfileVersion: 3, requires: true, packages }, null, 2) + '\n';
}

const js = (what: string): string => `// ${what} (placeholder source)\nmodule.exports = {};\n`;

// ------------------------------------------------------------------------------------------------
// Projects
// ------------------------------------------------------------------------------------------------

export const FIX_PROJECTS: readonly FixProject[] = [
  {
    name: 'react-express-mysql-backend',
    ecosystem: 'npm',
    modelledOn: 'react-express-mysql/backend',
    variant: 'the two manifest COPYs before `RUN npm ci` replaced by the later `COPY . /code` (source before install)',
    files: {
      Dockerfile: lines(
        '# if you\'re doing anything beyond your local machine, please pin this to a specific version at https://hub.docker.com/_/node/',
        'FROM node:lts AS development',
        '',
        '# set our node environment, either development or production',
        '# defaults to production, compose overrides this to development on build and run',
        'ARG NODE_ENV=production',
        'ENV NODE_ENV $NODE_ENV',
        '',
        'WORKDIR /code',
        '',
        '# default to port 80 for node, and 9229 and 9230 (tests) for debug',
        'ARG PORT=80',
        'ENV PORT $PORT',
        'EXPOSE $PORT 9229 9230',
        '',
        '# copy in our source code',
        'COPY . /code',
        'RUN npm ci',
        '',
        '# check every 30s to ensure this service returns HTTP 200',
        'HEALTHCHECK --interval=30s \\',
        '  CMD node healthcheck.js',
        '',
        '# if you want to use npm start instead, then use `docker run --init in production`',
        'CMD [ "node", "src/index.js" ]',
      ),
      'package.json': REACT_EXPRESS_MYSQL_PACKAGE_JSON,
      'package-lock.json': packageLock('node-docker-good-defaults', { express: '^4.17.1', knex: '^0.95.11', morgan: '^1.10.0', mysql2: '^2.1.0' }),
      'LICENSE': 'MIT License (placeholder)\n',
      'README.md': '# react-express-mysql backend\n',
      'healthcheck.js': js('HTTP 200 check'),
      'src/config.js': js('config'),
      'src/database.js': js('knex connection'),
      'src/index.js': js('entry point'),
      'src/server.js': js('express app'),
      'test/sample.js': js('mocha test'),
    },
    sourceEdit: { kind: 'file', path: 'src/server.js', content: js('express app, new route'), description: 'change src/server.js' },
  },
  {
    name: 'nginx-nodejs-redis-web',
    ecosystem: 'npm',
    modelledOn: 'nginx-nodejs-redis/web',
    variant: '`COPY package.json package-lock.json ./` + `COPY ./server.js ./` replaced by one `COPY . .` before `RUN npm ci`; the developer ran `npm install` locally (node_modules/ in the tree, listed in .gitignore; the sample has no .dockerignore), plus a .git directory',
    files: {
      Dockerfile: lines(
        'FROM node:20-alpine',
        '',
        'WORKDIR /usr/src/app',
        '',
        'COPY . .',
        'RUN npm ci',
        '',
        'CMD ["npm","start"]',
      ),
      'package.json': NODEJS_REDIS_PACKAGE_JSON,
      'package-lock.json': packageLock('web', { express: '^4.17.2', redis: '3.1.2' }),
      'server.js': js('express + redis counter'),
      '.gitignore': 'node_modules\n',
      'node_modules/.package-lock.json': '{"name":"web","lockfileVersion":3}\n',
      'node_modules/express/package.json': '{"name":"express","version":"4.17.2"}\n',
      'node_modules/redis/package.json': '{"name":"redis","version":"3.1.2"}\n',
      '.git/HEAD': 'ref: refs/heads/main\n',
      '.git/config': '[core]\n\trepositoryformatversion = 0\n',
      '.git/refs/heads/main': '4f1c0ffee4f1c0ffee4f1c0ffee4f1c0ffee4f1c\n',
    },
    sourceEdit: { kind: 'file', path: 'server.js', content: js('express + redis counter, new greeting'), description: 'change server.js' },
    ruleEdits: {
      'context-not-ignored': { kind: 'file', path: '.git/refs/heads/main', content: '9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a\n', description: 'a commit (.git/refs/heads/main moves)' },
    },
  },
  {
    name: 'vuejs',
    ecosystem: 'yarn',
    modelledOn: 'vuejs/vuejs',
    variant: 'as published (`COPY . .` before `RUN yarn global add @vue/cli` and `RUN yarn install`); base node:14.4.0-alpine -> node:20-alpine',
    files: {
      Dockerfile: lines(
        'FROM --platform=$BUILDPLATFORM node:20-alpine AS development',
        '',
        'RUN mkdir /project',
        'WORKDIR /project',
        '',
        'COPY . .',
        '',
        'RUN yarn global add @vue/cli',
        'RUN yarn install',
        'ENV HOST=0.0.0.0',
        'CMD ["yarn", "run", "serve"]',
      ),
      'package.json': VUEJS_PACKAGE_JSON,
      'yarn.lock': lines(
        '# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.',
        '# yarn lockfile v1',
        '',
        '',
        'vue@^2.6.14:',
        '  version "2.6.14"',
        '  resolved "https://registry.yarnpkg.com/vue/-/vue-2.6.14.tgz"',
      ),
      'README.md': '# vuejs\n',
      'babel.config.js': 'module.exports = { presets: ["@vue/cli-plugin-babel/preset"] };\n',
      'public/favicon.ico': 'ico placeholder\n',
      'public/index.html': '<!DOCTYPE html><html><body><div id="app"></div></body></html>\n',
      'src/App.vue': '<template><HelloWorld msg="Hello"/></template>\n',
      'src/assets/logo.png': 'png placeholder\n',
      'src/components/HelloWorld.vue': '<template><h1>{{ msg }}</h1></template>\n',
      'src/main.js': 'import Vue from "vue";\n',
    },
    sourceEdit: { kind: 'file', path: 'src/components/HelloWorld.vue', content: '<template><h1>{{ msg }}!</h1></template>\n', description: 'change src/components/HelloWorld.vue' },
  },
  {
    name: 'flask',
    ecosystem: 'pip',
    modelledOn: 'flask/app',
    variant: '`COPY requirements.txt /app` dropped and `COPY . /app` moved before the install, whose `--mount=type=cache,target=/root/.cache/pip` is removed',
    files: {
      Dockerfile: lines(
        'FROM --platform=$BUILDPLATFORM python:3.10-alpine AS builder',
        '',
        'WORKDIR /app',
        '',
        'COPY . /app',
        'RUN pip3 install -r requirements.txt',
        '',
        'ENTRYPOINT ["python3"]',
        'CMD ["app.py"]',
      ),
      'requirements.txt': 'flask\n',
      'app.py': 'from flask import Flask\napp = Flask(__name__)\n',
    },
    sourceEdit: { kind: 'file', path: 'app.py', content: 'from flask import Flask\napp = Flask(__name__)\n\n@app.route("/")\ndef hello():\n    return "hello"\n', description: 'change app.py' },
  },
  {
    name: 'django',
    ecosystem: 'pip',
    modelledOn: 'django/app',
    variant: 'base python:3.7-alpine -> python:3.12-slim with the PostgreSQL client headers most Django images install (`apt-get install libpq-dev gcc`), placed after `COPY . /app`, which also moved before `pip3 install` (the sample copies requirements.txt first)',
    files: {
      Dockerfile: lines(
        'FROM --platform=$BUILDPLATFORM python:3.12-slim AS builder',
        'EXPOSE 8000',
        'WORKDIR /app',
        'COPY . /app',
        'RUN apt-get update \\',
        '    && apt-get install -y --no-install-recommends libpq-dev gcc \\',
        '    && rm -rf /var/lib/apt/lists/*',
        'RUN pip3 install -r requirements.txt --no-cache-dir',
        'ENTRYPOINT ["python3"]',
        'CMD ["manage.py", "runserver", "0.0.0.0:8000"]',
      ),
      'requirements.txt': 'Django==3.2.13\nenvirons==7.3.1',
      'manage.py': '#!/usr/bin/env python\nimport os, sys\n',
      'example/__init__.py': '',
      'example/settings.py': 'DEBUG = False\n',
      'example/urls.py': 'urlpatterns = []\n',
      'example/wsgi.py': 'application = None\n',
    },
    executables: ['manage.py'],
    sourceEdit: { kind: 'file', path: 'example/urls.py', content: 'from django.urls import path\nurlpatterns = []\n', description: 'change example/urls.py' },
  },
  {
    name: 'fastapi-poetry',
    ecosystem: 'poetry',
    modelledOn: 'fastapi',
    variant: 'our own: the fastapi sample\'s app/ tree with Poetry instead of requirements.txt, `COPY . .` before `RUN poetry install --no-root`',
    files: {
      Dockerfile: lines(
        'FROM python:3.12-slim',
        '',
        'ENV PYTHONDONTWRITEBYTECODE=1 \\',
        '    POETRY_VIRTUALENVS_CREATE=false',
        'WORKDIR /app',
        'RUN pip install poetry==1.8.2',
        '',
        'COPY . .',
        'RUN poetry install --no-root --only main',
        '',
        'EXPOSE 80',
        'CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "80"]',
      ),
      '.dockerignore': '__pycache__\n.venv\n',
      'pyproject.toml': lines(
        '[tool.poetry]',
        'name = "fastapi-app"',
        'version = "0.1.0"',
        'description = ""',
        'authors = ["Example <dev@example.com>"]',
        '',
        '[tool.poetry.dependencies]',
        'python = "^3.12"',
        'fastapi = "^0.110"',
        'uvicorn = "^0.29"',
        '',
        '[build-system]',
        'requires = ["poetry-core"]',
        'build-backend = "poetry.core.masonry.api"',
      ),
      'poetry.lock': lines('# This file is automatically @generated by Poetry 1.8.2 and should not be changed by hand.', '', '[[package]]', 'name = "fastapi"', 'version = "0.110.0"'),
      'README.md': '# fastapi\n',
      'app/__init__.py': '',
      'app/main.py': 'from fastapi import FastAPI\napp = FastAPI()\n',
    },
    sourceEdit: { kind: 'file', path: 'app/main.py', content: 'from fastapi import FastAPI\napp = FastAPI()\n\n@app.get("/")\ndef root():\n    return {"message": "Hello World"}\n', description: 'change app/main.py' },
  },
  {
    name: 'uv-service',
    ecosystem: 'uv',
    modelledOn: undefined,
    variant: 'our own: a uv project (src layout, installed into .venv by `uv sync`), `COPY . .` before `RUN uv sync --frozen --no-dev`',
    files: {
      Dockerfile: lines(
        'FROM python:3.12-slim',
        'WORKDIR /app',
        'COPY . .',
        'RUN uv sync --frozen --no-dev',
        'ENV PATH="/app/.venv/bin:$PATH"',
        'CMD ["python", "-m", "service"]',
      ),
      '.dockerignore': '.venv\n__pycache__\n',
      '.python-version': '3.12\n',
      'pyproject.toml': lines(
        '[project]',
        'name = "service"',
        'version = "0.1.0"',
        'requires-python = ">=3.12"',
        'dependencies = ["httpx>=0.27"]',
        '',
        '[build-system]',
        'requires = ["hatchling"]',
        'build-backend = "hatchling.build"',
      ),
      'uv.lock': lines('version = 1', 'requires-python = ">=3.12"', '', '[[package]]', 'name = "httpx"', 'version = "0.27.0"'),
      'README.md': '# service\n',
      'src/service/__init__.py': '',
      'src/service/__main__.py': 'print("service")\n',
    },
    sourceEdit: { kind: 'file', path: 'src/service/__main__.py', content: 'print("service v2")\n', description: 'change src/service/__main__.py' },
  },
  {
    name: 'nginx-golang-backend',
    ecosystem: 'go',
    modelledOn: 'nginx-golang/backend',
    variant: '`COPY go.mod go.sum ./` dropped and `COPY . .` moved before `go mod download`; an `ARG APP_VERSION` declared at the top of the stage and used only by `go build`; base golang:1.18-alpine -> golang:1.22-alpine',
    files: {
      Dockerfile: lines(
        'FROM --platform=$BUILDPLATFORM golang:1.22-alpine AS builder',
        'ARG APP_VERSION=dev',
        '',
        'WORKDIR /code',
        '',
        'ENV CGO_ENABLED 0',
        'ENV GOPATH /go',
        'ENV GOCACHE /go-build',
        '',
        'COPY . .',
        'RUN --mount=type=cache,target=/go/pkg/mod/cache \\',
        '    go mod download',
        '',
        'RUN --mount=type=cache,target=/go/pkg/mod/cache \\',
        '    --mount=type=cache,target=/go-build \\',
        '    go build -ldflags "-X main.version=${APP_VERSION}" -o bin/backend main.go',
        '',
        'CMD ["/code/bin/backend"]',
        '',
        'FROM scratch',
        'COPY --from=builder /code/bin/backend /usr/local/bin/backend',
        'CMD ["/usr/local/bin/backend"]',
      ),
      'go.mod': NGINX_GOLANG_GO_MOD,
      'go.sum': NGINX_GOLANG_GO_SUM,
      'main.go': 'package main\n\nfunc main() {}\n',
    },
    sourceEdit: { kind: 'file', path: 'main.go', content: 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hi") }\n', description: 'change main.go' },
    ruleEdits: {
      'arg-declared-early': { kind: 'build-arg', name: 'APP_VERSION', value: '1.0.1', description: 'a new --build-arg APP_VERSION' },
    },
  },
  {
    name: 'react-rust-postgres-backend',
    ecosystem: 'cargo',
    modelledOn: 'react-rust-postgres/backend',
    variant: '`COPY Cargo.toml /code/Cargo.toml` dropped and `COPY . /code` moved before `RUN cargo fetch`; the OpenSSL headers most Rust web images install (`apt-get install pkg-config libssl-dev`) added after that COPY; the dev-envs stage left out; base rust:buster -> rust:1.77, debian:buster-slim -> debian:bookworm-slim',
    files: {
      Dockerfile: lines(
        'FROM rust:1.77 AS base',
        '',
        'ENV USER=root',
        'ENV ROCKET_ADDRESS=0.0.0.0',
        'ENV ROCKET_ENV=development',
        '',
        'WORKDIR /code',
        'RUN cargo init',
        'COPY . /code',
        'RUN apt-get update && apt-get install -y --no-install-recommends pkg-config libssl-dev',
        'RUN cargo fetch',
        '',
        'FROM base AS development',
        '',
        'EXPOSE 8000',
        '',
        'CMD [ "cargo", "run", "--offline" ]',
        '',
        'FROM base AS builder',
        '',
        'RUN cargo build --release --offline',
        '',
        'FROM debian:bookworm-slim',
        '',
        'ENV ROCKET_ENV=production',
        '',
        'EXPOSE 8000',
        '',
        'COPY --from=builder /code/target/release/react-rust-postgres /react-rust-postgres',
        '',
        'CMD [ "/react-rust-postgres" ]',
      ),
      '.dockerignore': 'target\nCargo.lock\n',
      '.gitignore': 'target\n',
      'Cargo.toml': RUST_CARGO_TOML,
      'migrations/.gitkeep': '',
      'migrations/0001_create-users_down.sql': 'DROP TABLE users;\n',
      'migrations/0001_create-users_up.sql': 'CREATE TABLE users (id serial primary key);\n',
      'readme.md': '# backend\n',
      'src/main.rs': 'mod postgres;\nmod user;\nfn main() {}\n',
      'src/postgres.rs': '// pool\n',
      'src/user.rs': '// user routes\n',
    },
    sourceEdit: { kind: 'file', path: 'src/user.rs', content: '// user routes: list users\n', description: 'change src/user.rs' },
  },
  {
    name: 'spring-postgres-backend',
    ecosystem: 'maven',
    modelledOn: 'spring-postgres/backend',
    variant: '`COPY pom.xml` + `COPY src` replaced by one `COPY . /workdir/server` before `mvn dependency:go-offline`; the production stages simplified to one that copies the jar (the stand-in has no `jar` tool); base tags -> maven:3-eclipse-temurin-17 / eclipse-temurin:17-jre',
    files: {
      Dockerfile: lines(
        'FROM --platform=$BUILDPLATFORM maven:3-eclipse-temurin-17 AS builder',
        'WORKDIR /workdir/server',
        'COPY . /workdir/server',
        'RUN mvn dependency:go-offline',
        '',
        ...SPRING_BUILD_AND_RUNTIME,
      ),
      'pom.xml': SPRING_POM_XML,
      'src/main/java/com/company/project/Application.java': 'package com.company.project;\npublic class Application {}\n',
      'src/main/java/com/company/project/controllers/HomeController.java': 'package com.company.project.controllers;\npublic class HomeController {}\n',
      'src/main/java/com/company/project/entity/Greeting.java': 'package com.company.project.entity;\npublic class Greeting {}\n',
      'src/main/java/com/company/project/repository/GreetingRepository.java': 'package com.company.project.repository;\npublic interface GreetingRepository {}\n',
      'src/main/resources/application.properties': 'spring.datasource.url=jdbc:postgresql://db:5432/example\n',
      'src/main/resources/data.sql': 'INSERT INTO greetings VALUES (1, \'hello\');\n',
      'src/main/resources/schema.sql': 'CREATE TABLE greetings (id int, name text);\n',
      'src/main/resources/templates/home.ftlh': '<h1>${message}</h1>\n',
    },
    sourceEdit: { kind: 'file', path: 'src/main/java/com/company/project/controllers/HomeController.java', content: 'package com.company.project.controllers;\npublic class HomeController { String home() { return "home"; } }\n', description: 'change HomeController.java' },
  },
  {
    name: 'aspnet-mssql-app',
    ecosystem: 'dotnet',
    modelledOn: 'aspnet-mssql/app/aspnetapp',
    variant: 'the usual template order (`WORKDIR /src`, then `COPY . .`) with an explicit `RUN dotnet restore` before the build; the published file (`COPY . /src` before `WORKDIR`, with a `RUN ls` between) gets the diagnostic but no automatic fix; base tags 5.0 -> 8.0',
    files: {
      Dockerfile: lines(
        'FROM mcr.microsoft.com/dotnet/aspnet:8.0 as base',
        'WORKDIR /app',
        '',
        'FROM mcr.microsoft.com/dotnet/sdk:8.0 AS build',
        'WORKDIR /src',
        'COPY . .',
        'RUN dotnet restore "aspnetapp.csproj"',
        'RUN dotnet build "aspnetapp.csproj" -c Release -o /app/build',
        '',
        'FROM build AS publish',
        'RUN dotnet publish "aspnetapp.csproj" -c Release -o /app/publish',
        '',
        'FROM base AS final',
        'WORKDIR /app',
        'COPY --from=publish /app/publish .',
        'ENTRYPOINT ["dotnet", "aspnetapp.dll"]',
      ),
      '.gitignore': 'bin/\nobj/\n',
      'aspnetapp.csproj': ASPNET_CSPROJ,
      'Program.cs': '// Program (placeholder)\n',
      'Startup.cs': '// Startup (placeholder)\n',
      'Controllers/HomeController.cs': '// HomeController (placeholder)\n',
      'Models/ErrorViewModel.cs': '// ErrorViewModel (placeholder)\n',
      'Views/Home/Index.cshtml': '<h1>Welcome</h1>\n',
      'Views/Shared/_Layout.cshtml': '@RenderBody()\n',
      'appsettings.json': '{ "Logging": { "LogLevel": { "Default": "Information" } } }\n',
      'wwwroot/css/site.css': 'body { margin: 0; }\n',
    },
    sourceEdit: { kind: 'file', path: 'Controllers/HomeController.cs', content: '// HomeController with an About action (placeholder)\n', description: 'change Controllers/HomeController.cs' },
  },
  {
    name: 'php-composer-apache',
    ecosystem: 'composer',
    modelledOn: 'apache-php/app',
    variant: 'our own, on the apache-php sample\'s base and CMD: the sources copied before the system packages (`apt-get update` and `apt-get install` as separate RUNs) and before `composer install`',
    files: {
      Dockerfile: lines(
        'FROM php:8.2-apache',
        'WORKDIR /var/www/html',
        'COPY . /var/www/html',
        'RUN apt-get update',
        'RUN apt-get install -y --no-install-recommends libzip-dev unzip',
        'RUN composer install --no-dev --no-scripts --no-autoloader --prefer-dist',
        'RUN composer dump-autoload --optimize',
        'CMD ["apache2-foreground"]',
      ),
      '.dockerignore': 'vendor\n',
      'composer.json': JSON.stringify({ name: 'example/app', require: { php: '>=8.2', 'monolog/monolog': '^3.5' }, autoload: { 'psr-4': { 'App\\': 'src/' } } }, null, 4) + '\n',
      'composer.lock': JSON.stringify({ 'content-hash': 'placeholder', packages: [{ name: 'monolog/monolog', version: '3.5.0' }] }, null, 4) + '\n',
      'index.php': '<?php\nrequire __DIR__ . "/vendor/autoload.php";\necho "Hello World!";\n',
      'src/Controller/HomeController.php': '<?php\nnamespace App\\Controller;\nclass HomeController {}\n',
    },
    sourceEdit: { kind: 'file', path: 'src/Controller/HomeController.php', content: '<?php\nnamespace App\\Controller;\nclass HomeController { public function index() {} }\n', description: 'change src/Controller/HomeController.php' },
  },
  {
    name: 'rails-bundler',
    ecosystem: 'bundler',
    modelledOn: undefined,
    variant: 'our own: a small Rails-style app, `ADD . /app` before `RUN bundle install`',
    files: {
      Dockerfile: lines(
        'FROM ruby:3.3',
        'ENV RAILS_ENV=production \\',
        '    BUNDLE_WITHOUT=development:test',
        'WORKDIR /app',
        'ADD . /app',
        'RUN bundle install',
        'EXPOSE 3000',
        'CMD ["bin/rails", "server", "-b", "0.0.0.0"]',
      ),
      '.dockerignore': 'log/\ntmp/\n.git\n',
      'Gemfile': lines('source "https://rubygems.org"', 'gem "rails", "~> 7.1"', 'gem "puma", "~> 6.4"'),
      'Gemfile.lock': lines('GEM', '  remote: https://rubygems.org/', '  specs:', '    rails (7.1.3)', '    puma (6.4.2)', '', 'BUNDLED WITH', '   2.5.6'),
      'config.ru': 'require_relative "config/environment"\nrun Rails.application\n',
      'config/routes.rb': 'Rails.application.routes.draw do\nend\n',
      'app/controllers/application_controller.rb': 'class ApplicationController < ActionController::Base\nend\n',
      'bin/rails': '#!/usr/bin/env ruby\nrequire_relative "../config/boot"\n',
    },
    executables: ['bin/rails'],
    sourceEdit: { kind: 'file', path: 'app/controllers/application_controller.rb', content: 'class ApplicationController < ActionController::Base\n  protect_from_forgery\nend\n', description: 'change app/controllers/application_controller.rb' },
  },
  {
    name: 'spring-postgres-src-first',
    ecosystem: 'maven',
    modelledOn: 'spring-postgres/backend',
    variant: 'the published order with `COPY src /workdir/server/src` moved above `COPY pom.xml` and `mvn dependency:go-offline` (sources before the dependency step); the production stages simplified to one that copies the jar (the stand-in has no `jar` tool); base tags -> maven:3-eclipse-temurin-17 / eclipse-temurin:17-jre',
    files: {
      Dockerfile: lines(
        'FROM --platform=$BUILDPLATFORM maven:3-eclipse-temurin-17 AS builder',
        'WORKDIR /workdir/server',
        'COPY src /workdir/server/src',
        'COPY pom.xml /workdir/server/pom.xml',
        'RUN mvn dependency:go-offline',
        '',
        ...SPRING_BUILD_AND_RUNTIME,
      ),
      'pom.xml': SPRING_POM_XML,
      'src/main/java/com/company/project/Application.java': 'package com.company.project;\npublic class Application {}\n',
      'src/main/java/com/company/project/controllers/HomeController.java': 'package com.company.project.controllers;\npublic class HomeController {}\n',
      'src/main/resources/application.properties': 'spring.datasource.url=jdbc:postgresql://db:5432/example\n',
    },
    sourceEdit: { kind: 'file', path: 'src/main/java/com/company/project/controllers/HomeController.java', content: 'package com.company.project.controllers;\npublic class HomeController { String home() { return "home"; } }\n', description: 'change HomeController.java' },
  },
  {
    name: 'dotnet-solution',
    ecosystem: 'dotnet',
    modelledOn: undefined,
    variant: 'our own, from the `dotnet new sln` / `webapi` / `classlib` / `xunit` templates: a solution of three projects (Api references Core; Api.Tests references Api) with a Directory.Build.props, `COPY . .` before `RUN dotnet restore`, then `dotnet publish --no-restore` and an aspnet runtime stage',
    files: {
      Dockerfile: lines(
        'FROM mcr.microsoft.com/dotnet/sdk:8.0 AS build',
        'WORKDIR /src',
        'COPY . .',
        'RUN dotnet restore Shop.sln',
        'RUN dotnet publish src/Shop.Api/Shop.Api.csproj -c Release -o /app/publish --no-restore',
        '',
        'FROM mcr.microsoft.com/dotnet/aspnet:8.0 AS final',
        'WORKDIR /app',
        'COPY --from=build /app/publish .',
        'ENTRYPOINT ["dotnet", "Shop.Api.dll"]',
      ),
      '.dockerignore': '**/bin/\n**/obj/\n.git\n',
      'Shop.sln': lines(
        'Microsoft Visual Studio Solution File, Format Version 12.00',
        'Project("{FAE04EC0-301F-11D3-BF4B-00C04F79EFBC}") = "Shop.Api", "src\\Shop.Api\\Shop.Api.csproj", "{11111111-1111-1111-1111-111111111111}"',
        'EndProject',
        'Project("{FAE04EC0-301F-11D3-BF4B-00C04F79EFBC}") = "Shop.Core", "src\\Shop.Core\\Shop.Core.csproj", "{22222222-2222-2222-2222-222222222222}"',
        'EndProject',
        'Project("{FAE04EC0-301F-11D3-BF4B-00C04F79EFBC}") = "Shop.Api.Tests", "tests\\Shop.Api.Tests\\Shop.Api.Tests.csproj", "{33333333-3333-3333-3333-333333333333}"',
        'EndProject',
      ),
      'Directory.Build.props': lines('<Project>', '  <PropertyGroup>', '    <TargetFramework>net8.0</TargetFramework>', '    <Nullable>enable</Nullable>', '  </PropertyGroup>', '</Project>'),
      'src/Shop.Api/Shop.Api.csproj': lines('<Project Sdk="Microsoft.NET.Sdk.Web">', '  <ItemGroup>', '    <ProjectReference Include="..\\Shop.Core\\Shop.Core.csproj" />', '    <PackageReference Include="Swashbuckle.AspNetCore" Version="6.5.0" />', '  </ItemGroup>', '</Project>'),
      'src/Shop.Api/Program.cs': 'var app = WebApplication.CreateBuilder(args).Build();\napp.MapGet("/", () => "Hello World!");\napp.Run();\n',
      'src/Shop.Api/appsettings.json': '{ "Logging": { "LogLevel": { "Default": "Information" } } }\n',
      'src/Shop.Core/Shop.Core.csproj': lines('<Project Sdk="Microsoft.NET.Sdk">', '</Project>'),
      'src/Shop.Core/Catalog.cs': 'namespace Shop.Core;\npublic class Catalog {}\n',
      'tests/Shop.Api.Tests/Shop.Api.Tests.csproj': lines('<Project Sdk="Microsoft.NET.Sdk">', '  <ItemGroup>', '    <PackageReference Include="xunit" Version="2.6.6" />', '    <ProjectReference Include="..\\..\\src\\Shop.Api\\Shop.Api.csproj" />', '  </ItemGroup>', '</Project>'),
      'tests/Shop.Api.Tests/ApiTests.cs': 'public class ApiTests {}\n',
    },
    sourceEdit: { kind: 'file', path: 'src/Shop.Core/Catalog.cs', content: 'namespace Shop.Core;\npublic class Catalog { public int Count => 0; }\n', description: 'change src/Shop.Core/Catalog.cs' },
  },
  {
    name: 'nginx-flask-mongo-apk',
    ecosystem: 'pip',
    modelledOn: 'nginx-flask-mongo/flask',
    variant: 'the sources copied first (`COPY . .`), then the Alpine packages listed in the project\'s `apk-packages.txt` (`apk add $(cat apk-packages.txt)`, as images with C extensions do) and `pip3 install -r requirements.txt` without its cache mount; the dev-envs stage left out',
    files: {
      Dockerfile: lines(
        'FROM --platform=$BUILDPLATFORM python:3.10-alpine AS builder',
        '',
        'WORKDIR /src',
        'COPY . .',
        'RUN apk add --no-cache $(cat apk-packages.txt)',
        'RUN pip3 install -r requirements.txt',
        '',
        'CMD ["python3", "server.py"]',
      ),
      '.dockerignore': '.git\n__pycache__\n',
      'apk-packages.txt': 'gcc\nmusl-dev\n',
      'requirements.txt': 'pymongo\nflask\n',
      'server.py': 'from flask import Flask\napp = Flask(__name__)\n',
    },
    sourceEdit: { kind: 'file', path: 'server.py', content: 'from flask import Flask\napp = Flask(__name__)\n\n@app.route("/")\ndef index():\n    return "ok"\n', description: 'change server.py' },
  },
  {
    name: 'nginx-golang-postgres-build',
    ecosystem: 'go',
    modelledOn: 'nginx-golang-postgres/backend',
    variant: '`COPY go.mod go.sum ./` and `go mod download` dropped: `COPY . .` straight before `go build` (no cache mounts, `ENV GOCACHE` dropped), and a `scratch` stage that copies the binary (as in traefik-golang); the dev-envs stage left out; base golang:1.18-alpine -> golang:1.22-alpine. The split it gets reruns the same steps, each cheaper: its cut in steps rerun is 0',
    files: {
      Dockerfile: lines(
        'FROM --platform=$BUILDPLATFORM golang:1.22-alpine AS builder',
        'WORKDIR /code',
        '',
        'ENV CGO_ENABLED 0',
        'ENV GOPATH /go',
        '',
        'COPY . .',
        'RUN go build -o bin/backend main.go',
        '',
        'FROM scratch',
        'COPY --from=builder /code/bin/backend /usr/local/bin/backend',
        'CMD ["/usr/local/bin/backend"]',
      ),
      '.dockerignore': '.git\nbin\n',
      'go.mod': lines('module github.com/docker/awesome-compose/nginx-golang-postgres/backend', '', 'go 1.22', '', 'require github.com/lib/pq v1.10.9'),
      'go.sum': lines('github.com/lib/pq v1.10.9 h1:YXG7RB+JIjhP29X+OtkiDnYaXQwpS4JEWq7dtCCRUEw=', 'github.com/lib/pq v1.10.9/go.mod h1:AlVN5x4E4T544tWzH6hKfbfQvm3HdbOxrmggDNAPY9o='),
      'main.go': 'package main\n\nfunc main() {}\n',
    },
    sourceEdit: { kind: 'file', path: 'main.go', content: 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("ready") }\n', description: 'change main.go' },
  },
];
