/**
 * Packets only a broker sends, to bytes: CONNACK, SUBACK, UNSUBACK and PINGRESP. The half of the codec that
 * tests, fuzzers and fake brokers need beyond what a client sends (`encode-client-packets.ts`); the SDK's link
 * never sends these, so it does not ship them.
 */
import { block, byte, checkPacketId, frame } from './encode-frame.js'
import type { ConnackPacket, PingPacket, ProtocolLevel, SubackPacket, UnsubackPacket } from './packets.js'
import { propertiesLength, writeProperties } from './properties.js'

/** The packets of this half. */
export type BrokerOnlyPacket = ConnackPacket | SubackPacket | UnsubackPacket | (PingPacket & { readonly type: 'pingresp' })

/**
 * The bytes of `packet` at protocol `level`; level 4 leaves out properties and MQTT 5 reason codes.
 *
 * @example
 * ```ts
 * socket.write(encodeBrokerPacket({ type: 'connack', sessionPresent: false, reasonCode: 0 }, 5))
 * ```
 */
export function encodeBrokerPacket(packet: BrokerOnlyPacket, level: ProtocolLevel): Uint8Array {
  switch (packet.type) {
    case 'connack':
      return encodeConnack(packet, level)
    case 'suback':
    case 'unsuback': {
      const type = packet.type === 'suback' ? 9 : 11
      const codes = packet.reasonCodes
      const v3Unsuback = level === 4 && type === 11
      if (!v3Unsuback && codes.length === 0) throw new RangeError(`a ${packet.type} needs a reason code per filter`)
      const props = level === 5 ? propertiesLength(packet.properties, type) : -1
      const w = frame(type << 4, 2 + block(props) + (v3Unsuback ? 0 : codes.length))
      w.u16(checkPacketId(packet.packetId))
      if (props >= 0) writeProperties(w, packet.properties, props)
      if (!v3Unsuback) for (const code of codes) w.u8(byte(code))
      return w.bytes
    }
    case 'pingresp':
      return new Uint8Array([0xd0, 0])
  }
}

function encodeConnack(p: ConnackPacket, level: ProtocolLevel): Uint8Array {
  // A 3.1.1 return code (1 to 5) at level 5 is a 3.1.1 server's answer to an MQTT 5 CONNECT: its 2-byte form.
  const v4Answer = p.reasonCode > 0 && p.reasonCode <= 5 && p.properties === undefined
  const props = level === 5 && !v4Answer ? propertiesLength(p.properties, 2) : -1
  const w = frame(0x20, 2 + block(props))
  w.u8(p.sessionPresent ? 1 : 0)
  w.u8(byte(p.reasonCode))
  if (props >= 0) writeProperties(w, p.properties, props)
  return w.bytes
}
