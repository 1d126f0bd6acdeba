import { networkInterfaces } from 'node:os'

/**
 * Publishes with `publish()` every `everyMs` until `received` settles, then returns what it resolved to.
 * For a subscriber whose SUBSCRIBE cannot be observed from outside (the SDK subscribes in the background):
 * the first copy that arrives proves the subscription is active, without sleeping for a guessed time.
 */
export async function publishUntil<T>(received: Promise<T>, publish: () => Promise<unknown>, everyMs = 100): Promise<T> {
  let done = false
  const settled = received.finally(() => {
    done = true
  })
  const loop = (async () => {
    while (!done) {
      await publish().catch(() => undefined)
      await Promise.race([settled.catch(() => undefined), new Promise((r) => setTimeout(r, everyMs))])
    }
  })()
  try {
    return await settled
  } finally {
    await loop
  }
}

/** An IPv4 address of this machine other than loopback, if it has one. */
export function externalIPv4(): string | undefined {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) if (address.family === 'IPv4' && !address.internal) return address.address
  }
  return undefined
}
