import type { IncomingMessage } from '../subscriptions/broker-subscription.js'
import type { Message, MessageProperties, QoS } from '../message.js'
import type { AckHandle } from './pending-ack.js'
import { matchParams } from '../topic.js'

/** A message as one observer sees it: its own decoded payload, and params computed only if read. */
export class DeliveredMessage<T> implements Message<T> {
  readonly topic: string
  readonly payload: T
  readonly raw: Uint8Array
  readonly qos: QoS
  readonly retain: boolean
  readonly properties?: MessageProperties
  // Set on a cleared value only (`declare`: no field on every other message).
  declare readonly cleared?: false
  readonly #filterLevels: readonly string[]
  #cachedParams: readonly string[] | undefined

  readonly #held: AckHandle | undefined

  constructor(message: IncomingMessage, payload: T, filterLevels: readonly string[], held?: AckHandle, cleared?: boolean) {
    this.topic = message.topic
    this.payload = payload
    this.raw = message.payload
    this.qos = message.qos
    this.retain = message.retain
    if (message.properties) this.properties = message.properties
    // A ClearedMessage: `cleared: true` where Message says `false`.
    if (cleared) (this as { cleared?: boolean }).cleared = true
    this.#filterLevels = filterLevels
    this.#held = held
  }

  ack(): void {
    this.#held?.ack()
  }

  nack(reason?: unknown): void {
    this.#held?.nack(reason)
  }

  get params(): readonly string[] {
    this.#cachedParams ??= matchParams(this.#filterLevels, this.topic) ?? []
    return this.#cachedParams
  }

  toJSON(): Omit<Message<T>, 'ack' | 'nack'> {
    const { topic, payload, raw, qos, retain, params, properties, cleared } = this
    return { topic, payload, raw, qos, retain, params, ...(properties ? { properties } : {}), ...(cleared ? { cleared } : {}) }
  }
}

/**
 * A message with another payload and params (a reply decoded by the requester's codec, a route's named
 * params), acknowledging through the message it was made from.
 */
export function reshape<T, P>(message: Message<unknown>, payload: T, params: P): Omit<Message<T>, 'params'> & { readonly params: P } {
  const { topic, raw, qos, retain, properties } = message
  return { topic, payload, raw, qos, retain, params, ...(properties ? { properties } : {}), ack: () => message.ack(), nack: (reason?: unknown) => message.nack(reason) }
}
