/**
 * Bytes of one whole packet to a packet object, by a table of decoders per packet type. The reader
 * (`framed-reader.ts`) frames the stream and hands each packet here as a cursor over its body: every read is
 * bounded by the packet's end, and bytes left over at the end are a malformed packet. The layouts follow
 * MQTT 3.1.1 and 5 (chapter 3 of each); what a packet must not hold is rejected with the reason code the
 * specification names for it. The decoders come in two halves, so that a client ships only the one it needs:
 * what a broker sends (`decode-broker-packets.ts`) and what only a client sends (`decode-client-packets.ts`).
 */
import type { ByteCursor } from './byte-cursor.js'
import { PROTOCOL_ERROR, malformed } from './malformed-packet.js'
import type { Packet, ProtocolLevel } from './packets.js'

/** Decodes the body of one packet type; `first` is its fixed header's first byte, `v5` its level. */
export type PacketDecoder = (first: number, c: ByteCursor, v5: boolean) => Packet

/** The packet types a reader accepts, each with its decoder (index: the packet type, 1 CONNECT … 15 AUTH). */
export type PacketDecoders = Readonly<Record<number, PacketDecoder>>

/**
 * Checks a fixed header's first byte (packet type and flags) as soon as it arrives, before the length.
 *
 * @example
 * ```ts
 * checkFixedHeader(0x30, 5) // a PUBLISH of QoS 0: fine
 * ```
 */
export function checkFixedHeader(first: number, level: ProtocolLevel): void {
  const type = first >> 4
  const flags = first & 0x0f
  if (type === 3) {
    if ((flags & 0x06) === 0x06) malformed('PUBLISH of QoS 3')
  } else if (type === 6 || type === 8 || type === 10) {
    if (flags !== 0b0010) malformed(`packet type ${type} needs fixed header flags 0010`)
  } else if (type === 0) {
    malformed('packet type 0 is reserved')
  } else if (flags !== 0) {
    malformed(`fixed header flags for packet type ${type} must be 0`)
  } else if (type === 15 && level === 4) {
    malformed('AUTH in MQTT 3.1.1')
  }
}

/**
 * Checks the body length of packet types that fix it (a PINGRESP has none), so that such a packet announcing
 * more fails at once, not after its body has arrived.
 *
 * @example
 * ```ts
 * checkBodyLength(0xd0, 0, 4) // a PINGRESP: fine
 * ```
 */
export function checkBodyLength(first: number, remaining: number, level: ProtocolLevel): void {
  const type = first >> 4
  if (type === 12 || type === 13) {
    if (remaining !== 0) malformed('PINGREQ and PINGRESP have no body')
  } else if (level === 4 && type !== 1 && type !== 3 && type !== 8 && type !== 9 && type !== 10) {
    const fixed = type === 14 ? 0 : 2 // DISCONNECT; CONNACK, the acks and UNSUBACK
    if (remaining !== fixed) malformed(`MQTT 3.1.1 packet type ${type} has a body of ${fixed} bytes`)
  }
}

/**
 * Rejects a packet type the reader does not take from its peer (a CONNECT from a broker) as soon as its first
 * byte arrives: a protocol error (0x82), as MQTT names a packet sent in the wrong direction.
 *
 * @example
 * ```ts
 * checkAccepted(0x10, BROKER_PACKETS) // a CONNECT to a client: throws MalformedPacketError
 * ```
 */
export function checkAccepted(first: number, decoders: PacketDecoders): void {
  if (decoders[first >> 4] === undefined) malformed(`packet type ${first >> 4} is not one this side receives`, PROTOCOL_ERROR)
}

/**
 * Decodes the body at the cursor (which ends at the packet's end) of a packet whose fixed header passed
 * `checkFixedHeader`, `checkAccepted` and `checkBodyLength`. Throws MalformedPacketError.
 *
 * @example
 * ```ts
 * cursor.reset(bytes, 2, bytes.length)
 * decodePacket(bytes[0]!, cursor, 5, BROKER_PACKETS)
 * ```
 */
export function decodePacket(first: number, c: ByteCursor, level: ProtocolLevel, decoders: PacketDecoders): Packet {
  const packet = decoders[first >> 4]!(first, c, level === 5)
  if (c.pos !== c.end) malformed('bytes after the end of the packet')
  return packet
}

/**
 * A packet identifier, which is never 0. For the decoders of either half.
 *
 * @example
 * ```ts
 * const packetId = decodePacketId(cursor)
 * ```
 */
export function decodePacketId(c: ByteCursor): number {
  const packetId = c.u16()
  if (packetId === 0) malformed('packet identifier 0', PROTOCOL_ERROR)
  return packetId
}
