import type { IConnackPacket } from 'mqtt'
import type { QoS } from '../../message.js'
import type { Connack } from '../link.js'

/**
 * MQTT.js's CONNACK as the engine reads it: the session flag and the MQTT 5 properties it acts on, with MQTT's
 * defaults where the broker announced none.
 *
 * @example
 * ```ts
 * events.connected(toConnack(packet)) // { sessionPresent: true, receiveMaximum: 65_535, ... }
 * ```
 */
export function toConnack(connack: IConnackPacket): Connack {
  const properties = connack.properties
  return {
    sessionPresent: connack.sessionPresent,
    maximumQoS: properties?.maximumQoS as QoS | undefined,
    maximumPacketSize: properties?.maximumPacketSize,
    receiveMaximum: properties?.receiveMaximum ?? 65_535,
    subscriptionIdentifiersAvailable: properties?.subscriptionIdentifiersAvailable !== false,
    properties: properties as Readonly<Record<string, unknown>> | undefined,
  }
}
