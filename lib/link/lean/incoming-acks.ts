import { encodeClientPacket as encode } from '../../wire/encode-client-packets.js'
import type { ProtocolLevel, PublishPacket } from '../../wire/packets.js'
import type { LinkSession } from '../link.js'

/**
 * The lean link's side of the broker's QoS 1 and 2 flows: the acknowledgement each handled message gets, and
 * the QoS 2 messages delivered (PUBREC sent) whose PUBREL has not come, so that one the broker resends is not
 * delivered again. That set is session state: it outlives connections until a CONNACK says the session is new.
 *
 * @example
 * ```ts
 * if (acks.delivered(packet)) return write(acks.handled(packet, level)!) // resent: PUBREC again, no delivery
 * ```
 */
export class IncomingAcks {
  readonly #released = new Set<number>()
  /** Where the set's changes are recorded, with a store (see `resume`). */
  #record: LinkSession['record'] | undefined

  /** The identifiers an earlier client on the store had delivered, and where changes go from now on. */
  resume(incoming: readonly number[], record: LinkSession['record']): void {
    this.#record = record
    for (const packetId of incoming) this.#released.add(packetId)
  }

  /** A QoS 2 message delivered already: the broker resent it before it saw the PUBREC. */
  delivered(packet: PublishPacket): boolean {
    return packet.qos === 2 && this.#released.has(packet.packetId as number)
  }

  /** The bytes that acknowledge a handled message (none for QoS 0); a QoS 2 one is remembered until its PUBREL. */
  handled(packet: PublishPacket, level: ProtocolLevel): Uint8Array | undefined {
    const packetId = packet.packetId as number
    if (packet.qos === 1) return encode({ type: 'puback', packetId, reasonCode: 0 }, level)
    if (packet.qos !== 2) return undefined
    if (!this.#released.has(packetId)) {
      this.#released.add(packetId)
      this.#record?.({ type: 'incoming', packetId })
    }
    return encode({ type: 'pubrec', packetId, reasonCode: 0 }, level)
  }

  /** PUBREL: the message is the application's; its identifier is free, and PUBCOMP says so. */
  release(packetId: number, level: ProtocolLevel): Uint8Array {
    const known = this.#released.delete(packetId)
    if (known) this.#record?.({ type: 'incomingReleased', packetId })
    // MQTT 5 §3.7.2.1: an identifier the client does not hold is answered 0x92 (Packet Identifier not found).
    return encode({ type: 'pubcomp', packetId, reasonCode: known || level !== 5 ? 0 : 0x92 }, level)
  }

  /** The broker has no session for the client: nothing it sends is a resend. */
  forget(): void {
    this.#released.clear()
  }
}
