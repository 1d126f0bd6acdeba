/**
 * Packets a client sends, to bytes: CONNECT, PUBLISH, the four acks, SUBSCRIBE, UNSUBSCRIBE, PINGREQ,
 * DISCONNECT and AUTH. The half of the codec the SDK's link ships; what only a broker sends (CONNACK, SUBACK,
 * UNSUBACK, PINGRESP) is `encode-broker-packets.ts`, and `encode.ts` has both. Each packet is measured first
 * and written into exactly one Uint8Array of its size, so the link can hand it to the socket as is. Input MQTT
 * cannot carry (a packet id 0 where one is needed, a string over 65535 bytes, a packet over 268435455 bytes,
 * a property the packet does not allow) is the caller's bug and throws a RangeError before anything is written.
 */
import type { QoS } from '../message.js'
import { binaryLength, stringLength } from './byte-writer.js'
import { block, byte, checkPacketId, frame, qosOf, u16 } from './encode-frame.js'
import type { AckPacket, ConnectPacket, Packet, Properties, ProtocolLevel, SubscribePacket, UnsubscribePacket } from './packets.js'
import { WILL_PROPERTIES, propertiesLength, writeProperties } from './properties.js'
import { utf8Length, encodeUtf8 } from './utf8.js'

/**
 * The bytes of `packet` at protocol `level` (a CONNECT is written at its own `protocolVersion`). Level 4
 * leaves out properties and MQTT 5 reason codes; AUTH exists only at level 5. A packet only a broker sends
 * is a RangeError: a client has no business sending it.
 *
 * @example
 * ```ts
 * socket.write(encodeClientPacket({ type: 'puback', packetId: 7, reasonCode: 0 }, 5)) // 40 02 00 07
 * ```
 */
export function encodeClientPacket(packet: Packet, level: ProtocolLevel): Uint8Array {
  switch (packet.type) {
    case 'publish': {
      const p = packet
      return encodePublish(p.topic, p.payload, p.qos, p.retain, p.dup, p.packetId, p.properties, level)
    }
    case 'connect':
      return encodeConnect(packet)
    case 'puback':
    case 'pubrec':
    case 'pubrel':
    case 'pubcomp':
      return encodeAck(packet, level)
    case 'subscribe':
      return encodeSubscribe(packet, level)
    case 'unsubscribe':
      return encodeUnsubscribe(packet, level)
    case 'pingreq':
      return new Uint8Array([0xc0, 0])
    case 'disconnect':
    case 'auth': {
      const type = packet.type === 'disconnect' ? 14 : 15
      if (level === 4) {
        if (type === 15) throw new RangeError('AUTH exists only in MQTT 5')
        return new Uint8Array([0xe0, 0])
      }
      const props = propertiesLength(packet.properties, type)
      const code = byte(packet.reasonCode)
      // Success without properties: the reason code may go (and the property length with it).
      const short = props === 0 ? (code === 0 ? 0 : 1) : -1
      const w = frame(type << 4, short >= 0 ? short : 1 + block(props))
      if (short !== 0) w.u8(code)
      if (short < 0) writeProperties(w, packet.properties, props)
      return w.bytes
    }
    default:
      throw new RangeError(`a client does not send ${packet.type.toUpperCase()}`)
  }
}

/**
 * A PUBLISH without building a packet object first: the link's hot path. A string payload is sent as its
 * UTF-8. `packetId` is needed for QoS 1 and 2 only; `properties` are left out at level 4.
 *
 * @example
 * ```ts
 * const bytes = encodePublish('rooms/1/temp', '21.5', 1, false, false, 12, undefined, 5)
 * ```
 */
export function encodePublish(
  topic: string,
  payload: Uint8Array | string,
  qos: QoS,
  retain: boolean,
  dup: boolean,
  packetId: number | undefined,
  properties: Properties | undefined,
  level: ProtocolLevel,
): Uint8Array {
  if (qos !== 0 && qos !== 1 && qos !== 2) throw new RangeError(`QoS ${String(qos)} does not exist`)
  const topicLength = stringLength(topic)
  const payloadLength = typeof payload === 'string' ? utf8Length(payload) : payload.length
  const props = level === 5 ? propertiesLength(properties, 3) : -1
  const w = frame(
    0x30 | (dup ? 8 : 0) | (qos << 1) | (retain ? 1 : 0),
    2 + topicLength + (qos > 0 ? 2 : 0) + block(props) + payloadLength,
  )
  w.utf8(topic, topicLength)
  if (qos > 0) w.u16(checkPacketId(packetId))
  if (props >= 0) writeProperties(w, properties, props)
  if (typeof payload === 'string') encodeUtf8(w.bytes, w.pos, payload, payloadLength)
  else w.raw(payload)
  return w.bytes
}

function encodeConnect(p: ConnectPacket): Uint8Array {
  const v5 = p.protocolVersion === 5
  if (p.protocolVersion !== 4 && !v5) throw new RangeError(`MQTT level ${String(p.protocolVersion)} is not 4 or 5`)
  const will = p.will
  const clientId = stringLength(p.clientId)
  const props = v5 ? propertiesLength(p.properties, 1) : -1
  const willProps = v5 && will ? propertiesLength(will.properties, WILL_PROPERTIES) : -1
  const willTopic = will ? stringLength(will.topic) : 0
  const username = p.username !== undefined ? stringLength(p.username) : -1
  if (!v5 && p.password !== undefined && username < 0) throw new RangeError('MQTT 3.1.1 needs a username with a password')
  let length = 10 + block(props) + 2 + clientId
  if (will) length += block(willProps) + 2 + willTopic + binaryLength(will.payload)
  if (username >= 0) length += 2 + username
  if (p.password !== undefined) length += binaryLength(p.password)
  const w = frame(0x10, length)
  w.utf8('MQTT', 4)
  w.u8(p.protocolVersion)
  let flags = p.clean ? 0x02 : 0
  if (will) flags |= 0x04 | (qosOf(will.qos) << 3) | (will.retain ? 0x20 : 0)
  if (p.password !== undefined) flags |= 0x40
  if (username >= 0) flags |= 0x80
  w.u8(flags)
  w.u16(u16(p.keepalive, 'keepalive'))
  if (props >= 0) writeProperties(w, p.properties, props)
  w.utf8(p.clientId, clientId)
  if (will) {
    if (willProps >= 0) writeProperties(w, will.properties, willProps)
    w.utf8(will.topic, willTopic)
    w.binary(will.payload)
  }
  if (username >= 0) w.utf8(p.username!, username)
  if (p.password !== undefined) w.binary(p.password)
  return w.bytes
}

const ACK_TYPES = { puback: 4, pubrec: 5, pubrel: 6, pubcomp: 7 } as const

function encodeAck(p: AckPacket, level: ProtocolLevel): Uint8Array {
  const type = ACK_TYPES[p.type]
  const first = (type << 4) | (type === 6 ? 0b0010 : 0)
  const id = checkPacketId(p.packetId)
  const code = level === 5 ? byte(p.reasonCode) : 0
  const props = level === 5 ? propertiesLength(p.properties, type) : 0
  // Success without properties takes the 3.1.1 form at either level; a code alone needs no property length.
  const length = props > 0 ? 3 + block(props) : code !== 0 ? 3 : 2
  const w = frame(first, length)
  w.u16(id)
  if (length > 2) w.u8(code)
  if (props > 0) writeProperties(w, p.properties, props)
  return w.bytes
}

function encodeSubscribe(p: SubscribePacket, level: ProtocolLevel): Uint8Array {
  if (p.subscriptions.length === 0) throw new RangeError('a SUBSCRIBE needs a filter')
  const props = level === 5 ? propertiesLength(p.properties, 8) : -1
  let length = 2 + block(props)
  for (const s of p.subscriptions) length += 3 + stringLength(s.filter)
  const w = frame(0x82, length)
  w.u16(checkPacketId(p.packetId))
  if (props >= 0) writeProperties(w, p.properties, props)
  for (const s of p.subscriptions) {
    w.utf8(s.filter, stringLength(s.filter))
    let options = qosOf(s.qos)
    if (level === 5) {
      const rh = s.rh ?? 0
      if (rh !== 0 && rh !== 1 && rh !== 2) throw new RangeError(`retain handling ${String(rh)} does not exist`)
      options |= (s.nl ? 4 : 0) | (s.rap ? 8 : 0) | (rh << 4)
    }
    w.u8(options)
  }
  return w.bytes
}

function encodeUnsubscribe(p: UnsubscribePacket, level: ProtocolLevel): Uint8Array {
  if (p.filters.length === 0) throw new RangeError('an UNSUBSCRIBE needs a filter')
  const props = level === 5 ? propertiesLength(p.properties, 10) : -1
  let length = 2 + block(props)
  for (const f of p.filters) length += 2 + stringLength(f)
  const w = frame(0xa2, length)
  w.u16(checkPacketId(p.packetId))
  if (props >= 0) writeProperties(w, p.properties, props)
  for (const f of p.filters) w.utf8(f, stringLength(f))
  return w.bytes
}
