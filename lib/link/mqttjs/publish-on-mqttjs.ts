import type { IClientPublishOptions, MqttClient } from 'mqtt'
import type { LinkAckError, LinkPublishOptions } from '../link.js'
import { publishPacketId } from './mqttjs-requests.js'
import { mqttjsProperties } from './user-properties.js'
import type { WriteBatch } from './write-batch.js'

/**
 * A link's publish handed to MQTT.js, which acknowledges it through `done`: returns the packet identifier
 * MQTT.js gave a QoS 1 or 2 publish. Without a client yet, `done` fails it at once. `writes` (Node) holds
 * the socket's writes for this turn, so that a burst of publishes leaves together.
 *
 * @example
 * ```ts
 * const packetId = publishOnMqttJs(client, writes, 'a/b', 'x', { qos: 1, retain: false }, (error) => settle(error))
 * ```
 */
export function publishOnMqttJs(
  mqttClient: MqttClient | undefined,
  writes: WriteBatch | undefined,
  topic: string,
  payload: Uint8Array | string,
  options: LinkPublishOptions,
  done: (error?: LinkAckError) => void,
): number | undefined {
  if (!mqttClient) {
    done({ message: 'not connected' })
    return undefined
  }
  // MQTT.js's callback as it is (its ErrorWithReasonCode carries the reason code as `code`), but for QoS 2: MQTT.js
  // fails a PUBCOMP 0x92 (Packet Identifier not found), which says the broker completed the flow already (a PUBREL
  // resent into a kept session), after it took the message at PUBREC.
  const callback = options.qos === 2 ? completedAlready(done) : (done as (error?: Error) => void)
  // MQTT.js's payload and property types name Buffer, where a Uint8Array is written the same way.
  const publishOptions = (options.properties ? { qos: options.qos, retain: options.retain, properties: mqttjsProperties(options.properties) } : { qos: options.qos, retain: options.retain }) as IClientPublishOptions
  // The publishes of one turn leave together too (a burst from a loop), with no wait beyond the turn.
  if (mqttClient.connected) writes?.hold(mqttClient.stream as unknown as Parameters<WriteBatch['hold']>[0])
  mqttClient.publish(topic, payload as string, publishOptions, callback)
  return options.qos > 0 ? publishPacketId(mqttClient, callback) : undefined
}

function completedAlready(done: (error?: LinkAckError) => void): (error?: Error, packet?: { cmd?: string }) => void {
  return (error, packet) => done(error && packet?.cmd === 'pubcomp' && (error as { code?: unknown }).code === 0x92 ? undefined : (error as LinkAckError | undefined))
}
