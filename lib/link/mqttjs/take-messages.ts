// The broker's PUBLISHes taken from MQTT.js: QoS 0 and 1 through its handleMessage, QoS 2 through its
// customHandleAcks (incoming-qos2.ts), all of them into the link's held messages, in the order read.
import type { IPublishPacket, MqttClient } from 'mqtt'
import { ACK_LEFT_TO_LINK, type HeldMessages } from './held-messages.js'
import { incoming, type IncomingQos2, PUBREC_LEFT_TO_LINK } from './incoming-qos2.js'

/** What taking the messages asks of the link. */
export interface TakeMessagesHost {
  readonly held: HeldMessages<IPublishPacket>
  readonly qos2: IncomingQos2
  /** The topic MQTT.js resolved for the PUBLISH it hands to handleMessage (a topic alias leaves the packet's empty). */
  topic(): string
  /** A message read: a sign of life; `qos` > 0: its acknowledgement is to leave with the turn's writes. */
  reading(qos: number): void
}

/**
 * Sets `client`'s handleMessage and customHandleAcks (after its constructor, which puts its own customHandleAcks
 * back under MQTT 3.1.1). MQTT.js reads the next packet only when these call back: the held messages do at once,
 * and the link acknowledges each message itself once the engine is done with it.
 *
 * @example
 * ```ts
 * takeMessages(client, { held, qos2, topic: () => lastTopic, reading: () => received++ })
 * ```
 */
export function takeMessages(client: MqttClient, host: TakeMessagesHost): void {
  client.options.customHandleAcks = (topic, _message, packet: IPublishPacket, callback) => {
    if (packet.qos !== 2) return callback(0)
    // Read after the close: the broker resends it.
    if (!client.connected) return callback(PUBREC_LEFT_TO_LINK)
    host.reading(2)
    host.qos2.receive(client, topic, packet, host.held, callback)
  }
  client.handleMessage = (packet, callback) => {
    // Read after the close: MQTT.js would queue its acknowledgement for the next connection. The broker resends it.
    if (!client.connected) return callback(ACK_LEFT_TO_LINK)
    host.reading(packet.qos)
    host.held.receive(incoming(host.topic(), packet as IPublishPacket), packet as IPublishPacket, callback as (error?: Error) => void)
  }
}
