/**
 * The dependency manifests of each package manager: what its install reads, what it writes where
 * it runs, and which files around them mean it reads more (a workspace, a gemspec, build logic).
 */

import type { CommandClass, Tool } from './commands';
import { contextChildren, contextDirs, scanOnce } from './model';
import { normalizePath } from './shell';

type Pattern = string | RegExp;

interface ManifestSpec {
  /** At least one must exist where the install runs. */
  primary: Pattern[];
  /** Copied along when they exist. */
  optional: Pattern[];
  /** Directories copied along (a COPY line each) when they exist. */
  dirs: string[];
  /** If one exists next to the manifests, the install reads more than them: no split. */
  blockers: Pattern[];
  /** One of these deeper in the copied tree (a workspace member, a module, a project reference): no split ... */
  nested: RegExp | undefined;
  /** ... unless the install reads just those files of the members: then each is copied to its folder (a line each). */
  listMembers?: boolean;
  /** Written by the install where it runs: if the context has them, the broad COPY after the install would overwrite its result. */
  outputs: string[];
  /** For messages. */
  label: string;
}

const NODE: ManifestSpec = {
  primary: ['package.json'],
  optional: ['package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'pnpm-lock.yaml', 'bun.lockb', 'bun.lock', '.npmrc', '.yarnrc', '.yarnrc.yml', '.pnpmfile.cjs', 'bunfig.toml'],
  dirs: [],
  blockers: ['.yarn', '.pnp.cjs', '.pnp.js', '.pnp.loader.mjs', 'pnpm-workspace.yaml'],
  nested: /(^|\/)package\.json$/,
  outputs: ['node_modules'],
  label: 'package.json and its lock file',
};

const PIP: ManifestSpec = {
  primary: [],
  optional: [/^requirements.*\.txt$/, /^constraints.*\.txt$/],
  dirs: [],
  blockers: [],
  nested: undefined,
  outputs: [],
  label: 'the requirements files',
};

const SPECS: Record<Tool, ManifestSpec> = {
  npm: NODE,
  yarn: NODE,
  pnpm: NODE,
  bun: NODE,
  pip: PIP,
  uv: { primary: ['pyproject.toml'], optional: ['uv.lock', '.python-version', 'uv.toml'], dirs: [], blockers: [], nested: /(^|\/)pyproject\.toml$/, outputs: ['.venv'], label: 'pyproject.toml and uv.lock' },
  poetry: { primary: ['pyproject.toml'], optional: ['poetry.lock', 'poetry.toml'], dirs: [], blockers: [], nested: /(^|\/)pyproject\.toml$/, outputs: ['.venv'], label: 'pyproject.toml and poetry.lock' },
  pipenv: { primary: ['Pipfile'], optional: ['Pipfile.lock'], dirs: [], blockers: [], nested: undefined, outputs: ['.venv'], label: 'Pipfile and Pipfile.lock' },
  pdm: { primary: ['pyproject.toml'], optional: ['pdm.lock', 'pdm.toml', '.pdm-python'], dirs: [], blockers: [], nested: /(^|\/)pyproject\.toml$/, outputs: ['.venv', '__pypackages__'], label: 'pyproject.toml and pdm.lock' },
  go: { primary: ['go.mod'], optional: ['go.sum'], dirs: [], blockers: ['go.work'], nested: /(^|\/)go\.mod$/, outputs: [], label: 'go.mod and go.sum' },
  cargo: { primary: ['Cargo.toml'], optional: ['Cargo.lock'], dirs: [], blockers: [], nested: /(^|\/)Cargo\.toml$/, outputs: ['target'], label: 'Cargo.toml and Cargo.lock' },
  maven: { primary: ['pom.xml'], optional: [], dirs: ['.mvn'], blockers: [], nested: /(^|\/)pom\.xml$/, outputs: ['target'], label: 'pom.xml' },
  gradle: {
    primary: ['build.gradle', 'build.gradle.kts', 'settings.gradle', 'settings.gradle.kts'],
    optional: ['build.gradle', 'build.gradle.kts', 'settings.gradle', 'settings.gradle.kts', 'gradle.properties'],
    dirs: ['gradle'],
    blockers: ['buildSrc'],
    nested: /(^|\/)(build|settings)\.gradle(\.kts)?$/,
    outputs: ['.gradle', 'build'],
    label: 'the Gradle build files',
  },
  bundler: { primary: ['Gemfile'], optional: ['Gemfile.lock', '.ruby-version'], dirs: [], blockers: [/\.gemspec$/, '.bundle'], nested: undefined, outputs: ['.bundle', 'vendor/bundle'], label: 'Gemfile and Gemfile.lock' },
  composer: { primary: ['composer.json'], optional: ['composer.lock', 'auth.json'], dirs: [], blockers: [], nested: undefined, outputs: ['vendor'], label: 'composer.json and composer.lock' },
  dotnet: {
    primary: [/\.(csproj|fsproj|vbproj|sln|slnx)$/],
    optional: [/\.(csproj|fsproj|vbproj|sln|slnx)$/, 'Directory.Build.props', 'Directory.Build.targets', 'Directory.Packages.props', 'NuGet.Config', 'nuget.config', 'NuGet.config', 'global.json'],
    dirs: [],
    blockers: [],
    // A restore reads the project files of a solution and of project references, and the
    // Directory.*.props/targets above each: copied one by one, they restore the same.
    nested: /(^|\/)([^/]+\.(csproj|fsproj|vbproj)|Directory\.(Build|Packages)\.(props|targets))$/,
    listMembers: true,
    outputs: ['obj', 'bin'],
    label: 'the project files',
  },
};

export function manifestLabel(tool: Tool): string {
  return SPECS[tool].label;
}

export function manifestNames(tool: Tool): Pattern[] {
  return SPECS[tool].primary;
}

/** Folders copied along with the manifests (`.mvn`, `gradle`): the install reads them. */
export function manifestDirs(tool: Tool): readonly string[] {
  return SPECS[tool].dirs;
}

/** Whether a context path (relative to where the install runs) is a member's manifest the install reads. */
export function isNestedManifest(tool: Tool, rel: string): boolean {
  return SPECS[tool].nested?.test(rel) === true;
}

const matches = (name: string, p: Pattern): boolean => (typeof p === 'string' ? name === p : p.test(name));

/** Directories whose contents are never a project's own manifests. */
const SKIP_DIRS = new Set(['node_modules', '.git', 'bin', 'obj', 'target', '.venv', 'venv', 'vendor', 'dist', 'build', '__pycache__', '.gradle']);

export interface ManifestPlan {
  /** Files to copy first, relative to the install's directory, in this order. */
  files: string[];
  /** Directories to copy first (one COPY line each), relative to the install's directory. */
  dirs: string[];
  /** Files in subfolders (workspace members' manifests) to copy first, each to its own folder, sorted. */
  members: string[];
}

/**
 * The manifests an install reads, found in the context under `root` (the context directory that
 * ends up where the install runs; `''` for the context root), or why the split is unsafe.
 */
export function planManifests(install: Extract<CommandClass, { kind: 'install' }>, files: ReadonlySet<string>, root: string): ManifestPlan | { blocked: string } {
  const spec = SPECS[install.tool];
  const at = (rel: string): string => (root === '' ? rel : `${root}/${rel}`);
  const exists = (rel: string): boolean => files.has(at(rel));
  const children = contextChildren(files, root);
  const prefix = root === '' ? '' : `${root}/`;
  const dirs = contextDirs(files);
  const isDir = (rel: string): boolean => dirs.has(at(rel));

  for (const out of spec.outputs) {
    if (exists(out)) return { blocked: `the context has \`${out}\`, which the install writes: copying the sources after it would overwrite what it wrote (add \`${out}\` to .dockerignore)` };
  }
  for (const b of spec.blockers) {
    const hit = children.find((c) => matches(c, b));
    if (hit !== undefined) return { blocked: `\`${hit}\` means the install reads more than the manifests` };
  }
  const nestedRe = spec.nested;
  const members: string[] = [];
  if (nestedRe !== undefined) {
    const found = scanOnce(files, `nested ${install.tool} ${root}`, () => {
      const all: string[] = [];
      for (const f of files) {
        if (!f.startsWith(prefix)) continue;
        const rest = f.slice(prefix.length);
        if (!rest.includes('/') || rest.split('/').some((seg) => SKIP_DIRS.has(seg))) continue;
        if (nestedRe.test(rest) && !dirs.has(f)) all.push(rest);
      }
      return all.sort();
    });
    const member = found[0];
    if (member !== undefined && spec.listMembers !== true) return { blocked: `\`${member}\` (a workspace member or module) is read too, and one COPY cannot keep its folder` };
    members.push(...found);
  }

  const out: string[] = [];
  const add = (rel: string): void => { if (!out.includes(rel)) out.push(rel); };
  if (install.tool === 'pip' || (install.tool === 'uv' && install.files.length > 0)) {
    if (install.files.length === 0) return { blocked: 'it names no requirements file' };
    for (const f of install.files) {
      const rel = normalizePath(f);
      if (rel.startsWith('/') || rel.startsWith('..')) return { blocked: `\`${f}\` is outside the copied folder` };
      if (!exists(rel)) return { blocked: `\`${f}\` is not in the build context` };
    }
    // Requirements files include one another (`-r base.txt`): take their siblings along.
    const dirsOfFiles = [...new Set(install.files.map((f) => dirOf(normalizePath(f))))];
    for (const f of install.files) add(normalizePath(f));
    for (const d of dirsOfFiles) {
      const sub = d === '' ? prefix : `${prefix}${d}/`;
      for (const name of contextChildren(files, sub === '' ? '' : sub.slice(0, -1))) {
        if (d === '' ? spec.optional.some((p) => matches(name, p)) : name.endsWith('.txt')) add(d === '' ? name : `${d}/${name}`);
      }
    }
  } else {
    const primary = children.filter((c) => spec.primary.some((p) => matches(c, p)) && !isDir(c));
    if (primary.length === 0) return { blocked: `there is no ${spec.primary.map(String).join(' / ')} where it runs` };
    for (const f of install.files) {
      if (!exists(normalizePath(f))) return { blocked: `\`${f}\` is not in the build context` };
      if (!normalizePath(f).includes('/')) add(normalizePath(f));
      else if (!members.includes(normalizePath(f))) return { blocked: `\`${f}\` is in a subfolder` };
    }
    for (const p of [...spec.primary, ...spec.optional]) for (const c of children) if (matches(c, p) && !isDir(c)) add(c);
  }
  if (install.wrapper !== undefined) {
    if (install.wrapper.includes('/')) return { blocked: `the wrapper \`${install.wrapper}\` is in another folder` };
    if (!exists(install.wrapper)) return { blocked: `\`${install.wrapper}\` is not in the build context` };
    add(install.wrapper);
  }
  return { files: out, dirs: spec.dirs.filter((d) => isDir(d)), members };
}

function dirOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '' : p.slice(0, i);
}
