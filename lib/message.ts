/** MQTT quality of service: 0 at most once, 1 at least once, 2 exactly once (per hop). */
export type QoS = 0 | 1 | 2

/** MQTT 5 user properties: each name maps to one value or several. */
export type UserProperties = Record<string, string | string[]>

/**
 * MQTT 5 user properties to send in their wire order: name-value pairs, where a name may repeat. MQTT 5
 * (3.3.2.3.7) keeps the order, which a record of names cannot say.
 *
 * @example
 * ```ts
 * const userProperties: UserPropertyPairs = [['step', 'a'], ['owner', 'x'], ['step', 'b']]
 * await client.publish('jobs/1', 'go', { properties: { userProperties } })
 * ```
 */
export type UserPropertyPairs = readonly (readonly [name: string, value: string])[]

/** MQTT 5 properties of a PUBLISH, as sent or received. */
export interface MessageProperties {
  /** `true`: the payload is UTF-8 text (MQTT 5 payload format indicator 1), which a broker may check. */
  payloadFormatIndicator?: boolean
  /**
   * Seconds the broker keeps the message for subscribers it has not reached yet (0 to 4,294,967,295); a
   * retained value expires with it too. On a received message: the seconds that were left when the broker
   * forwarded it.
   */
  messageExpiryInterval?: number
  /** What the payload is, such as `'application/json'`, for the receiving app; codecs do not read it. */
  contentType?: string
  /** The topic a reply should be published to (request/response; `request()` and `serve()` set and use it). */
  responseTopic?: string
  /** Bytes a responder copies into its reply so that the requester can match the reply to its request. */
  correlationData?: Uint8Array
  /** The application's own name-value pairs, like HTTP headers; the broker passes them on unchanged. */
  userProperties?: UserProperties
  /** On received messages: the identifiers of the subscriptions the message matched. */
  subscriptionIdentifier?: number | number[]
}

/**
 * A message delivered to an observer of `client.observe()`.
 *
 * @example
 * ```ts
 * client.observe<{ celsius: number }>('rooms/+/temp', { codec: 'json' }).subscribe((m) => {
 *   const [room] = m.params
 *   // retain: the broker's stored value, as a (late) observer gets it first; a live publish is never marked.
 *   render(room, m.payload.celsius, m.retain ? 'stored' : 'live')
 * })
 * ```
 */
export interface Message<T = Uint8Array> {
  /** The topic the message was published to (never a filter: no wildcards). */
  readonly topic: string
  /** The payload decoded by the observer's codec. */
  readonly payload: T
  /** The payload bytes as received. */
  readonly raw: Uint8Array
  /**
   * The QoS the message was delivered with: the lower of the publisher's QoS and the QoS the broker granted
   * the subscription (which asks for the highest any observer of the filter asked for).
   */
  readonly qos: QoS
  /**
   * True for the broker's stored (retained) value of the topic, sent because of a subscription (the broker's
   * on subscribe, or the client's re-ask for a late observer) or replayed to a late observer from the client's
   * retained cache. A live publish is `false`, whether or not it was published with the retain flag: the same
   * under MQTT 5 and 3.1.1.
   */
  readonly retain: boolean
  /** What each `+` and `#` of the observed filter matched, in order (`#` gives the rest, levels joined by `/`). */
  readonly params: readonly string[]
  /** MQTT 5 properties, when the message carried any. */
  readonly properties?: MessageProperties
  /** Never true here: with `observe(filter, { cleared: true })` an empty payload is a {@link ClearedMessage}. */
  readonly cleared?: false
  /**
   * Observers with `ack: 'manual'`: the message is handled; its QoS 1/2 acknowledgement may go to the
   * broker (once every manual observer of it has acknowledged). Does nothing for other observers.
   */
  ack(): void
  /**
   * Observers with `ack: 'manual'`: the message could not be handled; it is not acknowledged, the connection
   * is closed and re-opened, and a persistent session gets it again. Does nothing for other observers.
   */
  nack(reason?: unknown): void
}

/**
 * An empty payload, as delivered to an observer of `observe(filter, { cleared: true })`: MQTT's way of clearing a
 * topic's retained value (a retained publish with an empty payload), which the broker forwards to subscribers.
 * The codec did not run; `payload` is `undefined` and `raw` the empty bytes. `if (m.cleared)` tells it from a
 * `Message<T>`.
 *
 * @example
 * ```ts
 * client.observe<{ celsius: number }>('rooms/+/temp', { codec: 'json', cleared: true }).subscribe((m) => {
 *   if (m.cleared) remove(m.topic)
 *   else render(m.topic, m.payload.celsius)
 * })
 * ```
 */
export interface ClearedMessage extends Omit<Message<undefined>, 'cleared'> {
  /** Always `true`: what tells a cleared value from a `Message<T>` in an observer of `{ cleared: true }`. */
  readonly cleared: true
}
