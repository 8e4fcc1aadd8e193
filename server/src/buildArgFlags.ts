/** `--build-arg K=V` flags as docker reads them: `--build-arg K` takes K from the environment. */
export function buildArgsOf(list: readonly string[] | undefined, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list ?? []) {
    const eq = kv.indexOf('=');
    if (eq < 0) {
      const v = env[kv];
      if (v !== undefined) out[kv] = v;
    } else {
      out[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
  }
  return out;
}
