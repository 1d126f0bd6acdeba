// What the broker received from one client, read from Mosquitto's log (`log_type all`): each SUBSCRIBE and
// UNSUBSCRIBE with its filters. `settledPackets` first publishes a QoS 1 marker from the client and waits for
// the broker to log it: the connection is ordered, so every packet the client sent before it is in the log.
import type { MQTTClient } from '../../lib/node.js'
import type { Mosquitto } from '../support/mosquitto.js'

export interface Packets {
  /** One entry per SUBSCRIBE, with its filters. */
  readonly subscribes: string[][]
  /** One entry per UNSUBSCRIBE, with its filters. */
  readonly unsubscribes: string[][]
}

const literal = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** The SUBSCRIBE and UNSUBSCRIBE packets `clientId` sent, from the broker's log text. */
export function packetsIn(log: string, clientId: string): Packets {
  const lines = log.split('\n').map((line) => line.replace(/^\d{4}-\d\d-\d\dT[\d:]+: /, ''))
  const subscribes: string[][] = []
  const unsubscribes: string[][] = []
  for (let i = 0; i < lines.length; i++) {
    const kind = lines[i] === `Received SUBSCRIBE from ${clientId}` ? subscribes : lines[i] === `Received UNSUBSCRIBE from ${clientId}` ? unsubscribes : undefined
    if (!kind) continue
    const filters: string[] = []
    for (let j = i + 1; j < lines.length; j++) {
      const line = lines[j]!
      if (line.startsWith('\t')) filters.push(line.slice(1).replace(/ \(QoS \d\)$/, ''))
      // Mosquitto follows each filter of a SUBSCRIBE with its `log_type subscribe` line: `<client id> <qos> <filter>`.
      else if (!line.startsWith(`${clientId} `)) break
    }
    kind.push(filters)
  }
  return { subscribes, unsubscribes }
}

let markers = 0

/** The client's SUBSCRIBE/UNSUBSCRIBE packets so far, once a marker published after them reached the broker. */
export async function settledPackets(broker: Mosquitto, client: MQTTClient, prefix: string): Promise<Packets> {
  markers += 1
  const topic = `${prefix}/marker/${markers}`
  await client.publish(topic, 'marker', { qos: 1 })
  const log = await broker.waitForLog(new RegExp(`Received PUBLISH from ${literal(client.clientId)} \\(.*'${literal(topic)}'`))
  return packetsIn(log, client.clientId)
}
