/**
 * What a command of a RUN does, as far as the cache-order rules care: a dependency install (which
 * tool, whether it reads only the manifests), a system package step, a global tool install, a
 * harmless command, or something unknown (which may read anything).
 */

import type { SimpleCommand } from './shell';

export type Tool =
  | 'npm' | 'yarn' | 'pnpm' | 'bun'
  | 'pip' | 'uv' | 'poetry' | 'pipenv' | 'pdm'
  | 'go' | 'cargo' | 'maven' | 'gradle' | 'bundler' | 'composer' | 'dotnet';

export type SystemManager = 'apt' | 'apk' | 'yum' | 'dnf' | 'zypper';

export type CommandClass =
  | {
    kind: 'install';
    tool: Tool;
    /** Reads nothing but the dependency manifests: the install can run before the sources are copied. */
    manifestOnly: boolean;
    /** Why the sources are needed (when not manifest-only). */
    why: string | undefined;
    /** Leaves the manifests and lock files as they are (`npm ci`, `--frozen-lockfile`…). */
    frozen: boolean;
    /** Files the command names (pip's `-r`), relative to where it runs. */
    files: string[];
    /** A wrapper script from the context that runs the tool (`./gradlew`, `./mvnw`). */
    wrapper: string | undefined;
    /** `--no-cache-dir`, `--cache`, … : the user chose where (or whether) downloads are cached. */
    cacheConfigured: boolean;
  }
  | {
    kind: 'system'; manager: SystemManager; action: 'update' | 'upgrade' | 'install' | 'other';
    /** Reads files of the image: local packages (`./x.deb`), a list (`$(cat packages.txt)`, `xargs -a f`) or words unknown until run. */
    localFiles: boolean;
    /** The files named in it that it reads, as written (relative to where it runs, or absolute). */
    reads: string[];
  }
  /** Installs named or global packages: reads no project file. */
  | { kind: 'global'; tool: Tool | undefined }
  /** Changes nothing in the file system (`echo`, `set -e`, `true`, `ls`). */
  | { kind: 'noop' }
  /** Creates, removes or changes these absolute paths only (`rm -rf /var/lib/apt/lists/*`, `useradd`). */
  | { kind: 'fs'; paths: string[] }
  | { kind: 'unknown' };

interface ParsedOpts {
  /** Option name without dashes -> values ('' for a switch). */
  opts: Map<string, string[]>;
  positionals: string[];
}

/** Splits options from positionals; `valued` names the options that take the next word as value. */
function parseOpts(args: readonly string[], valued: ReadonlySet<string>): ParsedOpts {
  const opts = new Map<string, string[]>();
  const positionals: string[] = [];
  const add = (k: string, v: string): void => {
    const list = opts.get(k);
    if (list === undefined) opts.set(k, [v]);
    else list.push(v);
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '--') { positionals.push(...args.slice(i + 1)); break; }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) { add(a.slice(2, eq), a.slice(eq + 1)); continue; }
      const name = a.slice(2);
      if (valued.has(name) && i + 1 < args.length) { add(name, args[i + 1] ?? ''); i++; continue; }
      add(name, '');
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      const name = a.slice(1, 2);
      if (valued.has(name)) {
        if (a.length > 2) add(name, a.slice(2).replace(/^=/, ''));
        else if (i + 1 < args.length) { add(name, args[i + 1] ?? ''); i++; }
        continue;
      }
      if (valued.has(a.slice(1))) {
        if (i + 1 < args.length) { add(a.slice(1), args[i + 1] ?? ''); i++; }
        continue;
      }
      for (const ch of a.slice(1)) add(ch, '');
      continue;
    }
    positionals.push(a);
  }
  return { opts, positionals };
}

const has = (p: ParsedOpts, ...names: string[]): boolean => names.some((n) => p.opts.has(n));
const values = (p: ParsedOpts, ...names: string[]): string[] => names.flatMap((n) => p.opts.get(n) ?? []);

function install(tool: Tool, o: Partial<Omit<Extract<CommandClass, { kind: 'install' }>, 'kind' | 'tool'>> = {}): CommandClass {
  return { kind: 'install', tool, manifestOnly: o.manifestOnly ?? true, why: o.why, frozen: o.frozen ?? true, files: o.files ?? [], wrapper: o.wrapper, cacheConfigured: o.cacheConfigured ?? false };
}

const sources = (tool: Tool, why: string, extra: Partial<Omit<Extract<CommandClass, { kind: 'install' }>, 'kind' | 'tool'>> = {}): CommandClass =>
  install(tool, { ...extra, manifestOnly: false, why });

/** A path argument that points into the project (`.`, `./lib`, `src/x.whl`), not a package name or a URL. */
function isLocalPath(a: string): boolean {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(a) || a.startsWith('git+')) return false;
  return a === '.' || a === '..' || a.startsWith('./') || a.startsWith('../') || a.startsWith('/') || a.startsWith('~') || a.includes('/') || /\.(whl|tar\.gz|zip)$/.test(a);
}

// ---- node ----------------------------------------------------------------------------------

const NPM_VALUED = new Set(['loglevel', 'omit', 'include', 'registry', 'cache', 'prefix', 'C', 'workspace', 'w', 'only', 'also', 'userconfig', 'location', 'install-strategy']);
const NPM_CI = new Set(['ci', 'clean-install', 'ic', 'install-clean', 'isntall-clean']);
const NPM_INSTALL = new Set(['install', 'i', 'in', 'ins', 'inst', 'insta', 'instal', 'isnt', 'isnta', 'isntal', 'isntall', 'add']);

function npm(args: readonly string[]): CommandClass {
  const p = parseOpts(args, NPM_VALUED);
  const [sub, ...rest] = p.positionals;
  const cacheConfigured = has(p, 'cache', 'prefer-offline', 'offline');
  if (has(p, 'g', 'global') && (sub === undefined || NPM_INSTALL.has(sub))) return { kind: 'global', tool: 'npm' };
  if (sub === undefined) return { kind: 'unknown' };
  const elsewhere = has(p, 'prefix', 'C', 'workspace', 'w', 'workspaces');
  if (NPM_CI.has(sub)) return elsewhere ? sources('npm', 'it runs in another directory', { cacheConfigured }) : install('npm', { cacheConfigured });
  if (NPM_INSTALL.has(sub)) {
    if (rest.length > 0) return sources('npm', 'it adds packages to package.json', { frozen: false, cacheConfigured });
    return elsewhere ? sources('npm', 'it runs in another directory', { frozen: false, cacheConfigured }) : install('npm', { frozen: false, cacheConfigured });
  }
  if (sub === 'cache') return { kind: 'noop' };
  if (sub === 'config' && !has(p, 'location')) return { kind: 'global', tool: 'npm' };
  return { kind: 'unknown' };
}

const YARN_VALUED = new Set(['cwd', 'modules-folder', 'network-timeout', 'cache-folder', 'registry', 'mutex', 'network-concurrency']);

function yarn(args: readonly string[]): CommandClass {
  const p = parseOpts(args, YARN_VALUED);
  const [sub, ...rest] = p.positionals;
  const frozen = has(p, 'frozen-lockfile', 'immutable', 'pure-lockfile');
  const cacheConfigured = has(p, 'cache-folder', 'prefer-offline', 'offline');
  if (sub === 'global') return { kind: 'global', tool: 'yarn' };
  if (sub === undefined || sub === 'install') {
    if (rest.length > 0) return { kind: 'unknown' };
    if (has(p, 'cwd', 'modules-folder')) return sources('yarn', 'it runs in another directory', { frozen, cacheConfigured });
    return install('yarn', { frozen, cacheConfigured });
  }
  if (sub === 'add') return sources('yarn', 'it adds packages to package.json', { frozen: false });
  if (sub === 'cache' || sub === 'config') return { kind: 'noop' };
  return { kind: 'unknown' };
}

const PNPM_VALUED = new Set(['filter', 'F', 'C', 'dir', 'store-dir', 'reporter', 'registry', 'workspace-concurrency']);

function pnpm(args: readonly string[]): CommandClass {
  const p = parseOpts(args, PNPM_VALUED);
  const [sub, ...rest] = p.positionals;
  const frozen = has(p, 'frozen-lockfile');
  const cacheConfigured = has(p, 'store-dir', 'offline', 'prefer-offline');
  if (has(p, 'g', 'global') && (sub === 'add' || sub === 'install' || sub === 'i')) return { kind: 'global', tool: 'pnpm' };
  const elsewhere = has(p, 'filter', 'F', 'C', 'dir', 'r', 'recursive');
  if (sub === 'install' || sub === 'i' || sub === undefined) {
    if (rest.length > 0) return sources('pnpm', 'it adds packages to package.json', { frozen: false });
    if (elsewhere) return sources('pnpm', 'it installs workspace packages', { frozen, cacheConfigured });
    return install('pnpm', { frozen, cacheConfigured });
  }
  // `pnpm fetch` reads only the lock file: made for exactly this split.
  if (sub === 'fetch') return elsewhere ? sources('pnpm', 'it runs in another directory', { cacheConfigured }) : install('pnpm', { cacheConfigured });
  if (sub === 'add') return sources('pnpm', 'it adds packages to package.json', { frozen: false });
  if (sub === 'store' || sub === 'config') return { kind: 'noop' };
  return { kind: 'unknown' };
}

function bun(args: readonly string[]): CommandClass {
  const p = parseOpts(args, new Set(['cwd', 'cache-dir', 'backend']));
  const [sub, ...rest] = p.positionals;
  if (has(p, 'g', 'global') && (sub === 'add' || sub === 'install' || sub === 'i')) return { kind: 'global', tool: 'bun' };
  if (sub === 'install' || sub === 'i') {
    if (rest.length > 0) return sources('bun', 'it adds packages to package.json', { frozen: false });
    if (has(p, 'cwd')) return sources('bun', 'it runs in another directory');
    return install('bun', { frozen: has(p, 'frozen-lockfile'), cacheConfigured: has(p, 'cache-dir', 'no-cache') });
  }
  return { kind: 'unknown' };
}

// ---- python --------------------------------------------------------------------------------

const PIP_VALUED = new Set([
  'r', 'requirement', 'c', 'constraint', 'e', 'editable', 'i', 'index-url', 'extra-index-url', 'f', 'find-links',
  't', 'target', 'prefix', 'root', 'platform', 'python-version', 'implementation', 'abi', 'src', 'upgrade-strategy',
  'progress-bar', 'trusted-host', 'cache-dir', 'log', 'proxy', 'retries', 'timeout', 'exists-action', 'cert',
  'client-cert', 'global-option', 'config-settings', 'C', 'install-option', 'only-binary', 'no-binary', 'report',
  'python', 'p', 'index-strategy', 'keyring-provider', 'resolution', 'prerelease', 'extra', 'group',
]);

function pipInstall(tool: Tool, args: readonly string[]): CommandClass {
  const p = parseOpts(args, PIP_VALUED);
  const files = values(p, 'r', 'requirement', 'c', 'constraint');
  const cacheConfigured = has(p, 'no-cache-dir', 'cache-dir', 'no-cache');
  const local = [...p.positionals.filter(isLocalPath), ...values(p, 'e', 'editable').filter(isLocalPath)];
  const findLinks = values(p, 'f', 'find-links').filter((v) => !/^[a-z]+:\/\//i.test(v));
  const writesHere = values(p, 't', 'target', 'prefix', 'root').some((v) => !v.startsWith('/'));
  if (files.length === 0) {
    if (local.length > 0 || findLinks.length > 0) return sources(tool, `it installs ${local[0] ?? findLinks[0] ?? 'local files'} from the project`, { cacheConfigured });
    // Named packages only (`pip install --upgrade pip`).
    return { kind: 'global', tool };
  }
  if (local.length > 0) return sources(tool, `it also installs ${local[0] ?? ''} from the project`, { files, cacheConfigured });
  if (findLinks.length > 0) return sources(tool, `it reads packages from ${findLinks[0] ?? ''}`, { files, cacheConfigured });
  if (writesHere) return sources(tool, 'it installs into the project directory', { files, cacheConfigured });
  if (files.some((f) => f.includes('$'))) return sources(tool, 'its requirements file is named by a variable', { files, cacheConfigured });
  return install(tool, { files, cacheConfigured });
}

function pipSync(tool: Tool, args: readonly string[]): CommandClass {
  const p = parseOpts(args, PIP_VALUED);
  const files = p.positionals.length > 0 ? p.positionals : ['requirements.txt'];
  if (files.some((f) => f.includes('$'))) return sources(tool, 'its requirements file is named by a variable', { files });
  return install(tool, { files, cacheConfigured: has(p, 'no-cache-dir', 'no-cache', 'cache-dir') });
}

function pip(args: readonly string[]): CommandClass {
  const [sub, ...rest] = args;
  if (sub === 'install') return pipInstall('pip', rest);
  if (sub === 'cache' || sub === 'config' || sub === 'list' || sub === 'freeze' || sub === 'show' || sub === 'check') return { kind: 'noop' };
  return { kind: 'unknown' };
}

const UV_VALUED = new Set(['package', 'extra', 'group', 'only-group', 'python', 'p', 'index-url', 'extra-index-url', 'directory', 'project', 'cache-dir', 'index', 'default-index', 'no-install-package']);

function uv(args: readonly string[]): CommandClass {
  const [sub, ...rest] = args;
  if (sub === 'pip') {
    const [pipSub, ...pipRest] = rest;
    if (pipSub === 'install') return pipInstall('uv', pipRest);
    if (pipSub === 'sync') return pipSync('uv', pipRest);
    return { kind: 'unknown' };
  }
  if (sub === 'sync') {
    const p = parseOpts(rest, UV_VALUED);
    const frozen = has(p, 'frozen', 'locked');
    const cacheConfigured = has(p, 'no-cache', 'cache-dir');
    if (has(p, 'directory', 'project', 'package')) return sources('uv', 'it runs in another directory', { frozen, cacheConfigured });
    if (!has(p, 'no-install-project', 'no-install-workspace')) return sources('uv', 'it installs the project itself (add `--no-install-project` to install only its dependencies)', { frozen, cacheConfigured });
    return install('uv', { frozen, cacheConfigured });
  }
  if (sub === 'tool' && rest[0] === 'install') return { kind: 'global', tool: 'uv' };
  if (sub === 'cache' || sub === 'python') return { kind: 'noop' };
  return { kind: 'unknown' };
}

function poetry(args: readonly string[]): CommandClass {
  const p = parseOpts(args, new Set(['with', 'without', 'only', 'E', 'extras', 'C', 'directory', 'P', 'project']));
  const [sub] = p.positionals;
  if (sub === 'install' || sub === 'sync') {
    if (has(p, 'C', 'directory', 'P', 'project')) return sources('poetry', 'it runs in another directory');
    if (!has(p, 'no-root', 'only-root') || has(p, 'only-root')) return sources('poetry', 'it installs the project itself (add `--no-root` to install only its dependencies)');
    return install('poetry');
  }
  if (sub === 'config') return { kind: 'global', tool: 'poetry' };
  if (sub === 'add' || sub === 'lock' || sub === 'update') return sources('poetry', 'it changes pyproject.toml or poetry.lock', { frozen: false });
  return { kind: 'unknown' };
}

function pipenv(args: readonly string[]): CommandClass {
  const p = parseOpts(args, new Set(['python', 'pypi-mirror', 'categories']));
  const [sub, ...rest] = p.positionals;
  if (sub === 'sync') return install('pipenv');
  if (sub === 'install') {
    if (rest.length > 0) return sources('pipenv', 'it adds packages to the Pipfile', { frozen: false });
    return install('pipenv', { frozen: has(p, 'deploy', 'ignore-pipfile') });
  }
  return { kind: 'unknown' };
}

function pdm(args: readonly string[]): CommandClass {
  const p = parseOpts(args, new Set(['G', 'group', 'p', 'project', 'L', 'lockfile']));
  const [sub] = p.positionals;
  if (sub === 'install' || sub === 'sync') {
    if (has(p, 'p', 'project')) return sources('pdm', 'it runs in another directory');
    if (!has(p, 'no-self')) return sources('pdm', 'it installs the project itself (add `--no-self` to install only its dependencies)');
    return install('pdm', { frozen: sub === 'sync' || has(p, 'frozen-lockfile') });
  }
  return { kind: 'unknown' };
}

// ---- go, rust, jvm, ruby, php, .NET -----------------------------------------------------------

function go(args: readonly string[]): CommandClass {
  const [sub, ...rest] = args;
  if (sub === 'mod' && rest[0] === 'download') {
    const p = parseOpts(rest.slice(1), new Set(['modcacherw']));
    if (p.positionals.length > 0) return { kind: 'global', tool: 'go' };
    return install('go');
  }
  if (sub === 'install' && rest.some((a) => /@[^/]+$/.test(a) && !a.startsWith('-'))) return { kind: 'global', tool: 'go' };
  if (sub === 'build' || sub === 'install' || sub === 'test' || sub === 'run' || sub === 'vet' || sub === 'generate') {
    // Vendored modules: nothing to download.
    if (rest.includes('-mod=vendor')) return { kind: 'unknown' };
    return sources('go', `\`go ${sub}\` compiles the sources (and downloads the modules it needs)`);
  }
  if (sub === 'env' || sub === 'version') return { kind: 'noop' };
  if (sub === 'get') return sources('go', 'it changes go.mod', { frozen: false });
  return { kind: 'unknown' };
}

function cargo(args: readonly string[]): CommandClass {
  const p = parseOpts(args, new Set(['target', 'p', 'package', 'bin', 'features', 'F', 'j', 'jobs', 'profile', 'manifest-path', 'root', 'path', 'target-dir', 'Z', 'config']));
  const [sub] = p.positionals;
  if (has(p, 'offline', 'frozen')) return { kind: 'unknown' };
  if (sub === 'fetch') return sources('cargo', 'cargo reads the crate\'s targets (src/main.rs or src/lib.rs) along with Cargo.toml', { frozen: has(p, 'locked') });
  if (sub === 'install' && !has(p, 'path')) return { kind: 'global', tool: 'cargo' };
  if (sub === 'build' || sub === 'install' || sub === 'test' || sub === 'run' || sub === 'check') return sources('cargo', `\`cargo ${sub}\` compiles the sources (and downloads the crates it needs)`);
  return { kind: 'unknown' };
}

const MVN_DEPS_GOALS = new Set(['dependency:go-offline', 'dependency:resolve', 'dependency:resolve-plugins', 'de.qaware.maven:go-offline-maven-plugin:resolve-dependencies']);

function maven(args: readonly string[], wrapper: string | undefined): CommandClass {
  const p = parseOpts(args, new Set(['f', 'file', 's', 'settings', 'gs', 'global-settings', 'P', 'activate-profiles', 'pl', 'projects', 'T', 'threads', 'l', 'log-file', 'rf', 'resume-from', 't', 'toolchains']));
  const goals = p.positionals.filter((g) => !g.startsWith('-D'));
  if (has(p, 'o', 'offline') || goals.length === 0) return { kind: 'unknown' };
  const files = values(p, 's', 'settings');
  const pom = values(p, 'f', 'file');
  if (goals.every((g) => MVN_DEPS_GOALS.has(g) || g === 'clean')) {
    if (pom.length > 0 || has(p, 'pl', 'projects')) return sources('maven', 'it builds another project file', { wrapper });
    if (files.some((f) => f.includes('$') || f.startsWith('/') === false && f.includes('/'))) return sources('maven', 'it reads a settings file from elsewhere', { wrapper, files });
    return install('maven', { wrapper, files: files.filter((f) => !f.startsWith('/')) });
  }
  return sources('maven', `\`mvn ${goals.join(' ')}\` compiles the sources (and downloads every dependency)`, { wrapper });
}

function gradle(args: readonly string[], wrapper: string | undefined): CommandClass {
  const p = parseOpts(args, new Set(['p', 'project-dir', 'b', 'build-file', 'c', 'settings-file', 'x', 'exclude-task', 'g', 'gradle-user-home', 'I', 'init-script', 'D', 'P']));
  const tasks = p.positionals;
  if (has(p, 'offline') || tasks.length === 0) return { kind: 'unknown' };
  if (tasks.every((t) => t === 'dependencies' || t === 'buildEnvironment' || t === 'androidDependencies')) {
    if (has(p, 'p', 'project-dir', 'b', 'build-file', 'c', 'settings-file', 'I', 'init-script')) return sources('gradle', 'it reads build files from elsewhere', { wrapper });
    return install('gradle', { wrapper });
  }
  return sources('gradle', `\`gradle ${tasks.join(' ')}\` compiles the sources (and downloads every dependency)`, { wrapper });
}

function bundler(args: readonly string[]): CommandClass {
  const p = parseOpts(args, new Set(['gemfile', 'path', 'jobs', 'j', 'retry', 'without', 'with', 'binstubs']));
  const [sub, ...rest] = p.positionals;
  if (sub === undefined || sub === 'install') {
    if (rest.length > 0) return { kind: 'unknown' };
    if (has(p, 'gemfile')) return sources('bundler', 'it reads another Gemfile');
    if (values(p, 'path').some((v) => !v.startsWith('/'))) return sources('bundler', 'it installs into the project directory', { frozen: has(p, 'frozen', 'deployment') });
    return install('bundler', { frozen: has(p, 'frozen', 'deployment') });
  }
  if (sub === 'config') return { kind: 'noop' };
  return { kind: 'unknown' };
}

function composer(args: readonly string[]): CommandClass {
  const p = parseOpts(args, new Set(['d', 'working-dir', 'ignore-platform-req']));
  const [sub, ...rest] = p.positionals;
  if (sub === 'global') return { kind: 'global', tool: 'composer' };
  if (sub === 'install' || sub === 'i') {
    if (has(p, 'd', 'working-dir')) return sources('composer', 'it runs in another directory');
    // Without both, `composer install` runs the project's scripts and scans its sources for the autoloader.
    if (!has(p, 'no-scripts') || !has(p, 'no-autoloader')) return sources('composer', 'it runs the project\'s scripts and builds the autoloader from the sources (add `--no-scripts --no-autoloader`, then `composer dump-autoload` after copying them)');
    return rest.length > 0 ? { kind: 'unknown' } : install('composer');
  }
  if (sub === 'require' || sub === 'update') return sources('composer', 'it changes composer.json or composer.lock', { frozen: false });
  return { kind: 'unknown' };
}

function dotnet(args: readonly string[]): CommandClass {
  const p = parseOpts(args, new Set(['s', 'source', 'r', 'runtime', 'c', 'configuration', 'o', 'output', 'f', 'framework', 'p', 'property', 'v', 'verbosity', 'packages', 'configfile', 'a', 'arch', 'os']));
  const [sub, ...rest] = p.positionals;
  if (sub === 'restore') {
    if (rest.some((r) => r.includes('/') || r.includes('\\') || r.includes('$'))) return sources('dotnet', 'it restores a project in another directory');
    return install('dotnet', { files: rest, frozen: !has(p, 'force-evaluate') });
  }
  if (sub === 'tool' && rest[0] === 'install' && has(p, 'g', 'global')) return { kind: 'global', tool: 'dotnet' };
  if ((sub === 'build' || sub === 'publish' || sub === 'test' || sub === 'run' || sub === 'pack') && !has(p, 'no-restore')) {
    return sources('dotnet', `\`dotnet ${sub}\` compiles the sources (and restores the packages first)`);
  }
  return { kind: 'unknown' };
}

// ---- system packages and harmless commands ---------------------------------------------------

function system(manager: SystemManager, args: readonly string[], inputs: readonly string[]): CommandClass {
  const words = args.filter((a) => !a.startsWith('-'));
  const sub = words[0];
  const pkgs = words.slice(1);
  const files = pkgs.filter((a) => (a.includes('/') || a.startsWith('.')) && !a.includes('$'));
  const reads = [...inputs, ...files];
  const localFiles = reads.length > 0 || pkgs.some((a) => a.includes('$'));
  const installs = manager === 'apk' ? ['add'] : ['install', 'reinstall', 'localinstall', 'groupinstall', 'in'];
  const updates = manager === 'apk' ? ['update'] : manager === 'apt' ? ['update'] : ['makecache', 'check-update', 'refresh', 'ref'];
  const upgrades = manager === 'apk' ? ['upgrade'] : ['upgrade', 'dist-upgrade', 'full-upgrade', 'dup'];
  if (sub === undefined) return { kind: 'system', manager, action: 'other', localFiles: false, reads: [] };
  if (installs.includes(sub)) return { kind: 'system', manager, action: 'install', localFiles, reads };
  if (updates.includes(sub)) return { kind: 'system', manager, action: 'update', localFiles: false, reads: [] };
  if (upgrades.includes(sub)) return { kind: 'system', manager, action: 'upgrade', localFiles: false, reads: [] };
  return { kind: 'system', manager, action: 'other', localFiles, reads };
}

const NOOP = new Set(['cd', 'true', ':', 'echo', 'set', 'export', 'unset', 'ls', 'pwd', 'printenv', 'whoami', 'id', 'uname', 'date', 'which', 'type', 'sleep', 'exit', 'fi', 'done', 'ldconfig', 'update-ca-certificates']);
const FS = new Set(['rm', 'mkdir', 'chmod', 'chown', 'touch', 'ln', 'chgrp']);

/** Classifies one simple command. */
export function classify(cmd: SimpleCommand): CommandClass {
  const [head = '', ...args] = cmd.argv;
  const base = head.replace(/^.*\//, '');
  const wrapper = head.startsWith('./') || head.includes('/') && !head.startsWith('/') ? head.replace(/^\.\//, '') : undefined;
  if (cmd.writes.length > 0 && !cmd.writes.every((w) => w.startsWith('/') && !w.includes('$'))) return { kind: 'unknown' };
  switch (base) {
    case 'npm': return npm(args);
    case 'yarn': case 'yarnpkg': return yarn(args);
    case 'pnpm': return pnpm(args);
    case 'bun': return bun(args);
    case 'corepack': return { kind: 'global', tool: undefined };
    case 'pip-sync': return pipSync('pip', args);
    case 'uv': return uv(args);
    case 'poetry': return poetry(args);
    case 'pipenv': return pipenv(args);
    case 'pdm': return pdm(args);
    case 'go': return go(args);
    case 'cargo': return cargo(args);
    case 'mvn': case 'mvnw': return maven(args, base === 'mvnw' ? wrapper : undefined);
    case 'gradle': case 'gradlew': return gradle(args, base === 'gradlew' ? wrapper : undefined);
    case 'bundle': case 'bundler': return bundler(args);
    case 'gem': return args[0] === 'install' && !args.slice(1).some(isLocalPath) ? { kind: 'global', tool: 'bundler' } : { kind: 'unknown' };
    case 'composer': case 'composer.phar': return composer(args);
    case 'dotnet': return dotnet(args);
    case 'apt-get': case 'apt': case 'aptitude': return system('apt', args, cmd.reads);
    case 'apk': return system('apk', args, cmd.reads);
    case 'yum': return system('yum', args, cmd.reads);
    case 'dnf': case 'microdnf': case 'tdnf': return system('dnf', args, cmd.reads);
    case 'zypper': return system('zypper', args, cmd.reads);
    case 'useradd': case 'adduser': case 'groupadd': case 'addgroup': case 'usermod': case 'groupmod':
      return { kind: 'fs', paths: ['/etc', '/home'] };
    default: break;
  }
  if (/^pip[0-9.]*$/.test(base)) return pip(args);
  if (/^python[0-9.]*$/.test(base) && args[0] === '-m') {
    const mod = args[1];
    if (mod === 'pip') return pip(args.slice(2));
    if (mod === 'piptools' && args[2] === 'sync') return pipSync('pip', args.slice(3));
    if (mod === 'uv') return uv(args.slice(2));
    if (mod === 'poetry') return poetry(args.slice(2));
    if (mod === 'pipenv') return pipenv(args.slice(2));
    return { kind: 'unknown' };
  }
  if (NOOP.has(base) && cmd.writes.length === 0) return { kind: 'noop' };
  if (FS.has(base)) {
    const paths = args.filter((a) => !a.startsWith('-'));
    const operands = base === 'chmod' || base === 'chown' || base === 'chgrp' ? paths.slice(1) : paths;
    if (operands.length > 0 && operands.every((a) => a.startsWith('/') && !a.includes('$'))) return { kind: 'fs', paths: operands };
  }
  return { kind: 'unknown' };
}

/** Absolute paths, one inside (or equal to) the other. */
export function overlaps(a: string, b: string): boolean {
  const strip = (s: string): string => s.replace(/\/\*+$/, '').replace(/\/+$/, '') || '/';
  const x = strip(a);
  const y = strip(b);
  if (x === '/' || y === '/') return true;
  return x === y || x.startsWith(`${y}/`) || y.startsWith(`${x}/`);
}

const SYSTEM_DIRS = ['/etc', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/var', '/opt', '/boot', '/usr/bin', '/usr/sbin', '/usr/lib', '/usr/lib32', '/usr/lib64', '/usr/libexec', '/usr/share', '/usr/include', '/usr/local/bin', '/usr/local/sbin', '/usr/local/lib', '/usr/local/share', '/usr/local/include', '/usr/local/etc'];

/**
 * A directory a system package manager may write into (or one we cannot place: the root, the base
 * image's unknown working directory): files copied there can collide with what it installs.
 */
export function isSystemPath(dir: string): boolean {
  if (!dir.startsWith('/')) return true;
  if (dir === '/' || dir === '/usr' || dir === '/usr/local') return true;
  return SYSTEM_DIRS.some((s) => dir === s || dir.startsWith(`${s}/`) || s.startsWith(`${dir}/`));
}
