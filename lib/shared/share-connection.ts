import type { MQTTClient } from '../client/api.js'
import { Client, type ClientRuntime } from '../client/client.js'
import type { PageLifecycle, PageReactions } from '../lifecycle/page-lifecycle.js'
import { Log } from '../log/log.js'
import type { MQTTClientOptions } from '../options/client-options.js'
import { resolveOptions } from '../options/resolve-options.js'
import type { LockManager } from './locks.js'
import { SharedClient } from './shared-client.js'

/**
 * The client of `iotpubsub/shared` in a browser: one that shares the connection of the tabs of this origin,
 * or `undefined` (a connection of its own, then) when the browser lacks Web Locks or BroadcastChannel. Web
 * Locks exist only in secure contexts: https:, or http://localhost.
 *
 * @example
 * ```ts
 * const client = sharedConnection(options, runtime) ?? new Client(options, runtime)
 * ```
 */
export function sharedConnection(options: MQTTClientOptions, runtime: ClientRuntime): MQTTClient | undefined {
  const resolved = resolveOptions(options, runtime.platform)
  const log = new Log(resolved.logger ?? runtime.debugLogger(), resolved.clientId)
  const locks = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks
  if (!locks || typeof BroadcastChannel !== 'function') {
    log.info('shared', { webLocks: locks !== undefined, broadcastChannel: typeof BroadcastChannel === 'function' },
      'this page has no Web Locks (they need a secure context: https: or localhost) or no BroadcastChannel, so this tab does not share: it has a connection of its own')
    return undefined
  }
  // The holding tab's engine hears its own page and, forwarded by the hub, the other tabs' pages coming back.
  const engine = (own: MQTTClientOptions, forwarded: PageLifecycle): MQTTClient =>
    new Client(own, { ...runtime, lifecycle: both(runtime.lifecycle, forwarded) })
  return new SharedClient(options, resolved, { locks, engine, lifecycle: resolved.pageLifecycle ? runtime.lifecycle : undefined }, log)
}

function both(own: PageLifecycle | undefined, forwarded: PageLifecycle): PageLifecycle {
  return (reactions: PageReactions) => {
    const stopOwn = own?.(reactions)
    const stopForwarded = forwarded(reactions)
    return () => {
      stopOwn?.()
      stopForwarded()
    }
  }
}
