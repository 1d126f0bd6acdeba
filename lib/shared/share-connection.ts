import type { MQTTClient } from '../client/api.js'
import { Log } from '../log/log.js'
import type { Logger } from '../log/logger.js'
import type { MQTTClientOptions } from '../options/client-options.js'
import type { Platform } from '../options/endpoints.js'
import { resolveOptions } from '../options/resolve-options.js'
import type { LockManager } from './locks.js'
import { SharedClient } from './shared-client.js'

/**
 * The client for `sharedConnection: true` in a browser: one that shares the connection of the tabs of this
 * origin, or `undefined` (a connection of its own, then) when the option is off or the browser lacks Web
 * Locks or BroadcastChannel. Web Locks exist only in secure contexts: https:, or http://localhost.
 *
 * @example
 * ```ts
 * const client = sharedConnection(options, browserPlatform, (own) => new Client(own, runtime), () => undefined) ?? new Client(options, runtime)
 * ```
 */
export function sharedConnection(
  options: MQTTClientOptions,
  platform: Platform,
  engine: (options: MQTTClientOptions) => MQTTClient,
  debugLogger: () => Logger | undefined,
): MQTTClient | undefined {
  if (options.sharedConnection !== true) return undefined
  const resolved = resolveOptions(options, platform)
  const log = new Log(resolved.logger ?? debugLogger(), resolved.clientId)
  const locks = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks
  if (!locks || typeof BroadcastChannel !== 'function') {
    log.info('shared', { webLocks: locks !== undefined, broadcastChannel: typeof BroadcastChannel === 'function' },
      'sharedConnection: this page has no Web Locks (they need a secure context: https: or localhost) or no BroadcastChannel, so this tab has a connection of its own')
    return undefined
  }
  return new SharedClient(options, resolved, { locks, engine }, log)
}
