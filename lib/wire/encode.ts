/**
 * Every packet to bytes, whichever side sends it: for tests, fuzzers, benchmarks and fake brokers. The SDK's
 * link encodes with `encodeClientPacket` alone, so that it does not ship the broker's half.
 */
import { encodeBrokerPacket } from './encode-broker-packets.js'
import { encodeClientPacket } from './encode-client-packets.js'
import type { Packet, ProtocolLevel } from './packets.js'

export { encodePublish } from './encode-client-packets.js'

/**
 * The bytes of `packet` at protocol `level` (a CONNECT is written at its own `protocolVersion`). Level 4
 * leaves out properties and MQTT 5 reason codes; AUTH exists only at level 5.
 *
 * @example
 * ```ts
 * socket.write(encode({ type: 'suback', packetId: 7, reasonCodes: [1] }, 5))
 * ```
 */
export function encode(packet: Packet, level: ProtocolLevel): Uint8Array {
  switch (packet.type) {
    case 'connack':
    case 'suback':
    case 'unsuback':
      return encodeBrokerPacket(packet, level)
    case 'pingresp':
      return encodeBrokerPacket({ type: 'pingresp' }, level)
    default:
      return encodeClientPacket(packet, level)
  }
}
