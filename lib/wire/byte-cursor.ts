/**
 * Reads MQTT's data types from a window of a byte array. Every read is checked against the window's end, so a
 * length inside a packet can never make the decoder read past the packet: the end is the packet's end (or a
 * property block's), and running into it is a malformed packet (0x81). One cursor is reused for every
 * packet a reader decodes, so decoding allocates nothing for the framing itself.
 */
import { malformed } from './malformed-packet.js'
import { decodeUtf8 } from './utf8.js'

const EMPTY = new Uint8Array(0)

export class ByteCursor {
  bytes: Uint8Array = EMPTY
  pos = 0
  end = 0

  /**
   * Points the cursor at `bytes[pos, end)`.
   *
   * @example
   * ```ts
   * cursor.reset(chunk, 2, 2 + remainingLength)
   * ```
   */
  reset(bytes: Uint8Array, pos: number, end: number): void {
    this.bytes = bytes
    this.pos = pos
    this.end = end
  }

  /** @example `if (cursor.left() > 0) cursor.u8()` */
  left(): number {
    return this.end - this.pos
  }

  /** @example `const flags = cursor.u8()` */
  u8(): number {
    if (this.pos >= this.end) overrun()
    return this.bytes[this.pos++]!
  }

  /** @example `const packetId = cursor.u16()` */
  u16(): number {
    const p = this.pos
    if (p + 2 > this.end) overrun()
    this.pos = p + 2
    return (this.bytes[p]! << 8) | this.bytes[p + 1]!
  }

  /** @example `const expiry = cursor.u32()` */
  u32(): number {
    const p = this.pos
    if (p + 4 > this.end) overrun()
    this.pos = p + 4
    const b = this.bytes
    return b[p]! * 0x1000000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!)
  }

  /** MQTT's variable byte integer: at most 4 bytes, so at most 268435455. @example `const length = cursor.varint()` */
  varint(): number {
    let value = 0
    let factor = 1
    for (let i = 0; i < 4; i++) {
      const b = this.u8()
      value += (b & 0x7f) * factor
      if (b < 0x80) return value
      factor *= 128
    }
    return malformed('variable byte integer longer than 4 bytes')
  }

  /** A two-byte length, then that many bytes of UTF-8. @example `const topic = cursor.utf8()` */
  utf8(): string {
    const n = this.u16()
    const p = this.pos
    if (p + n > this.end) overrun()
    this.pos = p + n
    return decodeUtf8(this.bytes, p, p + n)
  }

  /** A two-byte length, then that many bytes, as a view (no copy). @example `const data = cursor.binary()` */
  binary(): Uint8Array {
    const n = this.u16()
    return this.rest(n)
  }

  /** The next `n` bytes as a view (no copy). @example `const payload = cursor.rest(cursor.left())` */
  rest(n: number): Uint8Array {
    const p = this.pos
    if (p + n > this.end) overrun()
    this.pos = p + n
    return this.bytes.subarray(p, p + n)
  }
}

function overrun(): never {
  return malformed('a field runs past the end of the packet')
}
