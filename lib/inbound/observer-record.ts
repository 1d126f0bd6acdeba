import { config, type Observer, Subscription } from 'rxjs'
import type { BrokerSubscription, FilterObserver, IncomingMessage } from '../subscriptions/broker-subscription.js'
import { bytesCodec, type Codec } from '../codec.js'
import { DeliveredMessage } from './delivered-message.js'
import { DecodeError } from '../errors.js'
import type { Message, QoS } from '../message.js'
import type { AckHandle, PendingAck } from './pending-ack.js'

/** What an observer reports back to its client; one object per client, shared by all its observers. */
export interface ObserverHost {
  decodeFailed(error: DecodeError): void
  detach(observer: ObserverRecord<unknown>): void
}

/**
 * Where an observer's messages go: the app's `next` callback or partial observer, or an RxJS Subscriber
 * (an operator's, or one the app made), which handles its own errors.
 */
export type ObserverSink<T> = ((value: Message<T>) => void) | Partial<Observer<Message<T>>>

/**
 * The codec of an observer with `cleared: true`: `codec` itself (its prototype), marked, so that an empty payload
 * skips it and is delivered as a ClearedMessage. A mark on the codec rather than a field, so that the record of
 * an idle filter stays as small as it was.
 *
 * @example
 * ```ts
 * new ObserverRecord(host, sink, 0, keepCleared(jsonCodec), false)
 * ```
 */
export function keepCleared<T>(codec: Codec<T>): Codec<T> {
  return Object.assign(Object.create(codec) as Codec<T>, { cleared: true })
}

/**
 * One `subscribe()` to an `observe()` Observable: decodes for its sink, and is the Subscription the app holds
 * (or, under an operator, the teardown of the operator's Subscriber). One object in place of RxJS's four
 * (Subscriber, its ConsumerObserver, the partial observer around a callback, and a 17-slot finalizer array:
 * 336 B a filter), because an app may observe ten thousand filters.
 */
export class ObserverRecord<T> extends Subscription implements FilterObserver {
  subscription: BrokerSubscription | undefined
  /** Manual acknowledgement: the messages handed out and not yet acknowledged (present only then). */
  #holding: Set<AckHandle> | undefined
  #sink: ObserverSink<T> | undefined

  readonly #host: ObserverHost
  readonly #codec: Codec<T>

  constructor(
    host: ObserverHost,
    sink: ObserverSink<T>,
    readonly qos: QoS,
    codec: Codec<T>,
    manual: boolean,
  ) {
    super()
    this.#host = host
    this.#sink = sink
    this.#codec = codec
    if (manual) this.#holding = new Set()
  }

  /** Whether this observer acknowledges its messages by hand. */
  get manual(): boolean {
    return this.#holding !== undefined
  }

  next(message: IncomingMessage, subscription: BrokerSubscription, ack: PendingAck | undefined): void {
    const sink = this.#sink
    if (!sink) return
    const codec = this.#codec
    let payload: T
    let cleared = false
    if (codec === (bytesCodec as Codec<unknown>)) {
      payload = message.payload as T
    } else if (message.payload.length === 0 && (codec as { cleared?: true }).cleared) {
      cleared = true
      payload = undefined as T
    } else {
      try {
        payload = codec.decode(message.payload)
      } catch (error) {
        this.#host.decodeFailed(new DecodeError(message.topic, message.payload, error))
        return
      }
    }
    const delivered = new DeliveredMessage(message, payload, subscription.levels, this.#holding ? this.#hold(ack) : undefined, cleared)
    try {
      if (typeof sink === 'function') sink(delivered)
      else sink.next?.(delivered)
    } catch (error) {
      report(error)
    }
  }

  /** Takes a share of a message's acknowledgement, remembered until this observer acknowledges it. */
  #hold(ack: PendingAck | undefined): AckHandle | undefined {
    const handle = ack?.hold()
    const holding = this.#holding
    if (!handle || !holding) return undefined
    holding.add(handle)
    return {
      ack: () => {
        holding.delete(handle)
        handle.ack()
      },
      nack: (reason) => {
        holding.delete(handle)
        handle.nack(reason)
      },
    }
  }

  error(error: Error): void {
    // As RxJS does: an error nobody handles is thrown, outside the library's stack.
    this.#stop((sink) => (typeof sink === 'function' || !sink.error ? report(error) : sink.error(error)))
  }

  /**
   * The client ended: messages the app still holds stay unacknowledged (its `ack()` may still send them while
   * the connection lasts), so that a resumed session has the broker deliver them again.
   */
  complete(): void {
    this.#holding?.clear()
    this.#stop((sink) => typeof sink !== 'function' && sink.complete?.())
  }

  /**
   * The app (or the operator's Subscriber) left: messages this observer still held are acknowledged for it,
   * since it no longer wants them and an acknowledgement never given would stop the connection for good.
   */
  override unsubscribe(): void {
    if (this.closed) return
    this.#sink = undefined
    const holding = this.#holding
    if (holding) for (const handle of [...holding]) handle.ack()
    holding?.clear()
    try {
      super.unsubscribe()
    } finally {
      // Even when a teardown the app added throws (RxJS's UnsubscriptionError, after running the others).
      this.#host.detach(this as ObserverRecord<unknown>)
    }
  }

  /** The stream ended: the sink is told (once, if it has not left), then this observer closes, as in RxJS. */
  #stop(notify: (sink: ObserverSink<T>) => void): void {
    const sink = this.#sink
    if (!sink) return
    this.#sink = undefined
    try {
      notify(sink)
    } catch (error) {
      report(error)
    }
    try {
      this.unsubscribe()
    } catch (error) {
      // A teardown the app added threw (RxJS's UnsubscriptionError): reported like the sink's own errors, never
      // thrown into end(), the registry's loop over the other observers or the link's event.
      report(error)
    }
  }
}

/** An app's callback threw: reported as RxJS reports it, on a timer (its `config.onUnhandledError`, else thrown). */
function report(error: unknown): void {
  setTimeout(() => {
    if (config.onUnhandledError) config.onUnhandledError(error)
    else throw error
  })
}
