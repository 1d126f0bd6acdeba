import type { PublishProperties } from '../options/client-options.js'
// The wire's own count (a lone surrogate as the 3 bytes of U+FFFD, as TextEncoder writes it): one helper, not two.
import { utf8Length } from '../wire/utf8.js'

/** The payload's size in bytes, as sent (a string as UTF-8). */
export function payloadSize(payload: Uint8Array | string): number {
  return typeof payload === 'string' ? utf8Length(payload) : payload.length
}

/**
 * An upper bound on the size of the PUBLISH packet MQTT.js will write: fixed header with the longest
 * remaining-length field, topic, packet id, properties (over-estimated), payload.
 */
export function publishPacketSize(topic: string, payload: Uint8Array | string, qos: number, properties: PublishProperties | undefined): number {
  const payloadBytes = payloadSize(payload)
  let propertyBytes = 0
  if (properties) {
    // Each property: an identifier byte, a length prefix and its value; JSON text over-counts every value.
    propertyBytes = 4 + utf8Length(JSON.stringify(properties, (_key, value: unknown) => (value instanceof Uint8Array ? 'x'.repeat(value.length) : value)))
  }
  return 1 + 4 + 2 + utf8Length(topic) + (qos > 0 ? 2 : 0) + propertyBytes + payloadBytes
}
