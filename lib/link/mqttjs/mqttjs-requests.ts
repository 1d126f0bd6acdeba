// SUBSCRIBE and UNSUBSCRIBE written through MQTT.js's packet writer rather than its `subscribe()`, which costs
// about twice the CPU per packet (validation, a promise per packet and one for the call): an app may observe
// 100,000 filters, under MQTT 5 one packet each. The acknowledgement comes back through MQTT.js's own
// in-flight table, where the packet identifier MQTT.js gave a publish is looked up too. Only the MQTT.js link
// uses this: it knows MQTT.js's internals, nothing else does.
import type { QoS } from '../../message.js'
import type { LinkSubscription, Suback } from '../link.js'
import type { AfterHeld } from './held-messages.js'

/** Where an answer waits for the messages read before it (held-messages.ts). */
interface Held {
  after(task: AfterHeld): void
}

/** The parts of MqttClient the writer uses (typed private in MQTT.js). */
interface MqttInternals {
  readonly connected: boolean
  readonly outgoing: Record<number, { volatile: boolean; cmd: string; cb: (error?: Error | null, packet?: unknown) => void } | undefined>
  readonly messageIdProvider: { allocate(): number | null; getLastAllocated(): number | null }
  _sendPacket(packet: object): void
}

type Answer = (error: Error | null | undefined, ack?: unknown) => void

/**
 * Sends a SUBSCRIBE or UNSUBSCRIBE with a fresh packet identifier, its answer expected in MQTT.js's in-flight
 * table (volatile: MQTT.js calls it back with an error when the connection closes). Not connected: answered
 * as lost, on a later tick, instead of MQTT.js queueing it for the next connection.
 *
 * @example
 * ```ts
 * sendRequest(client, { cmd: 'unsubscribe', unsubscriptions: ['a/#'] }, 'unsubscribe', (error) => done(!error))
 * ```
 */
export function sendRequest(mqttClient: object | undefined, packet: Record<string, unknown>, cmd: 'subscribe' | 'unsubscribe', answer: Answer): void {
  const client = mqttClient as MqttInternals | undefined
  const messageId = client?.connected ? client.messageIdProvider.allocate() : null
  if (!client || messageId === null) {
    queueMicrotask(() => answer(new Error('not connected')))
    return
  }
  packet['messageId'] = messageId
  client.outgoing[messageId] = { volatile: true, cmd, cb: answer }
  client._sendPacket(packet)
}

/** The SUBSCRIBE packet for `subscriptions` (one subscription identifier for all of them, the first's). */
export function subscribePacket(subscriptions: readonly LinkSubscription[], v5: boolean): Record<string, unknown> {
  const entries = subscriptions.map(({ filter, options }) =>
    v5 ? { topic: filter, qos: options.qos, nl: false, rap: options.rap ?? false, rh: options.rh ?? 0 } : { topic: filter, qos: options.qos },
  )
  const id = subscriptions[0]?.options.id
  const packet: Record<string, unknown> = { cmd: 'subscribe', subscriptions: entries }
  if (v5 && id !== undefined) packet['properties'] = { subscriptionIdentifier: id }
  return packet
}

/** Each filter's answer in a SUBACK; none came (the connection closed first: MQTT.js flushes what waits): lost. */
export function subackResults(subscriptions: readonly LinkSubscription[], ack: unknown): Suback[] {
  const granted = (ack as { granted?: readonly number[] } | undefined)?.granted
  if (!granted) return subscriptions.map(() => ({ lost: true }) as const)
  return subscriptions.map((_, i) => {
    const code = granted[i]
    return code === 0 || code === 1 || code === 2 ? { granted: code as QoS } : { refused: code ?? 128 }
  })
}

/**
 * The packet identifier MQTT.js just gave the QoS 1/2 publish with this callback, checked against its in-flight
 * table (undefined once it has settled).
 *
 * @example
 * ```ts
 * client.publish(topic, payload, { qos: 1 }, callback)
 * const packetId = publishPacketId(client, callback)
 * ```
 */
export function publishPacketId(mqttClient: object, callback: (error?: Error) => void): number | undefined {
  const client = mqttClient as MqttInternals
  const last = client.messageIdProvider.getLastAllocated()
  if (last !== null && client.outgoing[last]?.cb === callback) return last
  for (const [id, entry] of Object.entries(client.outgoing)) if (entry?.cb === callback) return Number(id)
  return undefined
}

/**
 * SUBSCRIBE for `subscriptions` (see {@link sendRequest}), its SUBACK answered in its place among the messages
 * read before it.
 *
 * @example
 * ```ts
 * subscribeOn(client, held, [{ filter: 'a/#', options: { qos: 1 } }], (results) => settle(results))
 * ```
 */
export function subscribeOn(client: { readonly options: { readonly protocolVersion?: number } } | undefined, held: Held, subscriptions: readonly LinkSubscription[], done: (results: readonly Suback[]) => void): void {
  const packet = subscribePacket(subscriptions, client?.options.protocolVersion === 5)
  sendRequest(client, packet, 'subscribe', (_error, ack) => held.after((lost) => done(subackResults(subscriptions, lost ? undefined : ack))))
}

/**
 * UNSUBSCRIBE for `filters` (see {@link sendRequest}), its UNSUBACK answered in its place among the messages
 * read before it.
 *
 * @example
 * ```ts
 * unsubscribeOn(client, held, ['a/#'], (ok) => settle(ok))
 * ```
 */
export function unsubscribeOn(client: object | undefined, held: Held, filters: readonly string[], done: (ok: boolean) => void): void {
  sendRequest(client, { cmd: 'unsubscribe', unsubscriptions: [...filters] }, 'unsubscribe', (error) => held.after((lost) => done(!error && !lost)))
}
