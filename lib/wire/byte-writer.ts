/**
 * Writes MQTT's data types into a packet's one buffer, sized beforehand by the encoder: the writer never grows
 * or checks bounds, a wrong size computation shows up as bytes past the end being dropped (and the round-trip
 * tests catch it).
 */
import { encodeUtf8, utf8Length } from './utf8.js'

/** The largest value of a variable byte integer (4 bytes). */
export const VARINT_MAX = 268_435_455

/**
 * Bytes the variable byte integer for `n` takes.
 *
 * @example
 * ```ts
 * varintLength(128) // 2
 * ```
 */
export function varintLength(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : 4
}

/**
 * Bytes of a string's UTF-8 (without the two-byte length before it on the wire). Throws RangeError when it
 * does not fit the 65535 bytes that length can say, or holds U+0000, which MQTT strings must not: caller bugs,
 * caught here because every string is measured before it is written.
 *
 * @example
 * ```ts
 * stringLength('a/b') // 3
 * ```
 */
export function stringLength(s: string): number {
  const n = utf8Length(s)
  if (n > 0xffff) throw new RangeError(`an MQTT string holds at most 65535 bytes, not ${n}`)
  if (s.indexOf('\0') !== -1) throw new RangeError('MQTT strings must not hold U+0000')
  return n
}

/**
 * Bytes of binary data on the wire: two-byte length and the bytes.
 *
 * @example
 * ```ts
 * binaryLength(new Uint8Array(3)) // 5
 * ```
 */
export function binaryLength(b: Uint8Array): number {
  if (b.length > 0xffff) throw new RangeError(`MQTT binary data holds at most 65535 bytes, not ${b.length}`)
  return 2 + b.length
}

export class ByteWriter {
  readonly bytes: Uint8Array
  pos = 0

  /** @example `const w = new ByteWriter(2 + remainingLength)` */
  constructor(size: number) {
    this.bytes = new Uint8Array(size)
  }

  /** @example `w.u8(0x30)` */
  u8(v: number): void {
    this.bytes[this.pos++] = v
  }

  /** @example `w.u16(packetId)` */
  u16(v: number): void {
    const b = this.bytes
    b[this.pos++] = v >>> 8
    b[this.pos++] = v
  }

  /** @example `w.u32(sessionExpiry)` */
  u32(v: number): void {
    const b = this.bytes
    b[this.pos++] = v >>> 24
    b[this.pos++] = v >>> 16
    b[this.pos++] = v >>> 8
    b[this.pos++] = v
  }

  /** @example `w.varint(remainingLength)` */
  varint(v: number): void {
    const b = this.bytes
    do {
      let byte = v % 128
      v = Math.floor(v / 128)
      if (v > 0) byte |= 0x80
      b[this.pos++] = byte
    } while (v > 0)
  }

  /** Writes a string and its two-byte length, given `n = stringLength(s)`. @example `w.utf8('a/b', 3)` */
  utf8(s: string, n: number): void {
    this.u16(n)
    this.pos = encodeUtf8(this.bytes, this.pos, s, n)
  }

  /** @example `w.binary(correlationData)` */
  binary(data: Uint8Array): void {
    this.u16(data.length)
    this.raw(data)
  }

  /** @example `w.raw(payload)` */
  raw(data: Uint8Array): void {
    this.bytes.set(data, this.pos)
    this.pos += data.length
  }
}
