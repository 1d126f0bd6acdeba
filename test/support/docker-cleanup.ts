// Every container, network, volume and image tag the Docker tests create is named with a prefix of the run
// (`iotpubsub-test-<pid>-...`): each test file removes its own in afterAll, and the run's teardown removes by
// that prefix whatever a crashed or interrupted file left behind.
import { command } from './docker-image.js'

/** The start of every name the Docker tests give a compose project, container or image tag. */
export const RUN_LABEL_PREFIX = 'iotpubsub-test-'

async function names(args: string[]): Promise<string[]> {
  const out = await command('docker', args)
  return out.code === 0 ? out.stdout.split('\n').map((l) => l.trim()).filter(Boolean) : []
}

/** Removes the containers, networks, volumes and image tags whose names start with `prefix`. */
export async function removeLeftovers(prefix: string): Promise<void> {
  if (!prefix.startsWith(RUN_LABEL_PREFIX)) throw new Error(`refusing to clean up names outside ${RUN_LABEL_PREFIX}: ${prefix}`)
  const mine = (list: string[]) => list.filter((name) => name.startsWith(prefix))
  const containers = mine(await names(['ps', '-a', '--format', '{{.Names}}']))
  if (containers.length > 0) await command('docker', ['rm', '-f', '-v', ...containers])
  const networks = mine(await names(['network', 'ls', '--format', '{{.Name}}']))
  if (networks.length > 0) await command('docker', ['network', 'rm', ...networks])
  const volumes = mine(await names(['volume', 'ls', '--format', '{{.Name}}']))
  if (volumes.length > 0) await command('docker', ['volume', 'rm', '-f', ...volumes])
  const tags = mine(await names(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}']))
  if (tags.length > 0) await command('docker', ['rmi', ...tags])
}

/**
 * Removes what earlier runs left (a run killed before its teardown): names under the prefix whose run's
 * process (`iotpubsub-test-<pid>-`) is gone. Containers with `restart: unless-stopped` would otherwise come
 * back with the engine and hold their ports.
 */
export async function removeStaleRuns(): Promise<void> {
  const all = [
    ...(await names(['ps', '-a', '--format', '{{.Names}}'])),
    ...(await names(['network', 'ls', '--format', '{{.Name}}'])),
    ...(await names(['volume', 'ls', '--format', '{{.Name}}'])),
    ...(await names(['image', 'ls', '--format', '{{.Repository}}'])),
  ]
  const runs = new Set(all.map((name) => new RegExp(`^${RUN_LABEL_PREFIX}(\\d+)-`).exec(name)?.[1]).filter((pid): pid is string => pid !== undefined))
  for (const pid of runs) {
    if (!alive(Number(pid))) await removeLeftovers(`${RUN_LABEL_PREFIX}${pid}-`)
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
