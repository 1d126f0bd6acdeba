/**
 * A reader of every MQTT packet, from either side: for tests, fuzzers, benchmarks and fake brokers, which
 * read what a client sends as well. The SDK's own link reads with `ClientPacketReader` instead.
 */
import { BROKER_PACKETS } from './decode-broker-packets.js'
import { CLIENT_PACKETS } from './decode-client-packets.js'
import { FramedReader } from './framed-reader.js'

const EVERY_PACKET = { ...BROKER_PACKETS, ...CLIENT_PACKETS }

export class PacketReader extends FramedReader {
  /**
   * @example
   * ```ts
   * const reader = new PacketReader({ maximumPacketSize: 1 << 20 })
   * ```
   */
  constructor(limits: { readonly maximumPacketSize: number }) {
    super(limits, EVERY_PACKET)
  }
}
