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
  payloadFormatIndicator?: boolean
  messageExpiryInterval?: number
  contentType?: string
  responseTopic?: string
  correlationData?: Uint8Array
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
 *   render(room, m.payload.celsius, m.retain ? 'stored' : 'live')
 * })
 * ```
 */
export interface Message<T = Uint8Array> {
  readonly topic: string
  /** The payload decoded by the observer's codec. */
  readonly payload: T
  /** The payload bytes as received. */
  readonly raw: Uint8Array
  readonly qos: QoS
  /**
   * True for the broker's stored (retained) value of the topic: sent on subscribe, replayed to a late
   * observer from the client's cache, or (MQTT 5) a live publish made with the retain flag.
   */
  readonly retain: boolean
  /** What each `+` and `#` of the observed filter matched, in order (`#` gives the rest, levels joined by `/`). */
  readonly params: readonly string[]
  /** MQTT 5 properties, when the message carried any. */
  readonly properties?: MessageProperties
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
