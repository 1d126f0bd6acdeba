import type { QoS } from '../message.js'

/**
 * The default of every option that has one, in one place (the option types in `lib/options.ts` document
 * the same values).
 *
 * @example
 * ```ts
 * DEFAULTS.keepalive // 30
 * ```
 */
export const DEFAULTS = Object.freeze({
  keepalive: 30,
  connectTimeout: 30_000,
  maxQos: 2 as QoS,
  replyTopicPrefix: 'iotpubsub/reply',
  retainedCacheSize: 1_000,
  protocolVersion: 'auto' as 4 | 5 | 'auto',
  reconnect: Object.freeze({ initialDelay: 1_000, maxDelay: 30_000 }),
  offlineQueue: Object.freeze({ maxMessages: 1_000, maxBytes: 1_048_576, qos0: 'queue' as 'queue' | 'reject' }),
})

/**
 * MQTT 5 session expiry for `clean: false` when none is given: as long as 3.1.1 keeps a session (the
 * protocol's "never expires").
 */
export const SESSION_NEVER_EXPIRES = 0xffff_ffff

/**
 * A client id for a client that gave none: `iotpubsub_` and 12 random hex digits, from the platform's
 * crypto so that thousands of dashboards do not collide (and take over each other's sessions).
 *
 * @example
 * ```ts
 * randomClientId() // 'iotpubsub_3f9a0c1b2d4e'
 * ```
 */
export function randomClientId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(6))
  return `iotpubsub_${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`
}
