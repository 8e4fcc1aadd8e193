/**
 * What the engine knows of base images: `docker image inspect` on the user's engine (local or
 * remote, through DOCKER_HOST / the docker context), so that a moved tag is seen before building.
 */

import { execFile } from 'node:child_process';
import type { ImageInfo } from '../cache/steps';

interface InspectedImage {
  Id?: unknown;
  RepoTags?: unknown;
  Config?: { Env?: unknown; WorkingDir?: unknown; User?: unknown; Shell?: unknown } | null;
}

function envPairs(list: unknown): Array<[string, string]> {
  if (!Array.isArray(list)) return [];
  return list.filter((x): x is string => typeof x === 'string').map((kv) => {
    const eq = kv.indexOf('=');
    return eq < 0 ? [kv, ''] : [kv.slice(0, eq), kv.slice(eq + 1)];
  });
}

/** Parses `docker image inspect` JSON output into image infos, in the order given. */
export function parseInspect(json: string): Array<ImageInfo | undefined> {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch {
    return [];
  }
  if (!Array.isArray(data)) return [];
  return (data as InspectedImage[]).map((img) => {
    if (typeof img.Id !== 'string') return undefined;
    const c = img.Config ?? {};
    return {
      id: img.Id,
      env: envPairs(c.Env),
      workdir: typeof c.WorkingDir === 'string' ? c.WorkingDir : '',
      user: typeof c.User === 'string' ? c.User : '',
      shell: Array.isArray(c.Shell) && c.Shell.every((s) => typeof s === 'string') ? (c.Shell) : undefined,
    };
  });
}

function inspectOne(ref: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<ImageInfo | undefined> {
  return new Promise((resolve) => {
    execFile('docker', ['image', 'inspect', ref], { env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout) => {
      // A missing image (or no engine) is an answer, not an error: the image will be pulled.
      if (err !== null) resolve(undefined);
      else resolve(parseInspect(stdout)[0]);
    });
  });
}

/** Inspects each reference on the user's engine; an image the engine does not have maps to undefined. */
export async function inspectImages(refs: readonly string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 15000): Promise<Map<string, ImageInfo | undefined>> {
  const unique = [...new Set(refs)];
  const infos = await Promise.all(unique.map((r) => inspectOne(r, env, timeoutMs)));
  return new Map(unique.map((r, i) => [r, infos[i]]));
}
