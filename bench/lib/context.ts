/**
 * Generated build contexts with a realistic size mix: many small source files (64 B – 12 kB),
 * some medium ones (16 – 170 kB: JSON, SVG, images), a few large ones (1 – 6 MB: archives, wasm),
 * scaled so the whole context weighs `bytes`. The tree is a monorepo: packages/pNN/src/mNN/ with
 * 50 files a folder. Deterministic (seeded), so two runs read the same bytes.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ContextInfo } from './report';

export interface GeneratedContext extends ContextInfo {
  dir: string;
  /** A small source file (relative path) benchmarks change. */
  sample: string;
  /**
   * A small file at the root (README.md) that no COPY of the generated Dockerfiles names but
   * `COPY . .`: a change to it shows at that step, with that file named in its reason.
   */
  wholeOnly: string;
  /** Packages (packages/p000 …), 1,000 files each: what the generated Dockerfiles may name. */
  packages: number;
}

/** mulberry32: a small seeded generator. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type SizeClass = 'small' | 'medium' | 'large';
const EXT: Record<SizeClass, readonly string[]> = {
  small: ['ts', 'ts', 'ts', 'js', 'json', 'md', 'css', 'tsx'],
  medium: ['json', 'svg', 'png', 'lock'],
  large: ['wasm', 'tar.gz', 'bin'],
};

/** The relative path of file i (50 a folder, 20 folders a package). */
export function filePath(i: number, cls: SizeClass, pick: number): string {
  const leaf = Math.floor(i / 50);
  const pkg = Math.floor(leaf / 20);
  const mod = leaf % 20;
  const exts = EXT[cls];
  const ext = exts[Math.floor(pick * exts.length)] ?? 'txt';
  return `packages/p${String(pkg).padStart(3, '0')}/src/m${String(mod).padStart(2, '0')}/f${i}.${ext}`;
}

/** Sizes and classes of `files` files summing to about `bytes`. */
export function plan(files: number, bytes: number, seed = 42): Array<{ rel: string; size: number; cls: SizeClass }> {
  const rand = prng(seed);
  const raw: Array<{ rel: string; size: number; cls: SizeClass }> = [];
  let sum = 0;
  for (let i = 0; i < files; i++) {
    const r = rand();
    const u = rand();
    const cls: SizeClass = r < 0.001 ? 'large' : r < 0.051 ? 'medium' : 'small';
    const size = cls === 'small' ? 64 + u * u * 12_000 : cls === 'medium' ? 16_000 + u * u * 150_000 : 1_000_000 + u * 5_000_000;
    raw.push({ rel: filePath(i, cls, rand()), size, cls });
    sum += size;
  }
  const scale = sum === 0 ? 1 : bytes / sum;
  return raw.map((f) => ({ ...f, size: Math.max(1, Math.round(f.size * scale)) }));
}

/** Writes the context into `dir` (created), then syncs it to disk so caches can be dropped. */
export function generateContext(dir: string, files: number, bytes: number): GeneratedContext {
  const t = performance.now();
  const files0 = plan(files, bytes);
  const pool = randomBytes(8 << 20);
  const dirs = new Set<string>();
  let total = 0;
  const counts = { small: 0, medium: 0, large: 0 };
  fs.mkdirSync(dir, { recursive: true });
  files0.forEach((f, i) => {
    const abs = path.join(dir, f.rel);
    const d = path.dirname(abs);
    if (!dirs.has(d)) {
      fs.mkdirSync(d, { recursive: true });
      dirs.add(d);
    }
    const size = Math.min(f.size, pool.length);
    const offset = (i * 7919) % (pool.length - size + 1);
    fs.writeFileSync(abs, pool.subarray(offset, offset + size));
    total += size;
    counts[f.cls]++;
  });
  fs.writeFileSync(path.join(dir, 'package.json'), '{"name":"bench","private":true,"workspaces":["packages/*"]}\n');
  fs.writeFileSync(path.join(dir, '.dockerignore'), '.git\nnode_modules\n*.log\n');
  const wholeOnly = 'README.md';
  fs.writeFileSync(path.join(dir, wholeOnly), '# bench\n\nA generated build context.\n');
  execFileSync('sync');
  const sample = files0.find((f) => f.cls === 'small' && f.rel.endsWith('.ts'))?.rel ?? files0[0]?.rel ?? 'package.json';
  // Every folder on the way (packages/, packages/pNNN/, .../src/) counts.
  const allDirs = new Set<string>();
  for (const d of dirs) for (let p = path.relative(dir, d); p !== '' && p !== '.'; p = path.dirname(p)) allDirs.add(p);
  return {
    dir,
    files: files0.length + 3,
    dirs: allDirs.size,
    bytes: total,
    ...counts,
    generationMs: performance.now() - t,
    sample,
    wholeOnly,
    packages: Math.max(1, Math.ceil(files0.length / 1000)),
  };
}

/** Free bytes on the file system holding `dir`. */
export function freeBytes(dir: string): number {
  const s = fs.statfsSync(dir);
  return s.bavail * s.bsize;
}

/** `sync; echo 3 > /proc/sys/vm/drop_caches`: true when the kernel took it (root, not read-only). */
export function dropCaches(): boolean {
  try {
    execFileSync('sync');
    fs.writeFileSync('/proc/sys/vm/drop_caches', '3\n');
    return true;
  } catch {
    return false;
  }
}
