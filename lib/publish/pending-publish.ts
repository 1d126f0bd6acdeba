import type { LinkAckError } from '../link/link.js'
import type { MessageProperties, QoS } from '../message.js'

/** What a pending publish reports back to its publisher; one object per client. */
export interface PublishHost {
  acked(publish: PendingPublish, error: LinkAckError | undefined): void
  expired(publish: PendingPublish, reason: 'timeout' | 'abort'): void
}

/**
 * One publish from `publish()` until it settles: its packet, where it is (queued, sent on which connection),
 * how often the broker closed the connection on it, and its promise. One object, with its acknowledgement
 * callback as its only function, instead of closures per call.
 */
export class PendingPublish {
  state: 'queued' | 'sent' | 'settled' = 'queued'
  packetId: number | undefined
  /** The connection it was last (re)sent on, and when. */
  epoch = 0
  sentAt = 0
  /** Connections the broker closed while this was the oldest unacknowledged publish on them. */
  strikes = 0
  /** A QoS 1/2 publish handed to the link and not settled: it takes one place of the broker's receive maximum. */
  inWindow = false
  timer: ReturnType<typeof setTimeout> | undefined
  /** QoS 1/2: its id in the outbox (`outbox$`, the store). */
  id: string | undefined
  /** When it expires (ms since the epoch): past it, it is never sent. */
  expiresAt: number | undefined
  /** A newer `collapse` publish to its topic replaces it while it is queued. */
  collapse = false
  /** Reported `queued`: with a store, its record is durable; a queued one not yet durable is not sent. */
  durable = true
  /** Its record was written to the store (or read from it): its end is written too. */
  recorded = false
  #resolve!: () => void
  #reject!: (error: Error) => void
  readonly promise: Promise<void>

  readonly #host: PublishHost

  constructor(
    host: PublishHost,
    readonly topic: string,
    readonly payload: Uint8Array | string,
    readonly qos: QoS,
    readonly retain: boolean,
    /** Set again as it is sent when it carries the time it has left (MQTT 5 Message Expiry Interval). */
    public properties: MessageProperties | undefined,
    readonly size: number,
    readonly signal: AbortSignal | undefined,
  ) {
    this.#host = host
    this.promise = new Promise<void>((resolve, reject) => {
      this.#resolve = resolve
      this.#reject = reject
    })
  }

  /** Gives up on the publish after `timeout` ms, or when its `signal` aborts. */
  watch(timeout: number | undefined): void {
    if (timeout !== undefined) this.timer = setTimeout(() => this.#host.expired(this, 'timeout'), timeout)
    this.signal?.addEventListener('abort', this, { once: true })
  }

  /** MQTT.js's callback for this publish. */
  readonly onAck = (error?: LinkAckError): void => this.#host.acked(this, error)

  /** The AbortSignal listener (an EventListener object, so no closure is made for it). */
  handleEvent(): void {
    this.#host.expired(this, 'abort')
  }

  settle(error?: Error): void {
    if (this.state === 'settled') return
    this.state = 'settled'
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.signal?.removeEventListener('abort', this)
    if (error) this.#reject(error)
    else this.#resolve()
  }
}
