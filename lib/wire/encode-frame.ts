/**
 * What every encoder shares, in either half of the codec: the fixed header and sizing of a packet, and the
 * checks of fields MQTT bounds (a caller's bug when out of range: RangeError, before anything is written).
 */
import { ByteWriter, VARINT_MAX, varintLength } from './byte-writer.js'

/**
 * A writer holding the fixed header, sized for `remaining` more bytes.
 *
 * @example
 * ```ts
 * const w = frame(0x20, 2) // a CONNACK without properties
 * ```
 */
export function frame(first: number, remaining: number): ByteWriter {
  if (remaining > VARINT_MAX) throw new RangeError(`a packet holds at most ${VARINT_MAX} bytes after its header, not ${remaining}`)
  const w = new ByteWriter(1 + varintLength(remaining) + remaining)
  w.u8(first)
  w.varint(remaining)
  return w
}

/**
 * Bytes of a property block of `length` (its varint and contents); 0 for -1, "no block at this level".
 *
 * @example `block(propertiesLength(props, 2))`
 */
export function block(length: number): number {
  return length < 0 ? 0 : varintLength(length) + length
}

/** A packet identifier the packet can carry. @example `w.u16(checkPacketId(p.packetId))` */
export function checkPacketId(id: number | undefined): number {
  if (id === undefined || !Number.isInteger(id) || id < 1 || id > 0xffff) {
    throw new RangeError(`packet identifier ${String(id)} is not 1 to 65535`)
  }
  return id
}

/** A reason code that fits its byte. @example `w.u8(byte(p.reasonCode))` */
export function byte(v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new RangeError(`reason code ${v} is not a byte`)
  return v
}

/** A two-byte integer field. @example `w.u16(u16(p.keepalive, 'keepalive'))` */
export function u16(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError(`${what} ${v} is not 0 to 65535`)
  return v
}

/** A QoS that exists. @example `options |= qosOf(s.qos)` */
export function qosOf(q: number): number {
  if (q !== 0 && q !== 1 && q !== 2) throw new RangeError(`QoS ${q} does not exist`)
  return q
}
