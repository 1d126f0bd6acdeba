/**
 * The reader of a client's connection: it decodes what a broker sends and nothing else, so that the link ships
 * only that half of the codec. A packet only a client sends (CONNECT, SUBSCRIBE, UNSUBSCRIBE, PINGREQ) coming
 * from the broker is a MalformedPacketError with reason code 0x82 (protocol error).
 */
import { BROKER_PACKETS } from './decode-broker-packets.js'
import { FramedReader } from './framed-reader.js'

export class ClientPacketReader extends FramedReader {
  /**
   * @example
   * ```ts
   * const reader = new ClientPacketReader({ maximumPacketSize: 268_435_460 })
   * ```
   */
  constructor(limits: { readonly maximumPacketSize: number }) {
    super(limits, BROKER_PACKETS)
  }
}
