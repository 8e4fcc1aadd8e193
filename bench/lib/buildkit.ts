/**
 * BuildKit itself on a context, through the private test engine (scripts/engine.sh; started if
 * needed, never stopped): `docker buildx build --progress=rawjson --output type=cacheonly` of
 * `FROM alpine` + `COPY . /dcl-bench-ctx`, with the durations BuildKit reports for its
 * `[internal] load build context` and COPY vertices. Only the benchmark's own cache records are
 * pruned (by id), so other users of the shared engine keep theirs.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RawJsonProgressParser } from '../../server/src/build/progress';
import type { VertexResult } from '../../server/src/cache/types';
import { startEngine } from '../../test/helpers/engine';

export const COPY_TARGET = '/dcl-bench-ctx';

export async function engineEnv(): Promise<{ env: NodeJS.ProcessEnv } | { error: string }> {
  try {
    return { env: await startEngine() };
  } catch (e) {
    return { error: e instanceof Error ? e.message.split('\n')[0] ?? e.message : String(e) };
  }
}

export function docker(env: NodeJS.ProcessEnv, args: string[], onStderr?: (text: string) => void): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('docker', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (onStderr !== undefined) onStderr(d);
      else stderr += d;
    });
    child.on('error', (e) => { resolve({ code: null, stdout, stderr: stderr + e.message }); });
    child.on('close', (code) => { resolve({ code, stdout, stderr }); });
  });
}

export interface CacheRecord {
  id: string;
  type: string;
  description: string;
}

/** Every build cache record (`docker buildx du --verbose`). */
export async function cacheRecords(env: NodeJS.ProcessEnv): Promise<CacheRecord[]> {
  const r = await docker(env, ['buildx', 'du', '--verbose']);
  const out: CacheRecord[] = [];
  let cur: Partial<CacheRecord> = {};
  for (const line of r.stdout.split('\n')) {
    const m = /^([A-Za-z ]+):\s*(.*)$/.exec(line);
    if (m === null) continue;
    const [, key, value = ''] = m;
    if (key === 'ID') {
      if (cur.id !== undefined) out.push({ id: cur.id, type: cur.type ?? '', description: cur.description ?? '' });
      cur = { id: value.trim() };
    } else if (key === 'Type') cur.type = value.trim();
    else if (key === 'Description') cur.description = value.trim();
  }
  if (cur.id !== undefined) out.push({ id: cur.id, type: cur.type ?? '', description: cur.description ?? '' });
  return out;
}

/** Removes these records (one regex filter: buildx takes one value per filter key). */
export async function pruneRecords(env: NodeJS.ProcessEnv, ids: readonly string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 50) {
    const chunk = ids.slice(i, i + 50).filter((id) => /^[a-z0-9]+$/.test(id));
    if (chunk.length === 0) continue;
    await docker(env, ['buildx', 'prune', '-af', '--filter', `id=^(${chunk.join('|')})$`]);
  }
}

export interface BuildTiming {
  ok: boolean;
  error: string | undefined;
  wallMs: number;
  /** `[internal] load build context`: the client walks, the daemon receives and stores the context. */
  loadContextMs: number | undefined;
  /** `COPY . /dcl-bench-ctx`: checksum of the context, then the copy (when not cached). */
  copyMs: number | undefined;
  copyCached: boolean;
  /** Bytes BuildKit reported for `transferring context` (the most it reported). */
  transferredBytes: number | undefined;
  vertices: VertexResult[];
}

/** The benchmark's Dockerfile, outside the context so it is not part of it. */
export function writeBuildDockerfile(dir: string): string {
  const file = path.join(dir, 'Dockerfile.buildkit');
  fs.writeFileSync(file, `FROM alpine\nCOPY . ${COPY_TARGET}\n`);
  return file;
}

export async function timedBuild(env: NodeJS.ProcessEnv, dockerfile: string, context: string): Promise<BuildTiming> {
  const parser = new RawJsonProgressParser({ includeInternal: true });
  let transferred: number | undefined;
  let tail = '';
  const t = performance.now();
  const r = await docker(env, ['buildx', 'build', '--progress=rawjson', '--output', 'type=cacheonly', '-f', dockerfile, context], (d) => {
    parser.feed(d);
    // Status objects: {"id": "transferring context:", ..., "current": N, ...}
    const text = tail + d;
    for (const m of text.matchAll(/"id":\s*"transferring context:?"[^{}]*?"current":\s*(\d+)/g)) {
      transferred = Math.max(transferred ?? 0, Number(m[1]));
    }
    tail = text.slice(-512);
  });
  const wallMs = performance.now() - t;
  parser.end();
  const vertices = parser.results();
  const load = vertices.find((v) => v.name === '[internal] load build context');
  const copy = vertices.find((v) => v.name.includes(`COPY . ${COPY_TARGET}`));
  const errors = parser.unparsed.filter((l) => l.startsWith('ERROR'));
  return {
    ok: r.code === 0,
    error: r.code === 0 ? undefined : errors.join('\n') || r.stderr || `exit ${String(r.code)}`,
    wallMs,
    loadContextMs: load?.durationMs,
    copyMs: copy?.durationMs,
    copyCached: copy?.cached ?? false,
    transferredBytes: transferred,
    vertices,
  };
}

/** Records this benchmark created: its context's local source and its COPY layers. */
export function ownRecords(before: ReadonlySet<string>, now: readonly CacheRecord[]): string[] {
  return now.filter((r) => !before.has(r.id) && (r.type === 'source.local' || r.description.includes(COPY_TARGET))).map((r) => r.id);
}
