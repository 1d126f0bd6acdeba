import type { IConnackPacket, MqttClient } from 'mqtt'
import type { concatBytes } from '../../transport/concat-bytes.js'
import { coalesceWrites } from './coalesce-writes.js'
import type { IncomingQos2 } from './incoming-qos2.js'
import type { OutgoingSession } from './outgoing-session.js'

/**
 * Readies MQTT.js for the connection a CONNACK accepted. Called from `packetreceive`, before MQTT.js handles
 * the CONNACK itself (it does next, synchronously) and resends its store: the lost session's rule on both
 * stores, writes coalesced, each chunk read handed to `read` first, and a server keepalive MQTT.js would ignore.
 * `keepalive` is the client's own (its options').
 *
 * @example
 * ```ts
 * acceptConnack(client, packet, session, qos2, kit.concatBytes, settings.keepalive, (chunk) => (lastChunk = chunk))
 * ```
 */
export function acceptConnack(
  client: MqttClient,
  connack: IConnackPacket,
  session: OutgoingSession,
  qos2: IncomingQos2,
  concat: typeof concatBytes,
  keepalive: number,
  read: (chunk: Uint8Array) => void,
): void {
  // Before MQTT.js resends its store: the lost session's rule.
  session.connack(client, connack.sessionPresent)
  if (!connack.sessionPresent) qos2.forget()
  // Before MQTT.js sends any PUBLISH on this connection (it holds them until the CONNACK).
  coalesceWrites(client.stream, concat)
  // Ahead of MQTT.js's own listener, which parses the chunk (and reports its errors) synchronously.
  client.stream.prependListener('data', read)
  // MQTT 5: a server keepalive is binding, but MQTT.js ignores it when the client asked for 0.
  const serverKeepAlive = connack.properties?.serverKeepAlive
  if (serverKeepAlive && !keepalive) client.options.keepalive = serverKeepAlive
}
