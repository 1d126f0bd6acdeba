// The acknowledgement of a message MQTT.js left to the link (held-messages.ts): written as MQTT.js's publish and
// pubrel handlers would have written it, through its own packet writer.
import type { WriteBatch } from './write-batch.js'
import type { IncomingQos2 } from './incoming-qos2.js'

/** The parts of MqttClient this uses (typed private in MQTT.js). */
interface MqttInternals {
  readonly connected: boolean
  readonly stream: unknown
  _sendPacket(packet: object): void
}

/**
 * Writes an acknowledgement through MQTT.js's packet writer without letting anything it throws out: these run in
 * socket callbacks and in the app's `ack()`. A packet that cannot be written ends the connection (its stream
 * destroyed), so that the broker, which did not get the acknowledgement, sends the message again.
 *
 * @example
 * ```ts
 * sendAck(client, { cmd: 'pubrec', messageId: 9 })
 * ```
 */
export function sendAck(mqtt: { readonly stream?: unknown; _sendPacket(packet: object): void }, packet: object): void {
  try {
    mqtt._sendPacket(packet)
  } catch (error) {
    ;(mqtt.stream as { destroy?: (error: unknown) => void } | undefined)?.destroy?.(error)
  }
}

/** What the acknowledgement is written for: the PUBLISH MQTT.js handed to handleMessage. */
export interface AckedPacket {
  readonly qos: number
  readonly messageId?: number | undefined
}

/**
 * Writes the acknowledgement of a message the engine is done with: PUBACK for QoS 1, PUBREC for QoS 2 (which the
 * link takes from MQTT.js on its PUBLISH, see incoming-qos2.ts, and `qos2` remembers until its PUBREL). Nothing
 * while disconnected: MQTT.js would queue the packet for the next connection, where the identifier means
 * another message (the broker resends this one). With a `batch`, it leaves with the other writes of the turn.
 *
 * @example
 * ```ts
 * writeAck(client, packet) // { cmd: 'puback', messageId: packet.messageId, reasonCode: 0 }
 * ```
 */
export function writeAck(client: unknown, packet: AckedPacket, batch?: WriteBatch, qos2?: IncomingQos2): void {
  const mqtt = client as MqttInternals | undefined
  const messageId = packet.messageId
  if (packet.qos === 0 || messageId === undefined || !mqtt?.connected) return
  batch?.hold(mqtt.stream as Parameters<WriteBatch['hold']>[0])
  if (packet.qos === 1) return sendAck(mqtt, { cmd: 'puback', messageId, reasonCode: 0 })
  qos2?.pubrec(mqtt, messageId)
}
