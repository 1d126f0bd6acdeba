/**
 * The one error the codec throws on bytes from the wire. It carries the MQTT 5 reason code the link should
 * close the connection with (in a DISCONNECT under MQTT 5; 3.1.1 just closes), so the link never has to guess
 * from a message. Caller bugs on the encoding side are `RangeError`s instead: they are not the peer's fault.
 */
export class MalformedPacketError extends Error {
  override readonly name = 'MalformedPacketError'

  /**
   * @example
   * ```ts
   * throw new MalformedPacketError(0x95, 'packet of 209715205 bytes over the limit of 1048576')
   * ```
   */
  constructor(
    /** 0x81 malformed packet, 0x82 protocol error, 0x95 packet too large. */
    readonly reasonCode: number,
    message: string,
  ) {
    super(message)
  }
}

/** MQTT 5 reason codes the codec rejects with. */
export const MALFORMED = 0x81
export const PROTOCOL_ERROR = 0x82
export const PACKET_TOO_LARGE = 0x95

/**
 * Throws a malformed-packet error; a function so that hot paths keep the throw (and its string) out of line.
 *
 * @example
 * ```ts
 * if (end > limit) malformed('string overruns the packet')
 * ```
 */
export function malformed(message: string, reasonCode: number = MALFORMED): never {
  throw new MalformedPacketError(reasonCode, message)
}
