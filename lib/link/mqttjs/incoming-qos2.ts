// Incoming QoS 2 on the MQTT.js link, received the way the lean link receives it (lean/incoming-acks.ts): the
// message is delivered on its PUBLISH and PUBREC is written once the engine is done with it, so a process that
// dies before its handler ran has not told the broker it has the message, and gets it again. MQTT.js's own way
// (PUBREC on arrival, the message kept in its memory until PUBREL) loses it then. Its `customHandleAcks` hook
// is where a QoS 2 PUBLISH is taken from it: answered with {@link PUBREC_LEFT_TO_LINK}, MQTT.js neither stores
// the message nor writes PUBREC, and reads on; a PUBREL for an identifier it did not store gets its PUBCOMP.
import type { IPublishPacket } from 'mqtt'
import type { IncomingMessage } from '../../subscriptions/broker-subscription.js'
import type { LinkSession } from '../link.js'
import type { HeldMessages } from './held-messages.js'
import { sendAck } from './write-ack.js'

/**
 * The error `customHandleAcks` answers a QoS 2 PUBLISH with: MQTT.js emits it as an `error` event, which the link
 * ignores, and goes on to the next packet without a PUBREC (the link writes it).
 */
export const PUBREC_LEFT_TO_LINK = new Error('PUBREC written by the link')

/** The parts of MqttClient this uses (typed private in MQTT.js). */
interface MqttInternals {
  readonly connected: boolean
  readonly stream?: unknown
  _sendPacket(packet: object): void
}

/**
 * The QoS 2 identifiers delivered (PUBREC written) whose PUBREL has not come: a PUBLISH the broker resends with
 * one of them is answered PUBREC again, not delivered. Session state: kept across connections while the broker
 * keeps the session, restored from a store (`resume`), and each change recorded there.
 *
 * @example
 * ```ts
 * if (qos2.delivered(packet.messageId)) return qos2.pubrec(client, packet.messageId)
 * ```
 */
export class IncomingQos2 {
  readonly #delivered = new Set<number>()
  #record: LinkSession['record'] | undefined

  /** The identifiers an earlier client on the store had delivered, and where changes go from now on. */
  resume(incoming: readonly number[], record: LinkSession['record']): void {
    this.#record = record
    for (const packetId of incoming) this.#delivered.add(packetId)
  }

  delivered(packetId: number): boolean {
    return this.#delivered.has(packetId)
  }

  /**
   * A QoS 2 PUBLISH from MQTT.js's customHandleAcks, answered with {@link PUBREC_LEFT_TO_LINK}: one delivered
   * already (its PUBREC lost) gets PUBREC again, in its turn among the messages `held`; any other is delivered
   * through `held`, and its PUBREC written when the engine is done with it (`writeAck`, or here when at once).
   */
  receive(client: unknown, topic: string, packet: IPublishPacket, held: HeldMessages<IPublishPacket>, callback: (error: Error) => void): void {
    const packetId = packet.messageId as number
    if (this.delivered(packetId)) {
      held.after((lost) => lost || this.pubrec(client, packetId))
      return callback(PUBREC_LEFT_TO_LINK)
    }
    held.receive(incoming(topic, packet), packet, (error) => {
      // Done with before `receive` returned: acknowledged here, not by MQTT.js, which would keep it until PUBREL.
      if (!error) this.pubrec(client, packetId)
      callback(PUBREC_LEFT_TO_LINK)
    })
  }

  /** Writes PUBREC for a message the engine is done with (nothing while disconnected: the broker resends it). */
  pubrec(client: unknown, packetId: number): void {
    const mqtt = client as MqttInternals | undefined
    if (!mqtt?.connected) return
    if (!this.#delivered.has(packetId)) {
      this.#delivered.add(packetId)
      this.#record?.({ type: 'incoming', packetId })
    }
    sendAck(mqtt, { cmd: 'pubrec', messageId: packetId })
  }

  /** PUBREL: MQTT.js answers PUBCOMP (it stored nothing under the identifier), which is free again. */
  released(packetId: number): void {
    if (this.#delivered.delete(packetId)) this.#record?.({ type: 'incomingReleased', packetId })
  }

  /** The broker has no session for the client: nothing it sends is a resend. */
  forget(): void {
    this.#delivered.clear()
  }
}

/** The message MQTT.js hands over, with the topic it resolved (a topic alias leaves the packet's empty). */
export function incoming(topic: string, packet: IPublishPacket): IncomingMessage {
  return packet.topic === topic ? (packet as unknown as IncomingMessage) : { topic, payload: packet.payload as Uint8Array, qos: packet.qos, retain: packet.retain, properties: packet.properties }
}
