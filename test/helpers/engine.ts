/**
 * The private test engine (scripts/engine.sh, see scripts/README-engine.md) for tests that build
 * real images: start it (idempotent) and get the environment that points docker at it.
 */
import { engineSh, parseEngineEnv } from '../../scripts/lib/engine';

export { ENGINE_SH, parseEngineEnv } from '../../scripts/lib/engine';

const engine = (...args: string[]): Promise<string> => engineSh(args);

/** Starts the main engine if needed (never stops it: other tests share it); its environment. */
export async function startEngine(): Promise<NodeJS.ProcessEnv> {
  await engine('start');
  return parseEngineEnv(await engine('env'));
}

/** Starts an engine.sh profile (`28`, `28-containerd`, ...: its own instance) and returns its environment. */
export async function startProfile(profile: string): Promise<NodeJS.ProcessEnv> {
  return parseEngineEnv(await engine('start', profile));
}

/** A second engine on tcp://127.0.0.1:PORT, standing in for a remote one; stop it with stopTcpEngine. */
export async function startTcpEngine(port: number): Promise<NodeJS.ProcessEnv> {
  await engine('tcp', String(port));
  return { ...parseEngineEnv(await engine('env', 'tcp')), DOCKER_HOST: `tcp://127.0.0.1:${port}` };
}

export async function stopTcpEngine(): Promise<void> {
  await engine('stop-tcp');
}
