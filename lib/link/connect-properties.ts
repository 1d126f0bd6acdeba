import type { LinkSettings } from './link.js'

/**
 * The MQTT 5 CONNECT properties a client's settings ask for (session expiry, the largest packet it takes), or
 * none: both links send the same ones.
 *
 * @example
 * ```ts
 * connectProperties({ ...settings, sessionExpiryInterval: 60 }) // { sessionExpiryInterval: 60 }
 * ```
 */
export function connectProperties({ sessionExpiryInterval, maxIncomingPacketSize }: LinkSettings): { sessionExpiryInterval?: number; maximumPacketSize?: number } | undefined {
  if (sessionExpiryInterval === undefined && maxIncomingPacketSize === undefined) return undefined
  return {
    ...(sessionExpiryInterval === undefined ? {} : { sessionExpiryInterval }),
    ...(maxIncomingPacketSize === undefined ? {} : { maximumPacketSize: maxIncomingPacketSize }),
  }
}
