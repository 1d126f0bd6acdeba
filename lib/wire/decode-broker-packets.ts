/**
 * The decoders of every packet a broker sends (CONNACK, PUBLISH, the four acks, SUBACK, UNSUBACK, PINGRESP,
 * DISCONNECT, AUTH): the half of the codec a client reads with, and all the browser's link ships.
 */
import type { QoS } from '../message.js'
import type { ByteCursor } from './byte-cursor.js'
import { type PacketDecoders, decodePacketId } from './decode.js'
import { malformed } from './malformed-packet.js'
import type { AckPacket, Packet, PublishPacket } from './packets.js'
import { decodeProperties } from './properties.js'

function decodeConnack(_first: number, c: ByteCursor, v5: boolean): Packet {
  const flags = c.u8()
  if (flags > 1) malformed('CONNACK flags other than session present')
  const reasonCode = c.u8()
  // A 3.1.1 server answers an MQTT 5 CONNECT with a 3.1.1 CONNACK (2 bytes, return code 1): no properties.
  const properties = v5 && c.left() > 0 ? decodeProperties(c, 2) : undefined
  return { type: 'connack', sessionPresent: flags === 1, reasonCode, properties }
}

function decodePublish(first: number, c: ByteCursor, v5: boolean): PublishPacket {
  const qos = ((first >> 1) & 3) as QoS
  const topic = c.utf8()
  const packetId = qos > 0 ? decodePacketId(c) : undefined
  const properties = v5 ? decodeProperties(c, 3) : undefined
  return {
    type: 'publish',
    topic,
    payload: c.rest(c.left()),
    qos,
    retain: (first & 1) === 1,
    dup: (first & 8) === 8,
    packetId,
    properties,
  }
}

const ACK_TYPES = ['puback', 'pubrec', 'pubrel', 'pubcomp'] as const

/** PUBACK, PUBREC, PUBREL, PUBCOMP (packet types 4 to 7): one layout. */
function decodeAck(first: number, c: ByteCursor, v5: boolean): AckPacket {
  const place = first >> 4
  const type = ACK_TYPES[place - 4]!
  const packetId = decodePacketId(c)
  // MQTT 5 may leave out the reason code (success) and the property length (no properties).
  if (!v5 || c.left() === 0) return { type, packetId, reasonCode: 0 }
  const reasonCode = c.u8()
  const properties = c.left() > 0 ? decodeProperties(c, place) : undefined
  return { type, packetId, reasonCode, properties }
}

/** SUBACK and UNSUBACK (9, 11): a reason code per filter, but a 3.1.1 UNSUBACK has none. */
function decodeSubackOrUnsuback(first: number, c: ByteCursor, v5: boolean): Packet {
  const type = first >> 4 === 9 ? 'suback' : 'unsuback'
  const packetId = decodePacketId(c)
  if (type === 'unsuback' && !v5) return { type, packetId, reasonCodes: [] }
  const properties = v5 ? decodeProperties(c, first >> 4) : undefined
  const reasonCodes: number[] = []
  while (c.left() > 0) reasonCodes.push(c.u8())
  if (reasonCodes.length === 0) malformed(`${type.toUpperCase()} without a reason code`)
  return { type, packetId, reasonCodes, properties }
}

/** DISCONNECT and AUTH (14, 15; AUTH level 5 only: checkFixedHeader): both may end after any field. */
function decodeDisconnectOrAuth(first: number, c: ByteCursor, v5: boolean): Packet {
  const type = first >> 4 === 14 ? 'disconnect' : 'auth'
  if (!v5 || c.left() === 0) return { type, reasonCode: 0 }
  const reasonCode = c.u8()
  const properties = c.left() > 0 ? decodeProperties(c, first >> 4) : undefined
  return { type, reasonCode, properties }
}

/**
 * What a client accepts from a broker, by packet type.
 *
 * @example
 * ```ts
 * decodePacket(first, cursor, 5, BROKER_PACKETS)
 * ```
 */
export const BROKER_PACKETS: PacketDecoders = {
  2: decodeConnack,
  3: decodePublish,
  4: decodeAck,
  5: decodeAck,
  6: decodeAck,
  7: decodeAck,
  9: decodeSubackOrUnsuback,
  11: decodeSubackOrUnsuback,
  13: () => ({ type: 'pingresp' }),
  14: decodeDisconnectOrAuth,
  15: decodeDisconnectOrAuth,
}
