/**
 * Frames a byte stream into packets, pulled one at a time, and decodes each with the decoders it is given: a
 * packet type it has none for is a protocol error as soon as its first byte arrives. `ClientPacketReader`
 * (what a broker sends) and `PacketReader` (every packet) are the two sets. Chunks are kept by reference: a packet that lies in
 * one chunk is decoded in place (its payload a view of the chunk), and only a packet split across chunks is
 * joined, once, into a buffer of its size. The size a fixed header announces is checked against the limit
 * before any of the body is waited for, so a peer cannot make the reader hold more than the limit.
 */
import { ByteCursor } from './byte-cursor.js'
import { type PacketDecoders, checkAccepted, checkBodyLength, checkFixedHeader, decodePacket } from './decode.js'
import { PACKET_TOO_LARGE, malformed } from './malformed-packet.js'
import type { Packet, ProtocolLevel } from './packets.js'

export class FramedReader {
  /** The layouts of PUBLISH, the acks, SUBACK… differ by level: the link sets it once it knows. */
  level: ProtocolLevel = 4

  readonly #maximumPacketSize: number
  #chunks: Uint8Array[] = []
  /** Index in `chunks` of the first chunk still held (consumed ones are dropped in batches). */
  #head = 0
  /** Bytes of `chunks[head]` already consumed. */
  #offset = 0
  #held = 0
  #failure: Error | undefined
  readonly #cursor = new ByteCursor()

  readonly #decoders: PacketDecoders

  /**
   * `maximumPacketSize` counts the whole packet, fixed header included; 268435460 is no limit. `decoders`: the
   * packet types accepted from the peer.
   *
   * @example
   * ```ts
   * const reader = new FramedReader({ maximumPacketSize: 1 << 20 }, BROKER_PACKETS)
   * ```
   */
  constructor(
    limits: { readonly maximumPacketSize: number },
    decoders: PacketDecoders,
  ) {
    this.#decoders = decoders
    this.#maximumPacketSize = limits.maximumPacketSize
  }

  /**
   * Appends bytes read from the socket (kept by reference where possible; never copied when a chunk holds
   * whole packets). The caller must not change a chunk afterwards.
   *
   * @example
   * ```ts
   * socket.on('data', (chunk: Uint8Array) => reader.push(chunk))
   * ```
   */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0 || this.#failure) return
    this.#chunks.push(chunk)
    this.#held += chunk.length
  }

  /** Bytes held that next() has not returned yet. @example `if (reader.buffered > 0) reader.next()` */
  get buffered(): number {
    return this.#held
  }

  /**
   * The next whole packet, or undefined until more bytes arrive. Throws MalformedPacketError, and after that
   * throws it again on every call: the stream has lost its framing.
   *
   * @example
   * ```ts
   * for (let p = reader.next(); p; p = reader.next()) handle(p)
   * ```
   */
  next(): Packet | undefined {
    if (this.#failure) throw this.#failure
    try {
      return this.#read()
    } catch (e) {
      this.#failure = e as Error // a MalformedPacketError (anything else would be a bug of the reader)
      this.#chunks = []
      this.#head = 0
      this.#offset = 0
      this.#held = 0
      throw this.#failure
    }
  }

  #read(): Packet | undefined {
    const chunk = this.#chunks[this.#head]
    if (chunk === undefined) return undefined
    const off = this.#offset
    let first: number
    let remaining: number
    let header: number
    // The common case: a header of one length byte, inside the first chunk.
    if (chunk.length - off >= 2 && chunk[off + 1]! < 0x80) {
      first = chunk[off]!
      remaining = chunk[off + 1]!
      header = 2
      checkFixedHeader(first, this.level)
      checkAccepted(first, this.#decoders)
    } else {
      first = this.#byteAt(0)
      // At once: the length may never come.
      checkFixedHeader(first, this.level)
      checkAccepted(first, this.#decoders)
      remaining = 0
      let factor = 1
      header = 1
      for (;;) {
        if (header > this.#held - 1) return undefined
        const b = this.#byteAt(header++)
        remaining += (b & 0x7f) * factor
        if (b < 0x80) break
        if (header === 5) malformed('remaining length longer than 4 bytes')
        factor *= 128
      }
    }
    checkBodyLength(first, remaining, this.level)
    const size = header + remaining
    if (size > this.#maximumPacketSize) {
      malformed(`packet of ${size} bytes over the limit of ${this.#maximumPacketSize}`, PACKET_TOO_LARGE)
    }
    if (size > this.#held) return undefined
    const c = this.#cursor
    if (off + size <= chunk.length) {
      c.reset(chunk, off + header, off + size)
      this.#offset = off + size
      this.#held -= size
      if (this.#offset === chunk.length) this.#dropHead()
    } else {
      c.reset(this.#take(size), header, size)
    }
    return decodePacket(first, c, this.level, this.#decoders)
  }

  /** The byte `i` bytes into what is held (which has more than `i`). */
  #byteAt(i: number): number {
    let at = this.#offset + i
    for (let k = this.#head; ; k++) {
      const chunk = this.#chunks[k]!
      if (at < chunk.length) return chunk[at]!
      at -= chunk.length
    }
  }

  /** Consumes `size` held bytes into one new buffer: a packet split across chunks. */
  #take(size: number): Uint8Array {
    const out = new Uint8Array(size)
    let filled = 0
    while (filled < size) {
      const chunk = this.#chunks[this.#head]!
      const n = Math.min(chunk.length - this.#offset, size - filled)
      out.set(chunk.subarray(this.#offset, this.#offset + n), filled)
      filled += n
      this.#offset += n
      if (this.#offset === chunk.length) this.#dropHead()
    }
    this.#held -= size
    return out
  }

  #dropHead(): void {
    this.#offset = 0
    this.#head++
    if (this.#head === this.#chunks.length) {
      this.#chunks.length = 0
      this.#head = 0
    } else if (this.#head >= 64 && this.#head * 2 >= this.#chunks.length) {
      this.#chunks = this.#chunks.slice(this.#head)
      this.#head = 0
    }
  }
}
