import type { PublishProperties } from '../options/client-options.js'
import type { ProtocolVersion } from '../status.js'
import { stringLength, varintLength } from '../wire/byte-writer.js'
import { block } from '../wire/encode-frame.js'
import type { Properties } from '../wire/packets.js'
import { propertiesLength } from '../wire/properties.js'
// The wire's own count (a lone surrogate as the 3 bytes of U+FFFD, as TextEncoder writes it): one helper, not two.
import { utf8Length } from '../wire/utf8.js'

/**
 * The payload's size in bytes, as sent (a string as UTF-8).
 *
 * @example
 * ```ts
 * payloadSize('°C') // 3
 * ```
 */
export function payloadSize(payload: Uint8Array | string): number {
  return typeof payload === 'string' ? utf8Length(payload) : payload.length
}

/**
 * The exact size of the PUBLISH packet for these fields at `protocol` (3.1.1 carries no properties), fixed
 * header included: what `maximumPacketSize` limits. It is measured by the encoder's own sizing functions,
 * without encoding anything; both links write the same bytes for a publish (MQTT.js sizes properties the same
 * way), so one count serves both. Throws RangeError where the encoder would (a topic or property MQTT cannot
 * carry), so call it with fields already validated.
 *
 * @example
 * ```ts
 * publishPacketSize('a/b', 'hi', 1, undefined, 5) // 2 + (2 + 3) + 2 + 1 + 2 = 12
 * ```
 */
export function publishPacketSize(
  topic: string,
  payload: Uint8Array | string,
  qos: number,
  properties: PublishProperties | undefined,
  protocol: ProtocolVersion,
): number {
  const props = protocol === 5 ? propertiesLength(properties as Properties | undefined, 3) : -1
  const remaining = 2 + stringLength(topic) + (qos > 0 ? 2 : 0) + block(props) + payloadSize(payload)
  return 1 + varintLength(remaining) + remaining
}
