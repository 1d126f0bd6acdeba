import type { MQTTClientOptions } from '../options/client-options.js'
import type { ResolvedOptions } from '../options/resolved-options.js'

/**
 * The name the tabs sharing one connection meet under: the same broker URL(s), client id, credentials and
 * enhanced authentication method give the same name. The credentials go in hashed, so that no password
 * appears in lock or channel names; a `credentials` provider counts as "provider" (it cannot be compared), and
 * a client without a client id of its own shares with the other tabs that gave none.
 *
 * @example
 * ```ts
 * sharingGroup(options, resolved) // 'iotpubsub:5f0c2a71e93d4b08'
 * ```
 */
export function sharingGroup(options: MQTTClientOptions, resolved: ResolvedOptions): string {
  const identity = JSON.stringify([
    resolved.endpoints.map((e) => `${e.protocol}://${e.hostname}:${e.port}${e.path}`),
    options.clientId ?? null,
    resolved.username ?? null,
    resolved.password ?? null,
    resolved.credentials ? 'provider' : null,
    resolved.auth?.method ?? null,
  ])
  return `iotpubsub:${fnv1a(identity, 0x811c9dc5)}${fnv1a(identity, 0x050c5d1f)}`
}

function fnv1a(text: string, seed: number): string {
  let hash = seed
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash.toString(16).padStart(8, '0')
}
