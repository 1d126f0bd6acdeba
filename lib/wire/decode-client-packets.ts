/**
 * The decoders of the packets only a client sends (CONNECT, SUBSCRIBE, UNSUBSCRIBE, PINGREQ): the half of the
 * codec a broker reads with, and with `BROKER_PACKETS` every packet. Tests, fuzzers and fake brokers use it;
 * the SDK's link never receives these, so it does not ship them.
 */
import type { QoS } from '../message.js'
import type { ByteCursor } from './byte-cursor.js'
import { decodeDisconnectOrAuth } from './decode-broker-packets.js'
import { type PacketDecoders, decodePacketId } from './decode.js'
import { PROTOCOL_ERROR, malformed } from './malformed-packet.js'
import type { Packet, Properties, Subscription, Will } from './packets.js'
import { WILL_PROPERTIES, decodeProperties } from './properties.js'

function decodeConnect(_first: number, c: ByteCursor): Packet {
  if (c.utf8() !== 'MQTT') malformed('CONNECT protocol name is not MQTT')
  const protocolVersion = c.u8()
  if (protocolVersion !== 4 && protocolVersion !== 5) malformed(`protocol level ${protocolVersion} is not 4 or 5`, 0x84)
  const v5 = protocolVersion === 5
  const flags = c.u8()
  if (flags & 0x01) malformed('CONNECT reserved flag set')
  const hasWill = (flags & 0x04) !== 0
  const willQoS = (flags >> 3) & 3
  if (willQoS === 3) malformed('will of QoS 3')
  if (!hasWill && (flags & 0x38) !== 0) malformed('will QoS or retain without a will')
  const hasPassword = (flags & 0x40) !== 0
  const hasUsername = (flags & 0x80) !== 0
  if (!v5 && hasPassword && !hasUsername) malformed('MQTT 3.1.1 password without a username')
  const keepalive = c.u16()
  const properties = v5 ? decodeProperties(c, 1) : undefined
  const clientId = c.utf8()
  let will: Will | undefined
  if (hasWill) {
    const willProperties: Properties | undefined = v5 ? decodeProperties(c, WILL_PROPERTIES) : undefined
    const topic = c.utf8()
    if (topic === '') malformed('CONNECT with an empty will topic', PROTOCOL_ERROR) // 4.7.3: at least one character
    const payload = c.binary()
    will = { topic, payload, qos: willQoS as QoS, retain: (flags & 0x20) !== 0, properties: willProperties }
  }
  const username = hasUsername ? c.utf8() : undefined
  const password = hasPassword ? c.binary() : undefined
  return { type: 'connect', protocolVersion, clientId, clean: (flags & 0x02) !== 0, keepalive, username, password, will, properties }
}

function decodeSubscribe(_first: number, c: ByteCursor, v5: boolean): Packet {
  const packetId = decodePacketId(c)
  const properties = v5 ? decodeProperties(c, 8) : undefined
  const subscriptions: Subscription[] = []
  while (c.left() > 0) subscriptions.push(subscription(filter(c), c.u8(), v5))
  if (subscriptions.length === 0) malformed('SUBSCRIBE without a filter', PROTOCOL_ERROR)
  return { type: 'subscribe', packetId, subscriptions, properties }
}

/** A topic filter, at least one character long (4.7.3). */
function filter(c: ByteCursor): string {
  const f = c.utf8()
  if (f === '') malformed('an empty topic filter', PROTOCOL_ERROR)
  return f
}

function subscription(filter: string, options: number, v5: boolean): Subscription {
  const qos = options & 3
  if (!v5) {
    if (options > 2) malformed('SUBSCRIBE options: reserved bits or QoS 3')
    return { filter, qos: qos as QoS }
  }
  if (options & 0xc0) malformed('SUBSCRIBE options: reserved bits set')
  const rh = (options >> 4) & 3
  if (qos === 3 || rh === 3) malformed('SUBSCRIBE options: QoS 3 or retain handling 3', PROTOCOL_ERROR)
  return { filter, qos: qos as QoS, nl: (options & 4) !== 0, rap: (options & 8) !== 0, rh: rh as 0 | 1 | 2 }
}

function decodeUnsubscribe(_first: number, c: ByteCursor, v5: boolean): Packet {
  const packetId = decodePacketId(c)
  const properties = v5 ? decodeProperties(c, 10) : undefined
  const filters: string[] = []
  while (c.left() > 0) filters.push(filter(c))
  if (filters.length === 0) malformed('UNSUBSCRIBE without a filter', PROTOCOL_ERROR)
  return { type: 'unsubscribe', packetId, filters, properties }
}

/**
 * What a broker accepts from a client beyond what both send, by packet type.
 *
 * @example
 * ```ts
 * decodePacket(first, cursor, 5, { ...BROKER_PACKETS, ...CLIENT_PACKETS })
 * ```
 */
export const CLIENT_PACKETS: PacketDecoders = {
  1: decodeConnect,
  8: decodeSubscribe,
  10: decodeUnsubscribe,
  12: () => ({ type: 'pingreq' }),
  // A reader of every packet cannot tell who sent a DISCONNECT: it takes a client's as well as a server's.
  14: (first, c, v5) => decodeDisconnectOrAuth(first, c, v5, true),
}
