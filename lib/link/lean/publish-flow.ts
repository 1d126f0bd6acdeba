import { reasonText } from '../../reason-codes.js'
import { encodeClientPacket as encode, encodePublish } from '../../wire/encode-client-packets.js'
import type { AckPacket, ProtocolLevel } from '../../wire/packets.js'
import type { LinkAckError, LinkPublishOptions, LinkSession, RestoredPublish } from '../link.js'
import { OutgoingPublish, OutgoingStore } from './outgoing-store.js'

/** What the flow uses of its link. */
export interface PublishFlowHost {
  write(bytes: Uint8Array): void
  level(): ProtocolLevel
  /** Whether a CONNACK accepted the current connection: what is stored may go out. */
  accepted(): boolean
  /** A free packet identifier (none in flight), or null. */
  allocate(): number | null
}

/**
 * The lean link's publishing side: PUBLISH out, and the QoS 1 and 2 flows back (PUBACK; PUBREC, PUBREL,
 * PUBCOMP), over the outgoing store that keeps them across connections and the broker's receive maximum.
 *
 * A resolved publish means the broker accepted it. So when a reconnect finds the session kept, exactly once
 * holds (unacknowledged PUBLISHes go again with DUP, a PUBREC'd QoS 2 as its PUBREL); when it finds no
 * session, a written QoS 1 goes again as a new message (at least once) and a written QoS 2 ends with
 * `outcomeUnknown`: resent, it could be delivered twice, or confirmed though the broker discarded it.
 *
 * @example
 * ```ts
 * const flow = new PublishFlow({ write, level: () => 5, accepted: () => true, allocate: () => ids.allocate() })
 * const packetId = flow.publish('a/b', 'x', { qos: 1, retain: false }, done)
 * flow.acknowledged({ type: 'puback', packetId, reasonCode: 0 })
 * ```
 */
export class PublishFlow {
  readonly store = new OutgoingStore()

  readonly #host: PublishFlowHost
  /** Where a released QoS 2 is recorded, with a store (see `resume`). */
  #record: LinkSession['record'] | undefined

  constructor(host: PublishFlowHost) {
    this.#host = host
  }

  publish(topic: string, payload: Uint8Array | string, options: LinkPublishOptions, done: (error?: LinkAckError) => void): number | undefined {
    const host = this.#host
    if (options.qos === 0) {
      if (!host.accepted()) {
        done({ message: 'not connected' })
        return undefined
      }
      host.write(encodePublish(topic, payload, 0, options.retain, false, undefined, options.properties, host.level()))
      done()
      return undefined
    }
    const packetId = host.allocate()
    if (packetId === null) {
      done({ message: 'all 65,535 packet identifiers are in use' })
      return undefined
    }
    this.store.add(new OutgoingPublish(packetId, topic, payload, options, done))
    if (host.accepted()) this.#sendStored()
    return packetId
  }

  /**
   * An earlier client's publishes, restored before the first connection: taken as written under their packet
   * identifiers, so that `restart` resends them with DUP (or their PUBREL) on a resumed session and applies the
   * lost session's rule otherwise. `record` hears of each QoS 2 released from now on.
   */
  resume(restored: readonly RestoredPublish[], record: LinkSession['record']): void {
    this.#record = record
    for (const { packetId, topic, payload, options, released, done } of restored) {
      const publish = new OutgoingPublish(packetId, topic, payload, options, done)
      publish.written = true
      publish.released = released && options.qos === 2
      this.store.add(publish)
    }
  }

  /**
   * Gives a publish up: it is never written again as a PUBLISH and `done` is not called. One already written
   * keeps its identifier until its flow ends (a late PUBACK; PUBREC answered by PUBREL, then PUBCOMP) or its
   * session does, since the broker may hold it.
   */
  withdraw(packetId: number): void {
    this.store.withdraw(packetId)
  }

  /**
   * A new connection accepted: what is stored goes out again, as far as `receiveMaximum` allows. Without
   * the session (`sessionPresent` false) a written QoS 1 goes as a new message and a written QoS 2 is
   * answered as `outcomeUnknown`, not resent (see {@link OutgoingStore.restart}).
   */
  restart(connection: number, receiveMaximum: number, sessionPresent: boolean): void {
    for (const publish of this.store.restart(connection, receiveMaximum, sessionPresent)) {
      publish.done({ message: 'session lost', outcomeUnknown: true, received: publish.released })
    }
    this.#sendStored()
  }

  /** PUBACK or PUBCOMP: the flow ends and the identifier is free. */
  acknowledged(ack: AckPacket): void {
    const publish = this.store.get(ack.packetId)
    // An acknowledgement of what is not (or no longer) in flight: lost with a session, or a broker's mistake.
    // PUBACK answers QoS 1, and QoS 2 where the broker downgraded it (RabbitMQ does); PUBCOMP a released QoS 2.
    if (!publish || (ack.type === 'puback') === publish.released) return
    this.store.remove(ack.packetId)
    this.#sendStored()
    // A PUBCOMP ends a flow the broker took at PUBREC: its one failure code, 0x92 (Packet Identifier not found),
    // says the broker completed it already (a PUBREL resent into a kept session), not that it refused the message.
    if (!publish.withdrawn) publish.done(ack.reasonCode >= 0x80 && ack.type === 'puback' ? ackError(ack) : undefined)
  }

  /** PUBREC: the broker has a QoS 2 publish; PUBREL releases it (or it refused it). */
  received(ack: AckPacket): void {
    const host = this.#host
    const publish = this.store.get(ack.packetId)
    if (!publish || publish.qos !== 2) {
      // MQTT 5 §4.3.3: answer a PUBREC of an unknown packet identifier with PUBREL 146 (identifier not found).
      return host.write(encode({ type: 'pubrel', packetId: ack.packetId, reasonCode: host.level() === 5 ? 0x92 : 0 }, host.level()))
    }
    if (ack.reasonCode >= 0x80) {
      this.store.remove(ack.packetId)
      this.#sendStored()
      if (!publish.withdrawn) publish.done(ackError(ack))
      return
    }
    // Withdrawn or not, the broker holds it: released, it completes with PUBCOMP, which frees the identifier.
    publish.released = true
    this.#record?.({ type: 'released', packetId: ack.packetId })
    host.write(encode({ type: 'pubrel', packetId: ack.packetId, reasonCode: 0 }, host.level()))
  }

  /** Writes what the store lets go: stored publishes on a new connection, then what the receive maximum allows. */
  #sendStored(): void {
    const host = this.#host
    for (const publish of this.store.sendable()) {
      if (publish.released) {
        host.write(encode({ type: 'pubrel', packetId: publish.packetId, reasonCode: 0 }, host.level()))
      } else {
        const { topic, payload, options } = publish
        const bytes = (publish.bytes ??= encodePublish(topic, payload, options.qos, options.retain, false, publish.packetId, options.properties, host.level()))
        if (publish.written) {
          const again = bytes.slice()
          again[0] = (again[0] as number) | 0x08 // DUP: the broker may have it already
          host.write(again)
        } else {
          publish.written = true
          host.write(bytes)
        }
      }
    }
  }
}

function ackError(ack: AckPacket): LinkAckError {
  const reason = ack.properties?.reasonString
  return { code: ack.reasonCode, message: `${ack.type.toUpperCase()} ${ack.reasonCode}: ${reason ?? reasonText(ack.reasonCode)}` }
}
