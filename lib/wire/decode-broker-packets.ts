/**
 * The decoders of every packet a broker sends (CONNACK, PUBLISH, the four acks, SUBACK, UNSUBACK, PINGRESP,
 * DISCONNECT, AUTH): the half of the codec a client reads with, and all the browser's link ships. Reason codes
 * are checked against each packet's table (`check-reason-code.ts`).
 */
import type { QoS } from '../message.js'
import type { ByteCursor } from './byte-cursor.js'
import {
  AUTH_CODES,
  CONNACK_CODES,
  PUBACK_CODES,
  PUBREL_CODES,
  SERVER_DISCONNECT_CODES,
  SUBACK_CODES,
  UNSUBACK_CODES,
  checkReasonCode,
} from './check-reason-code.js'
import { type PacketDecoders, decodePacketId } from './decode.js'
import { PROTOCOL_ERROR, malformed } from './malformed-packet.js'
import type { AckPacket, Packet, PublishPacket } from './packets.js'
import { decodeProperties } from './properties.js'

function decodeConnack(_first: number, c: ByteCursor, v5: boolean): Packet {
  const flags = c.u8()
  if (flags > 1) malformed('CONNACK flags other than session present')
  const reasonCode = c.u8()
  // A 3.1.1 server answers an MQTT 5 CONNECT with a 3.1.1 CONNACK (2 bytes, return code 1): no properties,
  // and a 3.1.1 return code.
  const short = !v5 || c.left() === 0
  checkReasonCode(reasonCode, CONNACK_CODES, !short)
  // 3.2.2.1.1 (3.1.1: 3.2.2.2): a refusal has no session.
  if (reasonCode !== 0 && flags === 1) malformed('CONNACK refusal with a session', PROTOCOL_ERROR)
  const properties = short ? undefined : decodeProperties(c, 2)
  return { type: 'connack', sessionPresent: flags === 1, reasonCode, properties }
}

function decodePublish(first: number, c: ByteCursor, v5: boolean): PublishPacket {
  const qos = ((first >> 1) & 3) as QoS
  const topic = c.utf8()
  const packetId = qos > 0 ? decodePacketId(c) : undefined
  const properties = v5 ? decodeProperties(c, 3) : undefined
  // 3.3.2.3.4 (3.1.1: 4.7.3): an empty topic name only stands for a topic alias.
  if (topic === '' && properties?.topicAlias === undefined) malformed('PUBLISH without topic or alias', PROTOCOL_ERROR)
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
  checkReasonCode(reasonCode, place < 6 ? PUBACK_CODES : PUBREL_CODES, true)
  const properties = c.left() > 0 ? decodeProperties(c, place) : undefined
  return { type, packetId, reasonCode, properties }
}

/** SUBACK and UNSUBACK (9, 11): a reason code per filter, but a 3.1.1 UNSUBACK has none. */
function decodeSubackOrUnsuback(first: number, c: ByteCursor, v5: boolean): Packet {
  const type = first >> 4 === 9 ? 'suback' : 'unsuback'
  const packetId = decodePacketId(c)
  if (type === 'unsuback' && !v5) return { type, packetId, reasonCodes: [] }
  const properties = v5 ? decodeProperties(c, first >> 4) : undefined
  const allowed = type === 'unsuback' ? UNSUBACK_CODES : SUBACK_CODES
  const reasonCodes: number[] = []
  while (c.left() > 0) {
    const code = c.u8()
    checkReasonCode(code, allowed, v5)
    reasonCodes.push(code)
  }
  if (reasonCodes.length === 0) malformed(`${type.toUpperCase()} without a reason code`)
  return { type, packetId, reasonCodes, properties }
}

/**
 * DISCONNECT and AUTH (14, 15; AUTH level 5 only: checkFixedHeader): both may end after any field. A client
 * reads a server's DISCONNECT; `eitherSide`, for a reader of every packet, also takes a client's: 0x04
 * Disconnect with Will Message, and a session expiry interval (3.14.2.1, 3.14.2.2.2).
 *
 * @example
 * ```ts
 * const decoders = { ...BROKER_PACKETS, 14: (f, c, v5) => decodeDisconnectOrAuth(f, c, v5, true) }
 * ```
 */
export function decodeDisconnectOrAuth(first: number, c: ByteCursor, v5: boolean, eitherSide = false): Packet {
  const disconnect = first >> 4 === 14
  const type = disconnect ? 'disconnect' : 'auth'
  if (!v5 || c.left() === 0) return { type, reasonCode: 0 }
  const reasonCode = c.u8()
  if (!eitherSide || reasonCode !== 4) checkReasonCode(reasonCode, disconnect ? SERVER_DISCONNECT_CODES : AUTH_CODES, true)
  const properties = c.left() > 0 ? decodeProperties(c, first >> 4) : undefined
  if (disconnect && !eitherSide && properties?.sessionExpiryInterval !== undefined) {
    malformed('server DISCONNECT with session expiry', PROTOCOL_ERROR)
  }
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
